"""The scoring engine: a rule set and one period's table in, scores, grades and reasons out.

Vectorised over units: every step is a numpy operation on a (units x indicators) matrix, and the
only Python loops run over indicators, dimensions and rules. Units are sorted by code first, so
the result is the same bit for bit whatever the input's row order.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..intake.matrices import empty_matrix
from ..intake.parallel import for_each
from ..intake.textcols import member
from ..rules.compiled import CompiledRules, children_of
from ..rules.grades import GRADE_KEYS
from ..rules.methods import score_indicator
from ..rules.models import Indicator

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

    compiled: CompiledRules = field(repr=False)
    period: str
    codes: Sequence[str]  # unit codes, sorted (Arrow-backed from ``assess``: no str per unit)
    reported: np.ndarray  # bool: the unit sent a row this period
    raw: np.ndarray  # units x indicators: the value scored (rates computed), NaN = empty
    applicable: np.ndarray  # units x indicators: the indicator applies to the unit's type
    scores: np.ndarray  # units x indicators, 0..100 (after `missing: zero`), NaN = N/A
    dim_scores: np.ndarray  # units x dimensions
    total: np.ndarray  # units
    base_rank: np.ndarray  # grade rank from the total alone (0 green .. 4 red, -1 missing)
    veto_hits: np.ndarray  # units x vetoes
    veto_values: np.ndarray  # units x vetoes: the value each veto looked at (NaN = empty)
    floor_hits: np.ndarray  # units x dimensions (False where the dimension has no floor)
    capped_rank: np.ndarray  # after floors and vetoes
    escalation_hits: np.ndarray  # units x escalation rules (filled across periods)
    rank: np.ndarray  # final grade rank

    # -- the per-indicator matrices set aside (a country's past months) -------------------

    def set_aside(self, restore: Callable[[], None]) -> None:
        """Drop the units x indicators matrices (``ASIDE``) and keep the grades, totals and
        dimension scores; ``restore()`` (the same data graded again, which calls
        ``take_back``) brings them back the first time one is asked for."""
        with _ASIDE_LOCK:
            for name in ASIDE:
                self.__dict__.pop(name, None)
            self.__dict__["_restore"] = restore

    @property
    def aside(self) -> bool:
        """Whether the matrices are set aside (restored when one is next asked for)."""
        return "_restore" in self.__dict__

    def take_back(self, again: PeriodScores) -> None:
        """The matrices of ``again`` (this period graded again), if it graded every unit as
        this one did; otherwise the data changed meanwhile and nothing here may be mixed."""
        same_total = np.array_equal(again.total, self.total, equal_nan=True)
        if not (np.array_equal(again.rank, self.rank) and same_total):
            raise StaleGrades("本月的数据在显示期间已更新,请刷新页面后重试。")
        for name in ASIDE:
            if name != "weights":  # computed again when asked
                self.__dict__[name] = getattr(again, name)
        self.__dict__.pop("_restore", None)

    def __getattr__(self, name: str):
        """Only called for what the instance lacks: a matrix set aside is restored first."""
        if name not in ASIDE or not self.aside:
            raise AttributeError(name)
        with _ASIDE_LOCK:
            if self.aside:
                self.__dict__["_restore"]()
        return getattr(self, name)

    @cached_property
    def weights(self) -> np.ndarray:
        """units x indicators: each indicator's effective share of the total (sums to 1)."""
        return effective_weights(self.compiled, self.scores, self.dim_scores)

    @property
    def lost(self) -> np.ndarray:
        """Points each indicator cost the unit: effective weight x (100 - score)."""
        return np.where(self.weights > 0, self.weights * (100.0 - np.nan_to_num(self.scores)), 0.0)


ASIDE = ("raw", "applicable", "scores", "veto_values", "weights")  # what set_aside drops
_ASIDE_LOCK = threading.RLock()


class StaleGrades(RuntimeError):
    """A month's matrices could not be restored: its data changed after it was graded."""


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row-wise weighted mean over the non-NaN entries; NaN where a row has none."""
    present = ~np.isnan(values)
    den = present @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.where(present, values, 0.0) @ weights) / den
    mean[den == 0] = np.nan
    return mean


def shares(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each entry's share of its row's weight, over the non-NaN entries."""
    w = ~np.isnan(values) * weights
    den = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, w / den, 0.0)


def effective_weights(
    compiled: CompiledRules, scores: np.ndarray, dim_scores: np.ndarray
) -> np.ndarray:
    """Top-down product of renormalised weights: the share of the total each indicator carries."""
    ind_children, dim_children = children_of(compiled)
    top = np.flatnonzero(compiled.dim_parent < 0)
    dim_eff = np.zeros(dim_scores.shape)
    dim_eff[:, top] = shares(dim_scores[:, top], compiled.dim_weight[top])
    weights = np.zeros(scores.shape)
    for d in range(len(compiled.dimensions)):
        parent = dim_eff[:, d : d + 1]
        if len(ind_children[d]):
            cols = ind_children[d]
            weights[:, cols] = shares(scores[:, cols], compiled.ind_weight[cols]) * parent
        else:
            cols = dim_children[d]
            dim_eff[:, cols] = shares(dim_scores[:, cols], compiled.dim_weight[cols]) * parent
    return weights


def raw_column(
    ind: Indicator, columns: Mapping[str, np.ndarray], n: int, out: np.ndarray | None = None
) -> np.ndarray:
    """The value an indicator scores: its column, or 100 x numerator / denominator."""
    out = np.empty(n) if out is None else out
    if ind.rate is None:
        value = columns.get(ind.id)
        out[:] = np.nan if value is None else value
        return out
    num, den = columns.get(ind.rate.numerator), columns.get(ind.rate.denominator)
    if num is None or den is None:
        out[:] = np.nan
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        np.multiply(num, 100.0, out=out)
        out /= den
        out[~(den > 0)] = np.nan
    return out


def applicability(compiled: CompiledRules, unit_types: object) -> np.ndarray:
    """units x indicators: does the indicator apply to the unit's type? (A read-only view of
    one True when no indicator is restricted to some types.)"""
    shape = (len(unit_types), len(compiled.indicators))
    if all(ind.applies_to is None for ind in compiled.indicators):
        return np.broadcast_to(np.True_, shape)
    out = np.ones(shape, dtype=bool, order="F")
    for j, ind in enumerate(compiled.indicators):
        if ind.applies_to is not None:
            out[:, j] = member(unit_types, ind.applies_to)
    return out


def score_period(
    compiled: CompiledRules,
    period: str,
    codes: Sequence[str],
    unit_types: object,
    columns: Mapping[str, np.ndarray],
    reported: np.ndarray | None = None,
) -> PeriodScores:
    """Grade one period. ``columns`` maps each column id to float values aligned with ``codes``
    (NaN where a unit sent nothing); ``reported`` marks who sent a row."""
    rules = compiled.rules
    n, n_dim = len(codes), len(compiled.dimensions)
    applicable = applicability(compiled, unit_types)
    raw = empty_matrix(n, len(compiled.indicators))
    scores = empty_matrix(n, len(compiled.indicators))

    def indicator(j: int) -> None:  # one column of raw and of scores
        ind = compiled.indicators[j]
        raw_column(ind, columns, n, out=raw[:, j])
        if ind.applies_to is not None:
            raw[~applicable[:, j], j] = np.nan
        scores[:, j] = score_indicator(ind, raw[:, j])
        if rules.missing == "zero":
            scores[applicable[:, j] & np.isnan(scores[:, j]), j] = 0.0

    for_each(len(compiled.indicators), indicator, n)

    dim_scores, total = aggregate(compiled, scores)
    base = grade_rank(total, compiled.min_scores)
    graded = base != MISSING
    capped = base.astype(np.int64)
    veto_hits = np.zeros((n, len(rules.vetoes)), dtype=bool)
    veto_values = np.empty((n, len(rules.vetoes)))
    for v, veto in enumerate(rules.vetoes):
        j = compiled.ind_index.get(veto.column)
        values = raw[:, j] if j is not None else columns.get(veto.column, np.full(n, np.nan))
        veto_values[:, v] = values
        with np.errstate(invalid="ignore"):
            veto_hits[:, v] = OPS[veto.op](values, veto.value) & ~np.isnan(values)
        hit = veto_hits[:, v] & graded
        capped[hit] = np.maximum(capped[hit], GRADE_KEYS.index(veto.cap))
    floor_hits = np.zeros((n, n_dim), dtype=bool)
    for d, dim in enumerate(compiled.dimensions):
        if dim.floor is not None:
            with np.errstate(invalid="ignore"):
                floor_hits[:, d] = dim_scores[:, d] < dim.floor.min_score
            hit = floor_hits[:, d] & graded
            capped[hit] = np.maximum(capped[hit], GRADE_KEYS.index(dim.floor.cap))
    return PeriodScores(
        compiled=compiled,
        period=period,
        codes=codes,
        reported=np.ones(n, dtype=bool) if reported is None else reported,
        raw=raw,
        applicable=applicable,
        scores=scores,
        dim_scores=dim_scores,
        total=total,
        base_rank=base,
        veto_hits=veto_hits,
        veto_values=veto_values,
        floor_hits=floor_hits,
        capped_rank=capped.astype(np.int8),
        escalation_hits=np.zeros((n, len(rules.escalation)), dtype=bool),
        rank=capped.astype(np.int8),
    )


def aggregate(compiled: CompiledRules, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dimension scores and the total from indicator scores (units x indicators): weighted
    means bottom-up, children after their parent in depth-first order."""
    n, n_dim = len(scores), len(compiled.dimensions)
    ind_children, dim_children = children_of(compiled)
    dim_scores = np.empty((n, n_dim), order="F")  # every column is written below
    for d in range(n_dim - 1, -1, -1):
        if len(ind_children[d]):
            cols = ind_children[d]
            block = scores[:, cols[0] : cols[-1] + 1] if _contiguous(cols) else scores[:, cols]
            dim_scores[:, d] = weighted_mean(block, compiled.ind_weight[cols])
        else:
            cols = dim_children[d]
            dim_scores[:, d] = weighted_mean(dim_scores[:, cols], compiled.dim_weight[cols])
    top = np.flatnonzero(compiled.dim_parent < 0)
    return dim_scores, weighted_mean(dim_scores[:, top], compiled.dim_weight[top])


def _contiguous(cols: np.ndarray) -> bool:
    return bool(len(cols)) and cols[-1] - cols[0] + 1 == len(cols)


def grade_rank(total: np.ndarray, min_scores: np.ndarray) -> np.ndarray:
    """0 (green) .. 4 (red): the first grade whose min_score <= total; -1 where total is NaN."""
    with np.errstate(invalid="ignore"):
        rank = (total[:, None] < min_scores[None, :]).sum(axis=1)
    return np.where(np.isnan(total), MISSING, rank).astype(np.int8)


def month_index(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def next_period(period: str) -> str:
    """The month after ``period`` (YYYY-MM)."""
    return shift_period(period, 1)


def shift_period(period: str, months: int) -> str:
    """``period`` moved by ``months`` (negative: back), as YYYY-MM."""
    index = month_index(period) + months
    return f"{index // 12}-{index % 12 + 1:02d}"


def runs_before(periods: Mapping[str, PeriodScores], period: str, color: int) -> np.ndarray:
    """Per unit: consecutive calendar months right before ``period`` graded ``color`` or worse
    before escalation (the capped rank), as ``apply_escalation`` counts them."""
    months = sorted(periods)
    p = periods[period]
    run = np.zeros(len(p.codes), dtype=np.int64)
    alive = np.ones(len(p.codes), dtype=bool)
    expect = month_index(period) - 1
    for before in reversed(months[: months.index(period)]):
        if month_index(before) != expect:
            break
        alive &= periods[before].capped_rank.astype(np.int64) >= color
        run += alive
        expect -= 1
    return run


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
