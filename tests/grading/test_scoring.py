"""The engine on small hand-computed cases: every mechanism of RULES_FORMAT.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_data, make_rules

from assessment.grading.engine import assess

FULL = {"attend": 90, "held": 1, "tickets": 10, "closed": 9, "vacancy": 1, "deaths": 0}
# org = (2*50 + 1*100)/3 = 66.67; service = (80 + 75)/2 = 77.5; total = .6*66.67 + .4*77.5 = 71


def one(rules, values: dict, **extra) -> pd.Series:
    table = assess(rules, make_data([{"unit_code": "001", **values}]), **extra).table()
    return table.iloc[0]


def test_hand_computed_unit(rules):
    row = one(rules, FULL)
    assert row["score.org"] == pytest.approx(200 / 3)
    assert row["score.service"] == pytest.approx(77.5)
    assert row["score"] == pytest.approx(71.0)
    assert (row["grade"], row["grade_label"]) == ("yellow", "合格")
    assert row["reasons"] == ""


def test_zero_denominator_is_na_and_weights_renormalise(rules):
    row = one(rules, {**FULL, "tickets": 0, "closed": 0})
    assert row["score.service"] == pytest.approx(75.0)  # only the vacancy indicator is left
    assert row["score"] == pytest.approx(0.6 * 200 / 3 + 0.4 * 75)


def test_missing_zero_scores_na_as_zero():
    rules = make_rules(missing="zero")
    row = one(rules, {**FULL, "tickets": 0, "closed": 0})
    assert row["score.service"] == pytest.approx((0 + 75) / 2)


def test_indicator_that_does_not_apply_is_left_out_even_with_missing_zero():
    def village_only(d):
        d["dimensions"][0]["indicators"][1]["applies_to"] = ["村"]

    units = pd.DataFrame(
        {
            "unit_code": ["0", "001"],
            "unit_name": ["区", "甲社区"],
            "unit_type": ["区县", "社区"],
            "parent_code": ["", "0"],
        }
    )
    for missing in ("renormalize", "zero"):
        rules = make_rules(village_only, missing=missing)
        row = one(rules, FULL, units=units)
        assert row["score.org"] == pytest.approx(50.0)  # attend alone: `held` is not for 社区


def test_a_unit_with_nothing_scored_is_data_incomplete_never_a_color(rules):
    row = one(rules, {"attend": np.nan})
    assert row["grade"] == ""
    assert row["grade_label"] == "数据不全"
    assert np.isnan(row["score"])
    assert "没有可评分的指标" in row["reasons"]


def test_registry_unit_that_sent_nothing_is_listed_as_not_reported(rules):
    units = pd.DataFrame(
        {
            "unit_code": ["0", "001", "002"],
            "unit_name": ["区", "甲", "乙"],
            "unit_type": ["区县", "社区", "社区"],
            "parent_code": ["", "0", "0"],
        }
    )
    table = assess(rules, make_data([{"unit_code": "001", **FULL}]), units).table()
    assert list(table["unit_code"]) == ["001", "002"]  # leaves only; the district is not graded
    assert table.set_index("unit_code").loc["002", "reasons"] == "数据不全:本月未上报"


def test_nested_dimensions_aggregate_level_by_level():
    def nest(d):
        org, service = d["dimensions"]
        d["dimensions"] = [{"id": "all", "name": "总体", "weight": 1, "dimensions": [org, service]}]

    row = one(make_rules(nest), FULL)
    assert row["score.all"] == pytest.approx(71.0)
    assert row["score"] == pytest.approx(71.0)
    assert row["score.org"] == pytest.approx(200 / 3)


def test_floor_caps_the_grade_and_says_so():
    def floor(d):
        d["dimensions"][0]["floor"] = {"min_score": 70, "cap": "orange"}

    row = one(make_rules(floor), FULL)
    assert row["score_grade"] == "yellow"
    assert row["grade"] == "orange"
    assert row["reasons"] == "维度底线“组织建设”66.7分 < 70 → 至多较差"


def test_veto_caps_to_red_with_its_basis_even_at_a_perfect_score():
    def veto(d):
        d["vetoes"] = [
            {
                "id": "fatal",
                "name": "亡人事故",
                "column": "deaths",
                "op": ">=",
                "value": 2,
                "cap": "red",
                "basis": "安全生产一票否决",
            }
        ]

    perfect = {"attend": 100, "held": 1, "tickets": 5, "closed": 5, "vacancy": 0}
    row = one(make_rules(veto), {**perfect, "deaths": 2})
    assert row["score"] == pytest.approx(100.0)
    assert (row["score_grade"], row["grade"]) == ("green", "red")
    assert row["reasons"] == "一票否决“亡人事故”(安全生产一票否决) → 至多差"
    assert row["vetoes"] == "fatal"
    assert one(make_rules(veto), {**perfect, "deaths": 1})["grade"] == "green"


def test_veto_that_does_not_lower_is_listed_but_not_a_reason():
    def veto(d):
        d["vetoes"] = [
            {"id": "v", "name": "否决", "column": "deaths", "op": ">=", "value": 1, "cap": "yellow"}
        ]

    row = one(make_rules(veto), {**FULL, "attend": 80, "held": 0, "deaths": 1})
    assert row["grade"] == "red"
    assert row["reasons"] == ""
    assert row["vetoes"] == "v"


def escalation_rules():
    def esc(d):
        d["escalation"] = [{"color": "orange", "months": 2, "to": "red"}]

    return make_rules(esc)


# org = (2*30 + 100)/3 = 53.33; service = (100 + 75)/2 = 87.5; total = 32 + 35 = 67 -> orange
ORANGE = {**FULL, "attend": 86, "tickets": 10, "closed": 10}


def test_escalation_needs_consecutive_months():
    rules = escalation_rules()
    months = ["2026-01", "2026-02", "2026-04", "2026-05"]
    data = pd.concat([make_data([{"unit_code": "001", **ORANGE}], m) for m in months])
    table = assess(rules, data).table()
    assert list(table["score_grade"]) == ["orange"] * 4
    # 2026-02 follows 2026-01 -> red; 2026-04 follows a gap -> orange; 2026-05 -> red again.
    assert list(table["grade"]) == ["orange", "red", "orange", "red"]
    assert table["reasons"].iloc[1] == "连续2个月较差或更差 → 差"


def test_escalation_counts_the_grade_after_vetoes_and_floors_not_after_escalation():
    rules = escalation_rules()
    good = {"attend": 100, "held": 1, "tickets": 5, "closed": 5, "vacancy": 0}
    data = pd.concat(
        [
            make_data([{"unit_code": "001", **ORANGE}], "2026-01"),
            make_data([{"unit_code": "001", **ORANGE}], "2026-02"),
            make_data([{"unit_code": "001", **good}], "2026-03"),
        ]
    )
    assert list(assess(rules, data).table()["grade"]) == ["orange", "red", "green"]


def test_lost_points_add_up_to_what_the_total_misses(rules):
    data = make_data(
        [
            {"unit_code": "001", **FULL},
            {"unit_code": "002", **FULL, "tickets": 0, "closed": 0},
            {"unit_code": "003", "attend": 95, "held": 0, "vacancy": 2},
        ]
    )
    result = assess(rules, data)
    p = result.periods["2026-10"]
    np.testing.assert_allclose(p.lost.sum(axis=1), 100 - p.total, rtol=0, atol=1e-9)
    np.testing.assert_allclose(p.weights.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_same_output_bit_for_bit_whatever_the_row_order(rules):
    rng = np.random.default_rng(7)
    rows = [
        {
            "unit_code": f"{i:03d}",
            "attend": rng.uniform(70, 100),
            "held": rng.integers(0, 2),
            "tickets": rng.integers(0, 20),
            "closed": 0,
            "vacancy": rng.integers(0, 3),
        }
        for i in range(50)
    ]
    data = make_data(rows)
    data["closed"] = (data["tickets"] * 0.8).round()
    first = assess(rules, data).table()
    shuffled = assess(rules, data.sample(frac=1, random_state=3)).table()
    pd.testing.assert_frame_equal(first, shuffled, check_exact=True)


def test_duplicate_rows_for_one_unit_and_month_are_refused(rules):
    data = make_data([{"unit_code": "001", **FULL}, {"unit_code": "001", **FULL}])
    with pytest.raises(ValueError, match="more than one row"):
        assess(rules, data)


def test_grade_bands_are_inclusive_at_min_score(rules):
    def linear_only(d):
        d["dimensions"] = [
            {
                "id": "d",
                "name": "D",
                "weight": 1,
                "indicators": [
                    {
                        "id": "attend",
                        "name": "A",
                        "weight": 1,
                        "scoring": {"method": "linear", "worst": 0, "best": 100},
                    }
                ],
            }
        ]

    r = make_rules(linear_only)
    values = [90, 89.999, 80, 70, 60, 59.999]
    data = make_data([{"unit_code": f"{i}", "attend": v} for i, v in enumerate(values)])
    grades = assess(r, data).table()["grade"].tolist()
    assert grades == ["green", "blue", "blue", "yellow", "orange", "red"]
