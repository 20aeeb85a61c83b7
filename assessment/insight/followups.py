"""Suggested follow-ups (处理意见): every follow-up rule whose `when` matches a graded unit.

Matching is vectorised per rule; only the matched units' action texts are formatted. A suggestion
becomes a tracked task only when a person confirms it (the store does that).
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd

from ..grading.engine import Assessment
from ..grading.scoring import MISSING, PeriodScores, month_index, next_period
from ..rules.grades import GRADE_KEYS, MISSING_LABEL
from ..rules.models import FollowUp

COLUMNS = [
    "unit_code",
    "unit_name",
    "period",
    "grade",
    "grade_label",
    "source",
    "action",
    "owner",
    "due_date",
    "due_days",
    "basis",
]


def suggest(assessment: Assessment, period: str, today: dt.date | None = None) -> pd.DataFrame:
    """One row per (unit, matching rule), in unit order then rule order. Deadlines count from
    ``today`` (the day a task would be set), not from the month's end: a task is never born
    overdue."""
    c = assessment.compiled
    periods = list(assessment.periods)
    p = assessment.periods[period]
    history = [assessment.periods[q] for q in periods[: periods.index(period) + 1]]
    frames = []
    for k, rule in enumerate(c.rules.follow_ups):
        mask, source, values, scores, names = _match(assessment, rule, p, history)
        basis = names.pop("basis")
        idx = np.flatnonzero(mask & (p.rank != MISSING))
        if len(idx) == 0:
            continue
        due = (today or dt.date.today()) + dt.timedelta(days=rule.due_days)
        units = assessment.units.iloc[idx]
        texts = [
            _format(
                rule.action,
                unit_name=units["unit_name"].iat[n],
                unit_code=units["unit_code"].iat[n],
                period=period,
                value=_num(values[i]) if values is not None else "",
                score=_num(scores[i]) if scores is not None else "",
                grade_label=c.label(int(p.rank[i])),
                due_date=due.isoformat(),
                owner=rule.owner,
                **names,
            )
            for n, i in enumerate(idx)
        ]
        frames.append(
            pd.DataFrame(
                {
                    "unit_code": p.codes[idx],
                    "unit_name": units["unit_name"].to_numpy(),
                    "period": period,
                    "grade": np.array(GRADE_KEYS, dtype=object)[p.rank[idx]],
                    "grade_label": [c.label(int(r)) for r in p.rank[idx]],
                    "rule_index": k,
                    "source": source,
                    "basis": basis,  # the source in words
                    "action": texts,
                    "owner": rule.owner,
                    "due_date": due.isoformat(),
                    "due_days": rule.due_days,  # a task set from it is due this long after
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "rule_index"])
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["unit_code", "rule_index"], kind="stable", ignore_index=True)


def urgent(suggestions: pd.DataFrame) -> pd.DataFrame:
    """The suggestions for red and orange units and for vetoes: what is followed up at once."""
    if suggestions.empty:
        return suggestions
    source = suggestions["source"].astype(str)
    keep = source.str.match(r"grade:(red|orange)") | source.str.startswith("veto:")
    return suggestions[keep]


def _match(assessment: Assessment, rule: FollowUp, p: PeriodScores, history: list[PeriodScores]):
    c = assessment.compiled
    w = rule.when
    if w.indicator is not None:
        j = c.ind_index[w.indicator]
        ind = c.indicators[j]
        with np.errstate(invalid="ignore"):
            mask = p.scores[:, j] < w.score_below
        names = {"indicator_name": ind.name, "basis": f"指标“{ind.name}”得分低于 {w.score_below:g}"}
        return mask, f"indicator:{ind.id}", p.raw[:, j], p.scores[:, j], names
    if w.dimension is not None:
        d = c.dim_index[w.dimension]
        with np.errstate(invalid="ignore"):
            mask = p.dim_scores[:, d] < w.score_below
        names = {
            "dimension_name": c.dimensions[d].name,
            "basis": f"维度“{c.dimensions[d].name}”得分低于 {w.score_below:g}",
        }
        return mask, f"dimension:{w.dimension}", p.dim_scores[:, d], p.dim_scores[:, d], names
    if w.veto is not None:
        v = [x.id for x in c.rules.vetoes].index(w.veto)
        names = {"veto_name": c.rules.vetoes[v].name, "basis": f"否决项“{c.rules.vetoes[v].name}”"}
        return p.veto_hits[:, v], f"veto:{w.veto}", p.veto_values[:, v], p.total, names
    if w.escalated:
        return p.escalation_hits.any(axis=1), "escalation", None, p.total, {"basis": "连续预警降级"}
    rank = GRADE_KEYS.index(w.grade)
    months = w.months or 1
    mask = np.ones(len(p.codes), dtype=bool)
    recent = history[-months:]
    contiguous = len(recent) == months and _consecutive([q.period for q in recent])
    for q in recent:
        mask &= q.rank == rank
    if not contiguous:
        mask[:] = False
    source = f"grade:{w.grade}" + (f"x{months}" if months > 1 else "")
    basis = f"等级为{c.label(rank)}" + (f",已连续{months}个月" if months > 1 else "")
    return mask, source, None, p.total, {"basis": basis}


def _consecutive(periods: list[str]) -> bool:
    idx = [month_index(q) for q in periods]
    return all(b == a + 1 for a, b in itertools.pairwise(idx))


def _num(x: float) -> str:
    if x is None or np.isnan(x):
        return MISSING_LABEL
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _format(template: str, **values: str) -> str:
    defaults = {"indicator_name": "", "dimension_name": "", "veto_name": ""}
    return template.format(**{**defaults, **values})


def cleared(assessment: Assessment, unit_code: str, period: str, source: str) -> bool | None:
    """Did the next month's data clear the cause of a follow-up? None: no data for it yet."""
    p = assessment.periods.get(next_period(period))
    if p is None:
        return None
    hit = np.flatnonzero(p.codes == unit_code)
    if len(hit) == 0 or p.rank[hit[0]] == MISSING:
        return None
    i = int(hit[0])
    c = assessment.compiled
    kind, _, ref = source.partition(":")
    if kind == "grade":
        return bool(p.rank[i] < GRADE_KEYS.index(ref.split("x")[0]))
    if kind == "veto":
        v = [x.id for x in c.rules.vetoes].index(ref)
        return not bool(p.veto_hits[i, v])
    if kind == "escalation":
        return not bool(p.escalation_hits[i].any())
    threshold = next(
        (
            r.when.score_below
            for r in c.rules.follow_ups
            if getattr(r.when, kind, None) == ref and r.when.score_below is not None
        ),
        None,
    )
    if threshold is None:
        return None
    value = (
        p.scores[i, c.ind_index[ref]] if kind == "indicator" else p.dim_scores[i, c.dim_index[ref]]
    )
    return None if np.isnan(value) else bool(value >= threshold)
