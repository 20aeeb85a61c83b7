"""Grades for parent units (街道/乡镇, 区县) from their children, by the rule set's ``rollup``:
``mean`` of the graded children's scores then the same bands, or the ``worst`` child color."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..rules.grades import GRADE_KEYS, MISSING_LABEL


def code_index(registry: pd.DataFrame) -> pd.Index:
    """The registry's codes as a hash index: a code's row position in one lookup."""
    return pd.Index(registry["unit_code"].to_numpy(dtype=object))


def parent_positions(registry: pd.DataFrame, index: pd.Index | None = None) -> np.ndarray:
    """Each unit's parent as a row position in ``registry`` (-1 for a root or an unknown
    parent): one hash lookup for the whole tree."""
    index = code_index(registry) if index is None else index
    return index.get_indexer(registry["parent_code"].to_numpy(dtype=object))


def unit_depths(registry: pd.DataFrame, parent: np.ndarray | None = None) -> pd.Series:
    """Depth of each unit in the registry tree (the root is 0): one array step per level,
    for the whole tree at once (the registry refuses loops, so every walk ends)."""
    parent = parent_positions(registry) if parent is None else parent
    depth = np.zeros(len(parent), int)
    at = parent.copy()
    alive = at >= 0
    for _ in range(len(parent)):
        if not alive.any():
            break
        depth += alive
        at = np.where(alive, parent[np.maximum(at, 0)], at)
        alive &= at >= 0
    return pd.Series(depth, index=registry.index)


def rollup(
    graded: pd.DataFrame,
    registry: pd.DataFrame,
    method: str,
    min_scores: list[float],
    labels: list[str],
    depths: pd.Series | None = None,
    parent: np.ndarray | None = None,
    index: pd.Index | None = None,
) -> pd.DataFrame:
    """Every parent unit above the graded ones, graded from its children, bottom-up.

    ``graded`` has unit_code, score and grade (a key, "" for 数据不全). Returns the parents with
    unit_code, unit_name, unit_type, parent_code, score, grade, grade_label, and the number of
    graded children per grade. ``depths`` and ``parent`` (row positions, see
    ``parent_positions``) save walking the tree again when the same registry is rolled up for
    many months (``index``: ``code_index``). One pass of array sums per depth (np.bincount over the parents' positions):
    the country's 620,000 villages roll up through four levels in a fraction of a second.
    """
    parent = parent_positions(registry) if parent is None else parent
    depth = (unit_depths(registry, parent) if depths is None else depths).to_numpy()
    n = len(registry)
    index = code_index(registry) if index is None else index
    at = index.get_indexer(graded["unit_code"].to_numpy(dtype=object))
    known_row = at >= 0
    rank_of = {k: i for i, k in enumerate(GRADE_KEYS)}
    score = np.full(n, np.nan)
    rank = np.full(n, -1)
    present = np.zeros(n, bool)
    score[at[known_row]] = graded["score"].to_numpy(dtype=float)[known_row]
    rank[at[known_row]] = (
        graded["grade"].astype(str).map(rank_of).fillna(-1).to_numpy(int)[known_row]
    )
    present[at[known_row]] = True
    counts = np.zeros((len(GRADE_KEYS) + 1, n), int)  # children per grade, then 数据不全
    made = np.zeros(n, bool)
    bands = np.array(min_scores, dtype=float)
    for d in range(int(depth[present].max(initial=0)), 0, -1):
        children = np.flatnonzero(present & (depth == d) & (parent >= 0))
        if not len(children):
            continue
        up = parent[children]
        good = rank[children] >= 0
        for r in range(len(GRADE_KEYS)):
            counts[r] += np.bincount(up[good & (rank[children] == r)], minlength=n)
        counts[-1] += np.bincount(up[~good], minlength=n)
        graded_n = np.bincount(up[good], minlength=n)
        total = np.bincount(up[good], weights=score[children][good], minlength=n)
        worst = np.full(n, -1)
        np.maximum.at(worst, up[good], rank[children][good])
        targets = np.unique(up)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(graded_n[targets] > 0, total[targets] / graded_n[targets], np.nan)
        score[targets] = mean
        if method == "worst":
            rank[targets] = worst[targets]
        else:
            rank[targets] = np.where(np.isnan(mean), -1, (mean[:, None] < bands).sum(1))
        present[targets] = True
        made[targets] = True
    rows = np.flatnonzero(made)
    if not len(rows):
        return pd.DataFrame(columns=["unit_code", "score", "grade", "grade_label"])
    keys = np.array([*GRADE_KEYS, ""], dtype=object)
    names = np.array([*labels, MISSING_LABEL], dtype=object)
    out = pd.DataFrame(
        {
            "unit_code": registry["unit_code"].to_numpy(dtype=object)[rows],
            "score": score[rows],
            "rank": rank[rows],
            **{f"n_{k}": counts[r][rows] for r, k in enumerate(GRADE_KEYS)},
            "n_missing": counts[-1][rows],
            "parent_code": registry["parent_code"].to_numpy(dtype=object)[rows],
            "grade": keys[rank[rows]],
            "grade_label": names[rank[rows]],
            "unit_name": registry["unit_name"].to_numpy(dtype=object)[rows],
            "unit_type": registry["unit_type"].to_numpy(dtype=object)[rows],
        }
    )
    return out.sort_values("unit_code", ignore_index=True)
