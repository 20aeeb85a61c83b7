"""Scoring methods: raw values -> scores 0..100, vectorised over units, and their inverses.

Each method is a pair of functions registered under its name. ``score`` maps an array of raw
values (NaN = N/A, kept N/A) to scores. ``invert`` gives, for each unit, the raw value at which
the unit would reach a target score (NaN where no value reaches it), used to explain "raise X to
Y". Relative methods (minmax, percentile) compare the units graded together, so both functions
see the whole column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .models import Bands, Deduct, Indicator, Linear

Array = np.ndarray


@dataclass(frozen=True)
class Method:
    score: Callable[[Indicator, Array], Array]
    invert: Callable[[Indicator, Array, Array, Array], Array]
    strictly_above: bool = False  # the inverse is a value to exceed, not to reach


def _linear(ind: Indicator, x: Array) -> Array:
    s: Linear = ind.scoring
    return 100.0 * np.clip((x - s.worst) / (s.best - s.worst), 0.0, 1.0)


def _linear_inv(ind: Indicator, x: Array, rows: Array, target: Array) -> Array:
    s: Linear = ind.scoring
    return s.worst + target / 100.0 * (s.best - s.worst)


def _bands(ind: Indicator, x: Array) -> Array:
    s: Bands = ind.scoring
    lower = ind.effective_direction == "lower"
    out = np.where(np.isnan(x), np.nan, 0.0)
    for threshold, score in reversed(s.bands):  # the first matching band wins
        hit = (x <= threshold) if lower else (x >= threshold)
        out = np.where(hit, score, out)
    return out


def _bands_inv(ind: Indicator, x: Array, rows: Array, target: Array) -> Array:
    s: Bands = ind.scoring
    lower = ind.effective_direction == "lower"
    out = np.full(target.shape, np.nan)
    # The easiest band that gives at least the target: the lowest threshold (highest when lower).
    for threshold, score in s.bands:
        ok = target <= score
        better = np.isnan(out) | ((threshold > out) if lower else (threshold < out))
        out = np.where(ok & better, threshold, out)
    return out


def _pass_fail(ind: Indicator, x: Array) -> Array:
    passed = (x == 0) if ind.effective_direction == "lower" else (x != 0)
    return np.where(np.isnan(x), np.nan, np.where(passed, 100.0, 0.0))


def _pass_fail_inv(ind: Indicator, x: Array, rows: Array, target: Array) -> Array:
    want = 0.0 if ind.effective_direction == "lower" else 1.0
    return np.where(target <= 100.0, want, np.nan)


def _deduct(ind: Indicator, x: Array) -> Array:
    s: Deduct = ind.scoring
    return np.maximum(0.0, s.base - s.per * x)


def _deduct_inv(ind: Indicator, x: Array, rows: Array, target: Array) -> Array:
    s: Deduct = ind.scoring
    # Counts and days come in whole numbers: the largest whole value that still scores enough.
    return np.where(target <= s.base, np.floor((s.base - target) / s.per + 1e-9), np.nan)


def _minmax(ind: Indicator, x: Array) -> Array:
    valid = ~np.isnan(x)
    if not valid.any():
        return np.full(x.shape, np.nan)
    lo, hi = np.min(x[valid]), np.max(x[valid])
    if hi == lo:
        return np.where(valid, 100.0, np.nan)
    if ind.effective_direction == "lower":
        return 100.0 * (hi - x) / (hi - lo)
    return 100.0 * (x - lo) / (hi - lo)


def _minmax_inv(ind: Indicator, x: Array, rows: Array, target: Array) -> Array:
    """Solved against the other units' range: moving a unit that is itself the minimum (or
    maximum) moves the scale with it."""
    valid = ~np.isnan(x)
    if valid.sum() < 2:
        return np.full(target.shape, np.nan)
    lo_o, hi_o = _others_extremes(x, rows)
    span = hi_o - lo_o
    if ind.effective_direction == "lower":
        out = hi_o - target / 100.0 * span
    else:
        out = lo_o + target / 100.0 * span
    return np.where(span > 0, out, np.nan)


def _others_extremes(x: Array, rows: Array) -> tuple[Array, Array]:
    """For each of ``rows``: the min and max of the column without that row."""
    filled_lo = np.where(np.isnan(x), np.inf, x)
    filled_hi = np.where(np.isnan(x), -np.inf, x)
    order_lo = np.argsort(filled_lo, kind="stable")[:2]
    order_hi = np.argsort(-filled_hi, kind="stable")[:2]
    lo = np.where(rows == order_lo[0], filled_lo[order_lo[1]], filled_lo[order_lo[0]])
    hi = np.where(rows == order_hi[0], filled_hi[order_hi[1]], filled_hi[order_hi[0]])
    return lo, hi


def _percentile(ind: Indicator, x: Array) -> Array:
    valid = ~np.isnan(x)
    n = int(valid.sum())
    out = np.full(x.shape, np.nan)
    if n == 0:
        return out
    if n == 1:
        out[valid] = 100.0
        return out
    v = -x[valid] if ind.effective_direction == "lower" else x[valid]
    ordered = np.sort(v)
    rank = np.searchsorted(ordered, v, side="left") + 1  # ties share the lowest rank
    out[valid] = 100.0 * (rank - 1) / (n - 1)
    return out


def _percentile_inv(ind: Indicator, x: Array, rows: Array, target: Array) -> Array:
    """The value a unit must exceed (fall below, when lower is better) to reach the target."""
    valid = ~np.isnan(x)
    n = int(valid.sum())
    out = np.full(target.shape, np.nan)
    if n < 2:
        return out
    lower = ind.effective_direction == "lower"
    ordered = np.sort(-x[valid] if lower else x[valid])
    need_rank = np.ceil(target / 100.0 * (n - 1) - 1e-9) + 1  # rank = 1 + number strictly below
    idx = need_rank.astype(np.int64) - 1  # the value at this sorted position must be beaten
    ok = (need_rank >= 2) & (need_rank <= n) & ~np.isnan(target)
    picked = ordered[np.clip(idx, 0, n - 1)]
    out = np.where(ok, -picked if lower else picked, np.nan)
    return out


METHOD_REGISTRY: dict[str, Method] = {
    "linear": Method(_linear, _linear_inv),
    "bands": Method(_bands, _bands_inv),
    "pass_fail": Method(_pass_fail, _pass_fail_inv),
    "deduct": Method(_deduct, _deduct_inv),
    "minmax": Method(_minmax, _minmax_inv),
    "percentile": Method(_percentile, _percentile_inv, strictly_above=True),
}


def score_indicator(ind: Indicator, x: Array) -> Array:
    """Scores 0..100 for one indicator over the units graded together; NaN stays NaN."""
    x = np.asarray(x, dtype=np.float64)
    out = METHOD_REGISTRY[ind.scoring.method].score(ind, x)
    return np.where(np.isnan(x), np.nan, out)
