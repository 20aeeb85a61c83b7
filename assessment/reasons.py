"""Why a unit has its color, in words: built from the same arrays that made the decision."""

from __future__ import annotations

import numpy as np

from .compiled import CompiledRules
from .grades import GRADE_KEYS, MISSING_LABEL
from .scoring import MISSING, PeriodScores

SEP = ";"


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if np.isfinite(x) else "空"


def reason_texts(compiled: CompiledRules, p: PeriodScores) -> np.ndarray:
    """One string per unit: every veto, floor and escalation that lowered its grade, by name."""
    rules = compiled.rules
    out = np.full(len(p.codes), "", dtype=object)

    def add(mask: np.ndarray, make) -> None:
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        texts = np.array([make(i) for i in idx], dtype=object)
        current = out[idx]
        out[idx] = np.where(current == "", texts, current + SEP + texts)

    missing = p.base_rank == MISSING
    add(missing & ~p.reported, lambda i: f"{MISSING_LABEL}:本月未上报")
    add(missing & p.reported, lambda i: f"{MISSING_LABEL}:没有可评分的指标")
    for v, veto in enumerate(rules.vetoes):
        cap = GRADE_KEYS.index(veto.cap)
        j = compiled.ind_index.get(veto.column)
        basis = f"({veto.basis})" if veto.basis else ""

        def text(i: int, veto=veto, j=j, basis=basis) -> str:
            value = f":{_fmt(p.raw[i, j])}" if j is not None else ""
            return f"一票否决“{veto.name}”{basis}{value} → 至多{compiled.label(GRADE_KEYS.index(veto.cap))}"

        add(p.veto_hits[:, v] & (cap > p.base_rank) & ~missing, text)
    for d, dim in enumerate(compiled.dimensions):
        if dim.floor is None:
            continue
        cap = GRADE_KEYS.index(dim.floor.cap)

        def text(i: int, d=d, dim=dim, cap=cap) -> str:
            return (
                f"维度底线“{dim.name}”{_fmt(p.dim_scores[i, d])}分 < {dim.floor.min_score:g}"
                f" → 至多{compiled.label(cap)}"
            )

        add(p.floor_hits[:, d] & (cap > p.base_rank) & ~missing, text)
    for e, rule in enumerate(rules.escalation):

        def text(i: int, rule=rule) -> str:
            return (
                f"连续{rule.months}个月{compiled.label(GRADE_KEYS.index(rule.color))}或更差"
                f" → {compiled.label(GRADE_KEYS.index(rule.to))}"
            )

        add(p.escalation_hits[:, e], text)
    return out


def veto_ids(compiled: CompiledRules, p: PeriodScores) -> np.ndarray:
    """Every veto that triggered, lowering or not (a red unit with a fatal accident still shows it)."""
    out = np.full(len(p.codes), "", dtype=object)
    for v, veto in enumerate(compiled.rules.vetoes):
        idx = np.flatnonzero(p.veto_hits[:, v])
        out[idx] = np.where(out[idx] == "", veto.id, out[idx] + SEP + veto.id)
    return out
