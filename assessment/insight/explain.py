"""Explain one unit's color: reasons, dimension scores, lost points and the path to the next grade.

Everything is read from the arrays that made the decision (``PeriodScores``); the only new
computation is the path to the next grade, done vectorised by ``closing_moves`` for any rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .compiled import CompiledRules
from .engine import Assessment
from .grades import GRADE_KEYS, MISSING_LABEL, Grade
from .methods import METHOD_REGISTRY, score_indicator
from .plans import Plan, improvement_plan, safe_round
from .reasons import lowerings
from .rules import RELATIVE
from .scoring import MISSING, PeriodScores

TOLERANCE = 1e-9
MARGIN = 1e-7  # aim a hair above the band edge so floating point cannot land just below it
SHOWN_CANDIDATES = 5


@dataclass(frozen=True)
class Reason:
    kind: str  # veto | floor | escalation | missing
    id: str
    name: str
    cap: str  # grade key the rule holds the unit to
    detail: str
    basis: str = ""


@dataclass(frozen=True)
class DimensionLine:
    id: str
    name: str
    depth: int
    score: float
    weight: float  # effective share of the total
    floor: float | None
    below_floor: bool


@dataclass(frozen=True)
class IndicatorLine:
    id: str
    name: str
    dimension: str
    unit: str
    raw: float
    score: float
    weight: float  # effective share of the total (0 when N/A)
    contribution: float  # weight x score
    lost: float  # weight x (100 - score)
    status: str  # scored | empty | not_applicable | zero_denominator | zero_filled


@dataclass(frozen=True)
class Candidate:
    indicator: str
    name: str
    raw_now: float
    raw_needed: float
    score_now: float
    score_needed: float
    strictly: bool  # the value must be passed, not just reached (percentile)
    lower_is_better: bool


@dataclass(frozen=True)
class NextGrade:
    target: str | None  # grade key, None when already green or held down
    points_needed: float
    held_by: tuple[Reason, ...]
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class UnitExplanation:
    unit_code: str
    unit_name: str
    unit_type: str
    period: str
    score: float
    grade: str | None
    grade_label: str
    score_grade: str | None
    reasons: tuple[Reason, ...]
    vetoes_triggered: tuple[str, ...]
    dimensions: tuple[DimensionLine, ...]
    indicators: tuple[IndicatorLine, ...]  # worst first: most lost points first
    next_grade: NextGrade
    plan: Plan | None = None  # several indicators together, when one alone is not enough

    @property
    def floors_breached(self) -> tuple[DimensionLine, ...]:
        """Dimensions under their floor, whether or not the floor lowered the grade."""
        return tuple(d for d in self.dimensions if d.below_floor)

    def render(self) -> str:
        return render_explanation(self)


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


# ---- words ----------------------------------------------------------------------------------


def _num(x: float) -> str:
    """A raw value for people: at most two decimals, no trailing zeros."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _g(x: float, digits: int = 1) -> str:
    return "—" if x is None or np.isnan(x) else f"{x:.{digits}f}"


def _grade_text(key: str | None, label: str = "") -> str:
    if key is None:
        return MISSING_LABEL
    g = Grade.from_key(key)
    return f"{g.color_name}·{label or g.label}"


STATUS_TEXT = {
    "empty": "空值,不计分",
    "not_applicable": "不适用于此类单位",
    "zero_denominator_or_empty": "分母为0或空值,不计分",
    "zero_filled": "空值,按0分计",
}


NO_REASON = "等级由总分决定,没有否决、底线或连续预警降级。"


def reason_line(r: Reason) -> str:
    """One lowering rule in words, once, with its policy basis."""
    basis = f"(依据: {r.basis})" if r.basis else ""
    detail = f": {r.detail}" if r.detail and r.detail != r.name else ""
    cap = f"降为{_grade_text(r.cap)}" if r.kind == "escalation" else f"至多{_grade_text(r.cap)}"
    return f"{r.name}{detail} → {cap}{basis}"


def plan_headline(plan: Plan) -> str:
    """What the combined plan achieves, proved by re-grading."""
    n = len(plan.moves)
    if plan.blocked_by and plan.reaches:
        also = f",并同时改进以下 {n} 项指标" if n else ""
        return (
            f"须先消除否决项“{'、'.join(plan.blocked_by)}”{also}:"
            f"按规则重新评定为 {plan.score_after:.2f} 分 → {_grade_text(plan.grade_after)}。"
        )
    if not plan.reaches:
        return f"改进以下 {n} 项指标后仍达不到 {_grade_text(plan.target)}。"
    return (
        f"组合方案: 同时改进以下 {n} 项指标,按规则重新评定为 {plan.score_after:.2f} 分 → "
        f"{_grade_text(plan.grade_after)}。"
    )


def plan_lines(plan: Plan) -> list[str]:
    why = {"floor": "补足维度底线", "points": "补足分数"}
    out = []
    for m in plan.moves:
        now = "空" if np.isnan(m.raw_now) else _num(m.raw_now)
        verb = "降到 ≤" if m.lower_is_better else "提高到 ≥"
        out.append(f"{m.name}: 由 {now} {verb} {_num(m.target)}({why.get(m.why, m.why)})")
    return out


def next_grade_headline(ng: NextGrade) -> str:
    """The first sentence of the path to the next grade."""
    if ng.held_by:
        names = "、".join(r.name for r in ng.held_by)
        return f"受“{names}”限制,仅提高分数不能改变等级,须先消除该问题。"
    if ng.target is None:
        return "已是最高等级。"
    return f"距 {_grade_text(ng.target)} 还差 {ng.points_needed:.2f} 分。" + (
        "单项即可补足的指标:" if ng.candidates else "没有单项指标能独自补足,组合方案见下。"
    )


def render_explanation(e: UnitExplanation) -> str:
    lines = [
        f"{e.unit_name}({e.unit_code},{e.unit_type}){e.period}: "
        f"{_g(e.score)} 分 → {_grade_text(e.grade, e.grade_label)}"
    ]
    if e.grade is None:
        lines.append(f"原因: {e.reasons[0].detail}" if e.reasons else "原因: 数据不全")
        return "\n".join(lines)
    if e.reasons:
        lines.append(f"按分数应为 {_grade_text(e.score_grade)},被以下规则降级:")
        lines += [f"  - {reason_line(r)}" for r in e.reasons]
    else:
        lines.append(NO_REASON)
    if e.vetoes_triggered and not any(r.kind == "veto" for r in e.reasons):
        lines.append(f"触发的否决项(未改变等级): {'、'.join(e.vetoes_triggered)}")
    quiet = [d for d in e.floors_breached if not any(r.id == d.id for r in e.reasons)]
    if quiet:
        names = "、".join(f"{d.name} {_g(d.score)} < {d.floor:g}" for d in quiet)
        lines.append(f"低于底线的维度(按分数已不高于底线所限等级,未再降级): {names}")
    lines.append("维度得分:")
    for d in e.dimensions:
        floor = f",底线 {d.floor:g}" if d.floor is not None else ""
        mark = " ⚠ 低于底线" if d.below_floor else ""
        lines.append(
            f"  {'  ' * d.depth}{d.name}: {_g(d.score)}(占总分权重 {d.weight:.1%}{floor}){mark}"
        )
    lines.append("指标(失分从多到少):")
    for k, ind in enumerate(e.indicators, 1):
        raw = "空" if np.isnan(ind.raw) else f"{_num(ind.raw)}{ind.unit}"
        if ind.status in ("scored", "zero_filled") and ind.weight > 0:
            lines.append(
                f"  {k}. {ind.name}: 原始值 {raw},得分 {_g(ind.score)},"
                f"权重 {ind.weight:.1%},失分 {ind.lost:.2f}"
            )
        else:
            lines.append(f"  {k}. {ind.name}: {STATUS_TEXT.get(ind.status, ind.status)}")
    ng = e.next_grade
    lines.append(f"提升等级: {next_grade_headline(ng)}")
    if ng.target is not None:
        for cand in ng.candidates[:SHOWN_CANDIDATES]:
            verb = "降到" if cand.lower_is_better else "提高到"
            cmp = (
                ("<" if cand.lower_is_better else ">")
                if cand.strictly
                else ("≤" if cand.lower_is_better else "≥")
            )
            now = "空" if np.isnan(cand.raw_now) else _num(cand.raw_now)
            needed = _num(safe_round(cand.raw_needed, cand.lower_is_better))
            lines.append(
                f"  - {cand.name}: 由 {now} {verb} {cmp} {needed}"
                f"(得分 {cand.score_now:.1f} → {cand.score_needed:.1f})"
            )
        if len(ng.candidates) > SHOWN_CANDIDATES:
            lines.append(f"  …另有 {len(ng.candidates) - SHOWN_CANDIDATES} 项指标也可单独补足")
    if e.plan is not None and not ng.candidates and (e.plan.moves or e.plan.blocked_by):
        lines.append(plan_headline(e.plan))
        lines += [f"  - {line}" for line in plan_lines(e.plan)]
    return "\n".join(lines)


def explanation_json(e: UnitExplanation) -> dict:
    """The explanation as plain data (``fivecolor explain --json``): no NaN, ids and names.

    ``plan`` lists ``{indicator, value, target}`` (raw value now, raw value to reach) whose
    targets together reach ``next_grade``, proved by re-grading; ``requires`` names the vetoes
    that must be dealt with first."""

    def num(x: float | None) -> float | None:
        return None if x is None or np.isnan(x) else round(float(x), 4)

    plan = e.plan
    return {
        "unit_code": e.unit_code,
        "unit_name": e.unit_name,
        "period": e.period,
        "score": num(e.score),
        "grade": e.grade,
        "grade_label": e.grade_label,
        "score_grade": e.score_grade,
        "reasons": [
            {"kind": r.kind, "name": r.name, "detail": r.detail, "cap": r.cap} for r in e.reasons
        ],
        "next_grade": plan.target if plan else None,
        "plan": [
            {
                "indicator": m.indicator,
                "name": m.name,
                "value": num(m.raw_now),
                "target": num(m.target),
                "direction": "lower" if m.lower_is_better else "higher",
                "why": m.why,
            }
            for m in (plan.moves if plan else ())
        ],
        "requires": list(plan.blocked_by) if plan else [],
        "plan_reaches": bool(plan.reaches) if plan else None,
        "score_after": num(plan.score_after) if plan else None,
        "grade_after": plan.grade_after if plan else None,
        "indicators": [
            {
                "indicator": x.id,
                "name": x.name,
                "value": num(x.raw),
                "score": num(x.score),
                "weight": num(x.weight),
                "lost": num(x.lost),
            }
            for x in e.indicators
        ],
    }
