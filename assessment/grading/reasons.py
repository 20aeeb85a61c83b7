"""Why a unit has its color, in words: built from the same arrays that made the decision."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules.compiled import CompiledRules
from ..rules.grades import GRADE_KEYS, MISSING_LABEL
from .scoring import MISSING, PeriodScores

SEP = ";"
ALL_ROWS = slice(None)


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if np.isfinite(x) else "空"


@dataclass(frozen=True)
class Lowering:
    """A rule that lowered grades below what the score gives, and for which units."""

    kind: str  # veto | floor | escalation
    index: int  # into rules.vetoes, compiled.dimensions or rules.escalation
    mask: np.ndarray  # over the rows asked for


def lowerings(
    compiled: CompiledRules, p: PeriodScores, rows: np.ndarray | slice = ALL_ROWS
) -> list[Lowering]:
    """Every veto, floor and escalation rule, with the units (of ``rows``) whose grade it
    lowered: a veto or floor counts only where its cap is worse than the score's grade (a red
    unit with a fatal accident is not lowered by it; ``vetoes`` still lists it)."""
    rules = compiled.rules
    base = p.base_rank[rows]
    graded = base != MISSING
    out = []
    for v, veto in enumerate(rules.vetoes):
        lowered = p.veto_hits[rows, v] & (GRADE_KEYS.index(veto.cap) > base) & graded
        out.append(Lowering("veto", v, lowered))
    for d, dim in enumerate(compiled.dimensions):
        if dim.floor is not None:
            lowered = p.floor_hits[rows, d] & (GRADE_KEYS.index(dim.floor.cap) > base) & graded
            out.append(Lowering("floor", d, lowered))
    for e, _ in enumerate(rules.escalation):
        out.append(Lowering("escalation", e, p.escalation_hits[rows, e]))
    return out


def reason_texts(compiled: CompiledRules, p: PeriodScores) -> np.ndarray:
    """One string per unit for the CSV: every rule that lowered its grade, by name."""
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
    for lowering in lowerings(compiled, p):
        add(lowering.mask, _csv_wording(compiled, p, lowering))
    return out


def _csv_wording(compiled: CompiledRules, p: PeriodScores, lowering: Lowering):
    """A function of the unit row giving the rule's words in the CSV."""
    if lowering.kind == "veto":
        veto = compiled.rules.vetoes[lowering.index]
        j = compiled.ind_index.get(veto.column)
        basis = f"({veto.basis})" if veto.basis else ""
        cap = compiled.label(GRADE_KEYS.index(veto.cap))
        return lambda i: (
            f"一票否决“{veto.name}”{basis}"
            f"{f':{_fmt(p.raw[i, j])}' if j is not None else ''} → 至多{cap}"
        )
    if lowering.kind == "floor":
        d = lowering.index
        dim = compiled.dimensions[d]
        cap = compiled.label(GRADE_KEYS.index(dim.floor.cap))
        return lambda i: (
            f"维度底线“{dim.name}”{_fmt(p.dim_scores[i, d])}分 < {dim.floor.min_score:g}"
            f" → 至多{cap}"
        )
    rule = compiled.rules.escalation[lowering.index]
    text = (
        f"连续{rule.months}个月{compiled.label(GRADE_KEYS.index(rule.color))}或更差"
        f" → {compiled.label(GRADE_KEYS.index(rule.to))}"
    )
    return lambda i: text


def veto_ids(compiled: CompiledRules, p: PeriodScores) -> np.ndarray:
    """Every veto that triggered, lowering or not (a red unit with a fatal accident still shows it)."""
    out = np.full(len(p.codes), "", dtype=object)
    for v, veto in enumerate(compiled.rules.vetoes):
        idx = np.flatnonzero(p.veto_hits[:, v])
        out[idx] = np.where(out[idx] == "", veto.id, out[idx] + SEP + veto.id)
    return out
