"""How sure each grade is: every unit graded under many plausible weight sets at once.

The weights of a rule set are a judgement; a unit whose color flips when they move a little
deserves a second look before its grade is final. ``stability`` draws N weight sets (each
dimension and indicator weight times a factor uniform in 1 ± spread; weights are relative, so
each level renormalises itself), optionally moves the band edges by up to ± ``band_shift``
points, and grades every unit under every draw with matrix operations: per dimension, one
(units x children) @ (children x draws) product, never a loop over units or draws. Vetoes,
floors and escalation apply in every draw (a vetoed red stays red; the months before are facts).

``weight_sensitivity`` moves one weight at a time by ± spread and counts the units that change
color: which weights the grades lean on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..grading.engine import Assessment
from ..grading.scoring import MISSING, PeriodScores, runs_before
from ..rules.compiled import CompiledRules, children_of
from ..rules.grades import GRADE_KEYS

THRESHOLD = 0.8  # below this share of draws keeping the grade a unit is 边界单位
CHUNK = 128  # draws graded together (memory: units x CHUNK per dimension)


def stability(
    a: Assessment,
    period: str,
    draws: int = 1000,
    spread: float = 0.25,
    band_shift: float = 0.0,
    seed: int = 0,
    codes: list[str] | None = None,
) -> pd.DataFrame:
    """Per unit of ``period`` (of ``codes`` only, when given: a unit's result does not depend
    on which others are computed with it): its grade, the share of draws that keep it
    (``stability``) and the share for each grade (``p_green`` … ``p_red``); NaN where the unit
    has no grade."""
    c, p = a.compiled, a.periods[period]
    rows = (
        np.arange(len(p.codes))
        if codes is None
        else np.flatnonzero(pd.Index(np.asarray(p.codes, dtype=object)).isin(codes))
    )
    rng = np.random.default_rng(seed)
    counts = np.zeros((len(rows), len(GRADE_KEYS)), dtype=np.int64)
    done = 0
    while done < draws:
        n = min(CHUNK, draws - done)
        ind_w = c.ind_weight[None, :] * rng.uniform(1 - spread, 1 + spread, (n, len(c.ind_weight)))
        dim_w = c.dim_weight[None, :] * rng.uniform(1 - spread, 1 + spread, (n, len(c.dim_weight)))
        edges = np.sort(
            c.min_scores[None, :] + rng.uniform(-band_shift, band_shift, (n, len(c.min_scores))),
            axis=1,
        )[:, ::-1]  # still from green down to orange
        ranks = grade_under(a, p, ind_w, dim_w, edges, rows)
        for r in range(len(GRADE_KEYS)):
            counts[:, r] += (ranks == r).sum(axis=1)
        done += n
    share = counts / draws
    actual = p.rank.astype(np.int64)[rows]
    graded = actual != MISSING
    keep = np.where(graded, share[np.arange(len(actual)), np.clip(actual, 0, None)], np.nan)
    out = pd.DataFrame(
        {
            "unit_code": np.asarray(p.codes, dtype=object)[rows],
            "period": period,
            "grade": np.where(graded, np.array(GRADE_KEYS, dtype=object)[actual], ""),
            "stability": keep,
        }
    )
    for r, key in enumerate(GRADE_KEYS):
        out[f"p_{key}"] = np.where(graded, share[:, r], np.nan)
    out["borderline"] = out["stability"] < THRESHOLD
    return out


def weight_sensitivity(a: Assessment, period: str, spread: float = 0.25) -> pd.DataFrame:
    """Per dimension and indicator: how many units change color when that weight alone is
    raised or lowered by ``spread``, most first."""
    c, p = a.compiled, a.periods[period]
    items = [("dimension", k, d.id, d.name) for k, d in enumerate(c.dimensions)]
    items += [("indicator", k, i.id, i.name) for k, i in enumerate(c.indicators)]
    n = 2 * len(items)
    ind_w = np.repeat(c.ind_weight[None, :], n, axis=0)
    dim_w = np.repeat(c.dim_weight[None, :], n, axis=0)
    for row, (kind, k, _, _) in enumerate(items):
        target = dim_w if kind == "dimension" else ind_w
        target[2 * row, k] *= 1 + spread
        target[2 * row + 1, k] *= 1 - spread
    edges = np.repeat(c.min_scores[None, :], n, axis=0)
    actual = p.rank.astype(np.int64)[:, None]
    moved = np.zeros((len(p.codes), n), dtype=bool)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        ranks = grade_under(a, p, ind_w[start:stop], dim_w[start:stop], edges[start:stop])
        moved[:, start:stop] = (ranks != actual) & (actual != MISSING)
    up, down = moved[:, 0::2].sum(axis=0), moved[:, 1::2].sum(axis=0)
    out = pd.DataFrame(
        {
            "kind": [i[0] for i in items],
            "id": [i[2] for i in items],
            "name": [i[3] for i in items],
            "changed_up": up,
            "changed_down": down,
        }
    )
    out["changed"] = out["changed_up"] + out["changed_down"]
    return out.sort_values("changed", ascending=False, kind="stable", ignore_index=True)


def grade_under(
    a: Assessment,
    p: PeriodScores,
    ind_w: np.ndarray,
    dim_w: np.ndarray,
    edges: np.ndarray,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Ranks (units x draws) of ``p``'s units (those at ``rows``, default all) under each
    draw's indicator weights (draws x indicators), dimension weights (draws x dimensions) and
    band edges (draws x 4). The scores are fixed, so each unit is graded on its own row."""
    c = a.compiled
    rows = np.arange(len(p.codes)) if rows is None else rows
    dims = _dimension_scores(c, p.scores[rows], ind_w, dim_w)  # dimensions x units x draws
    top = np.flatnonzero(c.dim_parent < 0)
    total = _mean(dims[top], dim_w[:, top])
    with np.errstate(invalid="ignore"):
        rank = (total[:, :, None] < edges[None, :, :]).sum(axis=2)
    rank = np.where(np.isnan(total), MISSING, rank)
    graded = rank != MISSING
    for v, veto in enumerate(c.rules.vetoes):  # weights do not move what a veto looks at
        hit = p.veto_hits[rows, v][:, None] & graded
        rank = np.where(hit, np.maximum(rank, GRADE_KEYS.index(veto.cap)), rank)
    for d, dim in enumerate(c.dimensions):
        if dim.floor is not None:
            with np.errstate(invalid="ignore"):
                hit = (dims[d] < dim.floor.min_score) & graded
            rank = np.where(hit, np.maximum(rank, GRADE_KEYS.index(dim.floor.cap)), rank)
    for rule in c.rules.escalation:
        color = GRADE_KEYS.index(rule.color)
        run = runs_before(a.periods, p.period, color)[rows][:, None]
        hit = graded & (rank >= color) & (run + 1 >= rule.months)
        rank = np.where(hit, np.maximum(rank, GRADE_KEYS.index(rule.to)), rank)
    return rank


def _dimension_scores(
    c: CompiledRules, scores: np.ndarray, ind_w: np.ndarray, dim_w: np.ndarray
) -> np.ndarray:
    """Every dimension's score (dimensions x units x draws), bottom-up, as the engine's
    weighted means over the children that have a score."""
    ind_children, dim_children = children_of(c)
    out = np.empty((len(c.dimensions), scores.shape[0], ind_w.shape[0]))
    for d in range(len(c.dimensions) - 1, -1, -1):
        if len(ind_children[d]):
            cols = ind_children[d]
            block = scores[:, cols]
            present = ~np.isnan(block)
            w = ind_w[:, cols].T  # children x draws
            num = np.where(present, block, 0.0) @ w
            den = present @ w
        else:
            cols = dim_children[d]
            child = out[cols]  # children x units x draws
            present = ~np.isnan(child)
            w = dim_w[:, cols].T[:, None, :]
            num = (np.where(present, child, 0.0) * w).sum(axis=0)
            den = (present * w).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[d] = np.where(den > 0, num / den, np.nan)
    return out


def _mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over the first axis of ``values`` (children x units x draws) with draws'
    weights (draws x children), over the children that have a value."""
    present = ~np.isnan(values)
    w = weights.T[:, None, :]
    num = (np.where(present, values, 0.0) * w).sum(axis=0)
    den = (present * w).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)
