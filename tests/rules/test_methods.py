"""Each scoring method on hand-picked values, and each inverse against its method."""

from __future__ import annotations

import numpy as np
import pytest

from assessment.rules.methods import METHOD_REGISTRY, score_indicator
from assessment.rules.models import Indicator

NAN = np.nan


def ind(scoring: dict, **kw) -> Indicator:
    return Indicator.model_validate({"id": "x", "name": "X", "weight": 1, "scoring": scoring, **kw})


def scores(indicator: Indicator, values) -> list[float]:
    return score_indicator(indicator, np.array(values, dtype=float)).tolist()


def test_linear_clips_and_reverses_when_best_is_below_worst():
    up = ind({"method": "linear", "worst": 80, "best": 100})
    assert scores(up, [70, 80, 90, 100, 120]) == [0, 0, 50, 100, 100]
    down = ind({"method": "linear", "worst": 20, "best": 2})
    assert scores(down, [2, 11, 20, 30]) == [100, 50, 0, 0]


def test_bands_take_the_first_matching_band_in_either_direction():
    up = ind({"method": "bands", "bands": [[95, 100], [90, 80], [85, 60]]})
    assert scores(up, [99, 95, 92, 85, 84.9]) == [100, 100, 80, 60, 0]
    down = ind({"method": "bands", "bands": [[0, 100], [30, 60], [90, 20]]}, direction="lower")
    assert scores(down, [0, 10, 30, 90, 91]) == [100, 60, 60, 20, 0]


def test_pass_fail_reads_truth_for_higher_and_zero_for_lower():
    assert scores(ind({"method": "pass_fail"}), [1, 0, 2]) == [100, 0, 100]
    assert scores(ind({"method": "pass_fail"}, direction="lower"), [0, 1]) == [100, 0]


def test_deduct_takes_points_per_unit_and_stops_at_zero():
    assert scores(ind({"method": "deduct", "per": 25}), [0, 1, 3, 5]) == [100, 75, 25, 0]
    assert scores(ind({"method": "deduct", "per": 10, "base": 80}), [1]) == [70]


def test_minmax_is_relative_and_all_equal_scores_100():
    assert scores(ind({"method": "minmax"}), [10, 20, 30]) == [0, 50, 100]
    assert scores(ind({"method": "minmax"}, direction="lower"), [10, 20, 30]) == [100, 50, 0]
    assert scores(ind({"method": "minmax"}), [5, 5]) == [100, 100]


def test_percentile_ties_share_the_lowest_rank():
    assert scores(ind({"method": "percentile"}), [10, 20, 20, 40]) == [
        0,
        pytest.approx(100 / 3),
        pytest.approx(100 / 3),
        100,
    ]
    assert scores(ind({"method": "percentile"}), [7]) == [100]


@pytest.mark.parametrize(
    "scoring",
    [
        {"method": "linear", "worst": 80, "best": 100},
        {"method": "bands", "bands": [[95, 100], [90, 80], [85, 60]]},
        {"method": "pass_fail"},
        {"method": "deduct", "per": 25},
        {"method": "minmax"},
        {"method": "percentile"},
    ],
)
def test_every_method_keeps_na_as_na(scoring):
    out = scores(ind(scoring), [NAN, 90, 95])
    assert np.isnan(out[0]) and not np.isnan(out[1])


@pytest.mark.parametrize(
    ("scoring", "direction"),
    [
        ({"method": "linear", "worst": 80, "best": 100}, None),
        ({"method": "linear", "worst": 20, "best": 2}, None),
        ({"method": "bands", "bands": [[95, 100], [90, 80], [85, 60]]}, None),
        ({"method": "bands", "bands": [[0, 100], [30, 60]]}, "lower"),
        ({"method": "pass_fail"}, None),
        ({"method": "deduct", "per": 25}, None),
        ({"method": "minmax"}, None),
        ({"method": "minmax"}, "lower"),
        ({"method": "percentile"}, None),
        ({"method": "percentile"}, "lower"),
    ],
)
def test_the_inverse_reaches_the_target_score(scoring, direction):
    """Setting one unit to the inverse value gives it at least the target score."""
    extra = {"direction": direction} if direction else {}
    indicator = ind(scoring, **extra)
    method = METHOD_REGISTRY[scoring["method"]]
    column = np.array([1.0, 3.0, 4.0, 12.0, 30.0, 86.0, 88.0, 91.0, 96.0, 99.0])
    before = score_indicator(indicator, column)
    for target in (50.0, 60.0, 80.0, 100.0):
        for unit in np.flatnonzero(before < target):
            needed = method.invert(indicator, column, np.array([unit]), np.array([target]))[0]
            if np.isnan(needed):
                continue
            if method.strictly_above:
                needed += -1e-6 if indicator.effective_direction == "lower" else 1e-6
            moved = column.copy()
            moved[unit] = needed
            assert score_indicator(indicator, moved)[unit] >= target - 1e-9
