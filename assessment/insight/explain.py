"""Explain one unit's color: reasons, dimension scores, lost points and the path to the next grade.

Everything is read from the arrays that made the decision (``PeriodScores``); the only new
computation is the path to the next grade, done vectorised by ``closing_moves`` for any rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..grading.engine import Assessment
from ..grading.reasons import lowerings
from ..grading.scoring import MISSING, PeriodScores
from ..rules.compiled import CompiledRules
from ..rules.grades import GRADE_KEYS, MISSING_LABEL
from ..rules.methods import METHOD_REGISTRY, score_indicator
from ..rules.models import RELATIVE
from .explanation import Candidate, DimensionLine, IndicatorLine, NextGrade, Reason, UnitExplanation
from .plans import improvement_plan

TOLERANCE = 1e-9
MARGIN = 1e-7  # aim a hair above the band edge so floating point cannot land just below it


def explain(assessment: Assessment, unit_code: str, period: str) -> UnitExplanation:
    p = assessment.periods[period]
    hits = np.flatnonzero(p.codes == unit_code)
    if len(hits) == 0:
        raise KeyError(f"unit {unit_code} is not graded by rule set {assessment.rules.id}")
    i = int(hits[0])
    c = assessment.compiled
    unit = assessment.units.iloc[i]
    reasons = unit_reasons(c, p, i)
    rank = int(p.rank[i])
    return UnitExplanation(
        unit_code=unit_code,
        unit_name=str(unit["unit_name"]),
        unit_type=str(unit["unit_type"]),
        period=period,
        score=float(p.total[i]),
        grade=GRADE_KEYS[rank] if rank != MISSING else None,
        grade_label=c.label(rank) if rank != MISSING else MISSING_LABEL,
        score_grade=GRADE_KEYS[p.base_rank[i]] if p.base_rank[i] != MISSING else None,
        reasons=reasons,
        vetoes_triggered=tuple(v.name for k, v in enumerate(c.rules.vetoes) if p.veto_hits[i, k]),
        dimensions=_dimension_lines(c, p, i),
        indicators=_indicator_lines(c, p, i),
        next_grade=_next_grade(c, p, i, reasons),
        plan=improvement_plan(assessment, unit_code, period),
    )


def unit_reasons(c: CompiledRules, p: PeriodScores, i: int) -> tuple[Reason, ...]:
    """The rules that lowered unit i's grade below what its score gives."""
    base = int(p.base_rank[i])
    if base == MISSING:
        detail = "本月未上报" if not p.reported[i] else "没有可评分的指标"
        return (Reason("missing", "missing", MISSING_LABEL, "", detail),)
    out: list[Reason] = []
    for lowering in lowerings(c, p, np.array([i])):
        if not lowering.mask[0]:
            continue
        if lowering.kind == "veto":
            veto = c.rules.vetoes[lowering.index]
            value = p.veto_values[i, lowering.index]
            shown = "空" if np.isnan(value) else f"{value:g}"
            detail = f"{column_name(c, veto.column)} {shown} {veto.op} {veto.value:g}"
            out.append(Reason("veto", veto.id, veto.name, veto.cap, detail, veto.basis or ""))
        elif lowering.kind == "floor":
            dim = c.dimensions[lowering.index]
            detail = f"{dim.name} {p.dim_scores[i, lowering.index]:.1f} < {dim.floor.min_score:g}"
            out.append(Reason("floor", dim.id, f"{dim.name}底线", dim.floor.cap, detail))
        else:
            e, rule = lowering.index, c.rules.escalation[lowering.index]
            name = f"连续{rule.months}个月{c.label(GRADE_KEYS.index(rule.color))}或更差"
            detail = f"本月按分数和底线为{c.label(int(p.capped_rank[i]))},已连续{rule.months}个月"
            out.append(Reason("escalation", f"escalation[{e}]", name, rule.to, detail))
    return tuple(out)


def column_name(c: CompiledRules, column: str) -> str:
    """What the rule set calls a column (an indicator or an input), in Chinese."""
    j = c.ind_index.get(column)
    if j is not None:
        return c.indicators[j].name
    return next((x.name for x in c.rules.inputs if x.id == column and x.name), column)


def _dimension_lines(c: CompiledRules, p: PeriodScores, i: int) -> tuple[DimensionLine, ...]:
    ind_w = p.weights[i]
    lines = []
    for d, dim in enumerate(c.dimensions):
        below = bool(p.floor_hits[i, d])
        weight = _dimension_weight(c, ind_w, d)
        floor = dim.floor.min_score if dim.floor else None
        lines.append(
            DimensionLine(
                dim.id,
                dim.name,
                int(c.dim_depth[d]),
                float(p.dim_scores[i, d]),
                weight,
                floor,
                below,
            )
        )
    return tuple(lines)


def _dimension_weight(c: CompiledRules, ind_w: np.ndarray, d: int) -> float:
    """A dimension's share of the total: the sum of its indicators' effective weights."""
    inside = np.zeros(len(c.dimensions), dtype=bool)
    inside[d] = True
    for k in range(d + 1, len(c.dimensions)):  # descendants follow their ancestor
        if c.dim_parent[k] >= 0 and inside[c.dim_parent[k]]:
            inside[k] = True
    return float(ind_w[inside[c.ind_parent]].sum())


def _indicator_lines(c: CompiledRules, p: PeriodScores, i: int) -> tuple[IndicatorLine, ...]:
    lines = []
    lost = p.lost[i]
    for j, ind in enumerate(c.indicators):
        raw, score, w = float(p.raw[i, j]), float(p.scores[i, j]), float(p.weights[i, j])
        if not p.applicable[i, j]:
            status = "not_applicable"
        elif np.isnan(raw):
            status = "zero_filled" if not np.isnan(score) else "empty"
            if ind.rate is not None and status == "empty":
                status = "zero_denominator_or_empty"
            elif ind.derive is not None and status == "empty":
                status = "no_events"
        else:
            status = "scored"
        lines.append(
            IndicatorLine(
                id=ind.id,
                name=ind.name,
                dimension=c.dimensions[c.ind_parent[j]].id,
                unit=ind.unit or "",
                raw=raw,
                score=score,
                weight=w,
                contribution=w * score if w > 0 else 0.0,
                lost=float(lost[j]),
                status=status,
            )
        )
    order = sorted(range(len(lines)), key=lambda j: (-lines[j].lost, j))
    return tuple(lines[j] for j in order)


def closing_moves(
    c: CompiledRules, p: PeriodScores, rows: np.ndarray | None = None
) -> pd.DataFrame:
    """For the given rows (all by default): each single indicator that could lift the unit to the
    next better grade alone, with the score and raw value it would need. Vectorised over rows.

    Only units whose grade is their score's grade are considered (a veto, floor or escalation
    holds the others down whatever their score); green units have nowhere to go.
    """
    rows = np.arange(len(p.codes)) if rows is None else np.asarray(rows)
    base = p.base_rank[rows].astype(np.int64)
    free = (p.rank[rows] == p.base_rank[rows]) & (base > 0)
    ms = np.append(c.min_scores, np.nan)
    points = np.where(free, ms[np.clip(base - 1, 0, 3)] - p.total[rows], np.nan)
    frames = []
    for j, ind in enumerate(c.indicators):
        w, s = p.weights[rows, j], p.scores[rows, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            need = s + (points + MARGIN) / w
        ok = free & (w > 0) & ~np.isnan(s) & (need <= 100.0 + TOLERANCE)
        if not ok.any():
            continue
        need = np.minimum(need, 100.0)
        method = METHOD_REGISTRY[ind.scoring.method]
        raw_needed = method.invert(ind, p.raw[:, j], rows[ok], need[ok])
        keep = ~np.isnan(raw_needed)
        idx = rows[ok][keep]
        reached = need[ok][keep]
        if ind.scoring.method not in RELATIVE:  # the score that value really gives
            reached = score_indicator(ind, raw_needed[keep])
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": p.codes[idx],
                    "indicator": ind.id,
                    "raw_now": p.raw[idx, j],
                    "raw_needed": raw_needed[keep],
                    "score_now": s[ok][keep],
                    "score_needed": reached,
                    "strictly": method.strictly_above,
                    "lower_is_better": ind.effective_direction == "lower",
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["unit_code", "indicator", "raw_now", "raw_needed"])
    out = pd.concat(frames, ignore_index=True)
    out["gain"] = out["score_needed"] - out["score_now"]
    out = out.sort_values(["unit_code", "gain"], kind="stable", ignore_index=True)
    return out.drop(columns="gain")


def _next_grade(
    c: CompiledRules, p: PeriodScores, i: int, reasons: tuple[Reason, ...]
) -> NextGrade:
    base, rank = int(p.base_rank[i]), int(p.rank[i])
    if rank == MISSING:
        return NextGrade(None, float("nan"), reasons, ())
    if rank > base:
        return NextGrade(None, float("nan"), reasons, ())
    if base == 0:
        return NextGrade(None, 0.0, (), ())
    target = GRADE_KEYS[base - 1]
    points = float(c.min_scores[base - 1] - p.total[i])
    moves = closing_moves(c, p, np.array([i]))
    cands = tuple(
        Candidate(
            indicator=r.indicator,
            name=c.indicators[c.ind_index[r.indicator]].name,
            raw_now=float(r.raw_now),
            raw_needed=float(r.raw_needed),
            score_now=float(r.score_now),
            score_needed=float(r.score_needed),
            strictly=bool(r.strictly),
            lower_is_better=bool(r.lower_is_better),
        )
        for r in moves.itertuples()
    )
    return NextGrade(target, points, (), cands)
