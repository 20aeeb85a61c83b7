"""Early warning: next month's score for every unit from its own past months, and how likely it
is to be orange or red.

Method (vectorised over units): over the last ``WINDOW`` months a unit has a score, the
Theil–Sen slope (the median of the slopes between every pair of months: one bad month does not
tilt it), shrunk toward zero by how sure it is (slope² / (slope² + its variance from the
residuals): a straight line keeps its slope, a short noisy history keeps little); the line
through the median of the detrended scores, carried one month on. The spread is the
residuals' median absolute deviation (×1.4826, at least ``MIN_SPREAD`` points), and the chance
of falling under the 合格 (yellow) line is read off a normal distribution with that spread.
Gaps in the history are skipped (months are placed on the calendar, not counted). It forecasts
the score; a veto or escalation next month cannot be foreseen from scores.

``backtest`` replays the history: each month is forecast from the months before it only, and
"orange or red next month" is scored (precision, recall) against the naive forecast "the same
grade as this month".
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from math import sqrt

import numpy as np
import pandas as pd

from ..grading.engine import Assessment
from ..grading.scoring import MISSING, month_index, next_period
from ..rules.grades import GRADE_KEYS

WINDOW = 6
MIN_SPREAD = 2.0
ALERT = 0.5  # forecast "orange or red" when the chance is at least this


def forecast(a: Assessment, upto: str | None = None) -> pd.DataFrame:
    """Per unit: the month forecast (the one after ``upto``, default the latest), the predicted
    score, the chance of orange or red, the current score and grade, and the indicators whose
    lost points grew most over the window (``drivers``)."""
    months = sorted(a.periods)
    upto = upto or months[-1]
    past = [m for m in months if m <= upto][-WINDOW:]
    scores = np.column_stack([a.periods[m].total for m in past])
    t = np.array([month_index(m) for m in past], dtype=float)
    pred, spread = _predict(scores, t, month_index(upto) + 1.0)
    line = a.compiled.min_scores[GRADE_KEYS.index("yellow")]  # under it: orange or red
    chance = _below(line, pred, spread)
    now = a.periods[upto]
    out = pd.DataFrame(
        {
            "unit_code": np.asarray(now.codes, dtype=object),
            "period": next_period(upto),
            "score_now": now.total,
            "grade_now": [GRADE_KEYS[r] if r != MISSING else "" for r in now.rank],
            "predicted_score": pred,
            "p_orange_or_red": chance,
            "drivers": _drivers(a, past),
        }
    )
    out["worse"] = out["predicted_score"] < out["score_now"] - spread / 2
    return out


def backtest(a: Assessment, first: int = 3) -> dict[str, float]:
    """Forecast each month from the months before it only; precision and recall of "orange or
    red next month" for the forecast and for the naive "same grade as this month"."""
    months = sorted(a.periods)
    hits = {"model": [0, 0, 0], "naive": [0, 0, 0]}  # true positives, predicted, actual
    for k in range(first, len(months) - 1):
        upto, target = months[k], months[k + 1]
        if month_index(target) != month_index(upto) + 1:
            continue
        f = forecast(_before(a, upto), upto)
        actual_rank = a.periods[target].rank
        graded = (actual_rank != MISSING) & ~np.isnan(f["predicted_score"].to_numpy())
        actual = actual_rank >= GRADE_KEYS.index("orange")
        model = f["p_orange_or_red"].to_numpy() >= ALERT
        naive = a.periods[upto].rank >= GRADE_KEYS.index("orange")
        for name, guess in (("model", model), ("naive", naive)):
            h = hits[name]
            h[0] += int((guess & actual & graded).sum())
            h[1] += int((guess & graded).sum())
            h[2] += int((actual & graded).sum())
    out = {}
    for name, (tp, predicted, actual) in hits.items():
        out[f"{name}_precision"] = tp / predicted if predicted else float("nan")
        out[f"{name}_recall"] = tp / actual if actual else float("nan")
    out["months"] = max(0, len(months) - 1 - first)
    return out


def _before(a: Assessment, upto: str) -> Assessment:
    """The assessment as it stood at ``upto``: no month after it is seen."""
    return Assessment(
        compiled=a.compiled,
        units=a.units,
        periods={m: p for m, p in a.periods.items() if m <= upto},
    )


def _predict(scores: np.ndarray, t: np.ndarray, t_next: float) -> tuple[np.ndarray, np.ndarray]:
    """Shrunk Theil–Sen line per row (units x months, NaN gaps) carried to ``t_next``; and the
    residual spread."""
    i, j = np.triu_indices(len(t), k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = (scores[:, j] - scores[:, i]) / (t[j] - t[i])
    n = (~np.isnan(scores)).sum(axis=1)
    with np.errstate(invalid="ignore"), _quiet():
        slope = np.nanmedian(slopes, axis=1) if len(i) else np.zeros(len(scores))
    slope = np.nan_to_num(slope)
    with _quiet():
        level = np.nanmedian(scores - slope[:, None] * t[None, :], axis=1)
        resid = scores - (level[:, None] + slope[:, None] * t[None, :])
        mad = np.nanmedian(np.abs(resid), axis=1) * 1.4826
        # shrink the slope by how sure it is: its signal against the noise the residuals show
        # (a straight line keeps its slope, two noisy months keep little of theirs)
        tm = np.where(np.isnan(scores), np.nan, t[None, :])
        sxx = np.nansum((tm - np.nanmean(tm, axis=1, keepdims=True)) ** 2, axis=1)
    noise = np.where(sxx > 0, np.nan_to_num(mad) ** 2 / np.where(sxx > 0, sxx, 1.0), np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        keep = np.where(slope != 0, slope**2 / (slope**2 + noise), 0.0)
    slope = slope * np.nan_to_num(keep)
    with _quiet():
        level = np.nanmedian(scores - slope[:, None] * t[None, :], axis=1)
        pred = level + slope * t_next
    spread = np.maximum(np.nan_to_num(mad, nan=MIN_SPREAD), MIN_SPREAD)
    pred = np.where(n > 0, np.clip(pred, 0.0, 100.0), np.nan)
    return pred, spread


def _below(line: float, pred: np.ndarray, spread: np.ndarray) -> np.ndarray:
    z = (line - pred) / (spread * sqrt(2.0))
    return np.where(np.isnan(pred), np.nan, 0.5 * (1.0 + _erf(np.nan_to_num(z))))


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, vectorised (Abramowitz & Stegun 7.1.26: within 1.5e-7)."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return np.sign(x) * (1.0 - poly * np.exp(-(x**2)))


def _drivers(a: Assessment, past: list[str], top: int = 3) -> list[str]:
    """Per unit: the indicators whose lost points grew most from the first to the last month of
    the window (those pulling the score down), by name."""
    first, last = a.periods[past[0]], a.periods[past[-1]]
    growth = np.nan_to_num(last.lost) - np.nan_to_num(first.lost)
    order = np.argsort(-growth, axis=1)[:, :top]
    names = np.array([ind.name for ind in a.compiled.indicators], dtype=object)
    out = []
    for row, cols in enumerate(order):
        keep = [names[c] for c in cols if growth[row, c] > 0.5]
        out.append("、".join(keep))
    return out


@contextmanager
def _quiet():
    """numpy's 'All-NaN slice' warnings: a unit with no score yet is NaN, on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
