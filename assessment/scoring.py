"""The scoring engine: a rule set and one period's table in, scores, grades and reasons out.

Vectorised over units: every step is a numpy operation on a (units x indicators) matrix, and the
only Python loops run over indicators, dimensions and rules. Units are sorted by code first, so
the result is the same bit for bit whatever the input's row order.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .compiled import CompiledRules, children_of
from .grades import GRADE_KEYS
from .methods import score_indicator

OPS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
MISSING = -1  # grade rank of a unit with no total (数据不全)


@dataclass
class PeriodScores:
    """Everything the engine decided for one period, as aligned arrays (row i = codes[i])."""

    period: str
    codes: np.ndarray  # unit codes, sorted
    reported: np.ndarray  # bool: the unit sent a row this period
    raw: np.ndarray  # units x indicators: the value scored (rates computed), NaN = empty
    applicable: np.ndarray  # units x indicators: the indicator applies to the unit's type
    scores: np.ndarray  # units x indicators, 0..100 (after `missing: zero`), NaN = N/A
    weights: np.ndarray  # units x indicators: effective weight in the total (sums to 1)
    dim_scores: np.ndarray  # units x dimensions
    total: np.ndarray  # units
    base_rank: np.ndarray  # grade rank from the total alone (0 green .. 4 red, -1 missing)
    veto_hits: np.ndarray  # units x vetoes
    floor_hits: np.ndarray  # units x dimensions (False where the dimension has no floor)
    capped_rank: np.ndarray  # after floors and vetoes
    escalation_hits: np.ndarray  # units x escalation rules (filled across periods)
    rank: np.ndarray  # final grade rank

    @property
    def lost(self) -> np.ndarray:
        """Points each indicator cost the unit: effective weight x (100 - score)."""
        return np.where(self.weights > 0, self.weights * (100.0 - np.nan_to_num(self.scores)), 0.0)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise weighted mean over the non-NaN entries, and each entry's share of the weight."""
    present = ~np.isnan(values)
    w = present * weights
    den = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = w / den[:, None]
        mean = (np.where(present, values, 0.0) * w).sum(axis=1) / den
    mean[den == 0] = np.nan
    share[den == 0] = 0.0
    return mean, share


def raw_matrix(compiled: CompiledRules, frame: pd.DataFrame) -> np.ndarray:
    """The value each indicator scores: its column, or 100 x numerator / denominator."""
    n = len(frame)
    out = np.empty((n, len(compiled.indicators)), dtype=np.float64)
    for j, ind in enumerate(compiled.indicators):
        if ind.rate is not None:
            num = _column(frame, ind.rate.numerator)
            den = _column(frame, ind.rate.denominator)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, j] = np.where(den > 0, 100.0 * num / den, np.nan)
        else:
            out[:, j] = _column(frame, ind.id)
    return out


def _column(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[column].to_numpy(dtype=np.float64, na_value=np.nan)


def applicability(compiled: CompiledRules, unit_types: np.ndarray) -> np.ndarray:
    out = np.ones((len(unit_types), len(compiled.indicators)), dtype=bool)
    for j, ind in enumerate(compiled.indicators):
        if ind.applies_to is not None:
            out[:, j] = np.isin(unit_types, ind.applies_to)
    return out


def score_period(
    compiled: CompiledRules,
    period: str,
    codes: np.ndarray,
    unit_types: np.ndarray,
    frame: pd.DataFrame,
    reported: np.ndarray | None = None,
) -> PeriodScores:
    """Grade one period. ``frame`` has one row per code in ``codes`` (same order; NaN rows for
    units that sent nothing) and ``reported`` marks who sent a row."""
    rules = compiled.rules
    n_dim = len(compiled.dimensions)
    raw = raw_matrix(compiled, frame)
    applicable = applicability(compiled, unit_types)
    raw = np.where(applicable, raw, np.nan)
    scores = np.empty_like(raw)
    for j, ind in enumerate(compiled.indicators):
        scores[:, j] = score_indicator(ind, raw[:, j])
    if rules.missing == "zero":
        scores = np.where(applicable & np.isnan(scores), 0.0, scores)

    # Dimensions bottom-up (children come after their parent in depth-first order).
    ind_children, dim_children = children_of(compiled)
    dim_scores = np.full((len(codes), n_dim), np.nan)
    shares: dict[int, np.ndarray] = {}
    for d in range(n_dim - 1, -1, -1):
        if len(ind_children[d]):
            cols = ind_children[d]
            dim_scores[:, d], shares[d] = weighted_mean(scores[:, cols], compiled.ind_weight[cols])
        else:
            cols = dim_children[d]
            dim_scores[:, d], shares[d] = weighted_mean(
                dim_scores[:, cols], compiled.dim_weight[cols]
            )
    top = np.flatnonzero(compiled.dim_parent < 0)
    total, top_share = weighted_mean(dim_scores[:, top], compiled.dim_weight[top])

    # Effective weights top-down: the share of the total each indicator carries for each unit.
    dim_eff = np.zeros((len(codes), n_dim))
    dim_eff[:, top] = top_share
    weights = np.zeros_like(scores)
    for d in range(n_dim):
        if len(ind_children[d]):
            weights[:, ind_children[d]] = shares[d] * dim_eff[:, d : d + 1]
        else:
            dim_eff[:, dim_children[d]] = shares[d] * dim_eff[:, d : d + 1]

    base = grade_rank(total, compiled.min_scores)
    veto_hits = np.zeros((len(codes), len(rules.vetoes)), dtype=bool)
    for v, veto in enumerate(rules.vetoes):
        j = compiled.ind_index.get(veto.column)
        values = raw[:, j] if j is not None else _column(frame, veto.column)
        with np.errstate(invalid="ignore"):
            veto_hits[:, v] = OPS[veto.op](values, veto.value) & ~np.isnan(values)
    floor_hits = np.zeros((len(codes), n_dim), dtype=bool)
    for d, dim in enumerate(compiled.dimensions):
        if dim.floor is not None:
            with np.errstate(invalid="ignore"):
                floor_hits[:, d] = dim_scores[:, d] < dim.floor.min_score
    capped = base.copy()
    graded = base != MISSING
    for v, veto in enumerate(rules.vetoes):
        cap = GRADE_KEYS.index(veto.cap)
        capped = np.where(veto_hits[:, v] & graded, np.maximum(capped, cap), capped)
    for d, dim in enumerate(compiled.dimensions):
        if dim.floor is not None:
            cap = GRADE_KEYS.index(dim.floor.cap)
            capped = np.where(floor_hits[:, d] & graded, np.maximum(capped, cap), capped)
    return PeriodScores(
        period=period,
        codes=codes,
        reported=np.ones(len(codes), dtype=bool) if reported is None else reported,
        raw=raw,
        applicable=applicable,
        scores=scores,
        weights=weights,
        dim_scores=dim_scores,
        total=total,
        base_rank=base,
        veto_hits=veto_hits,
        floor_hits=floor_hits,
        capped_rank=capped.astype(np.int8),
        escalation_hits=np.zeros((len(codes), len(rules.escalation)), dtype=bool),
        rank=capped.astype(np.int8),
    )


def grade_rank(total: np.ndarray, min_scores: np.ndarray) -> np.ndarray:
    """0 (green) .. 4 (red): the first grade whose min_score <= total; -1 where total is NaN."""
    with np.errstate(invalid="ignore"):
        rank = (total[:, None] < min_scores[None, :]).sum(axis=1)
    return np.where(np.isnan(total), MISSING, rank).astype(np.int8)


def month_index(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def apply_escalation(compiled: CompiledRules, periods: list[PeriodScores]) -> None:
    """Lower grades held orange-or-worse (say) for N consecutive months, this one included.

    Runs over the periods in order; all periods share the same units in the same order. A month
    without a grade (or a gap in the calendar) breaks the run.
    """
    rules = compiled.rules.escalation
    if not rules or not periods:
        return
    runs = np.zeros((len(periods[0].codes), len(rules)), dtype=np.int64)
    previous_month: int | None = None
    for p in periods:
        month = month_index(p.period)
        contiguous = previous_month is not None and month == previous_month + 1
        previous_month = month
        rank = p.capped_rank.astype(np.int64)
        final = rank.copy()
        for e, rule in enumerate(rules):
            bad = rank >= GRADE_KEYS.index(rule.color)
            runs[:, e] = np.where(bad, (runs[:, e] if contiguous else 0) + 1, 0)
            hit = runs[:, e] >= rule.months
            p.escalation_hits[:, e] = hit & (GRADE_KEYS.index(rule.to) > rank)
            final = np.where(hit, np.maximum(final, GRADE_KEYS.index(rule.to)), final)
        p.rank = final.astype(np.int8)
