"""What an explanation holds (the records ``explain`` fills) and the same in words: the CLI's
``explain``, the unit page and the briefing read their sentences from here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules.grades import MISSING_LABEL, Grade
from .plans import Plan, safe_round

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
    "no_events": "本月没有可计算的事件,不计分",
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
