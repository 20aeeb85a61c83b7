"""The quota check reports whom a share would affect and changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from assessment.insight.quota import quota_check


def month() -> pd.DataFrame:
    grades = ["red"] * 3 + ["orange"] * 2 + ["yellow"] * 5 + ["blue"] * 10 + [""]
    return pd.DataFrame(
        {
            "unit_code": [f"u{k:02d}" for k in range(len(grades))],
            "unit_name": [f"单位{k}" for k in range(len(grades))],
            "grade": grades,
            "score": [50.0, 55.0, 58.0, 62.0, 65.0, *range(70, 75), *range(80, 90), float("nan")],
        }
    )


def test_a_cap_on_red_lists_the_best_scoring_reds_over_it():
    table = month()
    out = quota_check(table, {"red": 0.10})  # 20 graded units: 2 may be red, 3 are
    assert out["unit_code"].tolist() == ["u02"]  # the best-scoring red is the one over
    assert out["rule"].iloc[0] == "red ≤ 10%(2/20)"
    assert quota_check(table, {"red": 0.15}).empty  # 3 allowed: nobody affected
    pd.testing.assert_frame_equal(table, month())  # nothing changed


def test_the_bottom_share_marks_the_lowest_scores_and_says_who_is_not_orange_or_red():
    out = quota_check(month(), bottom=0.3)  # 6 of 20
    assert out["unit_code"].tolist() == ["u00", "u01", "u02", "u03", "u04", "u05"]
    assert out["effect"].tolist()[-1].startswith("按末位名额会被标记")
    assert set(out["effect"].iloc[:5]) == {"已是橙/红"}


@pytest.mark.parametrize("bad", [{"purple": 0.1}, {"red": 1.5}])
def test_a_meaningless_quota_is_refused(bad):
    with pytest.raises(ValueError):
        quota_check(month(), bad)
