"""Derived columns against answers counted by hand on a small export: every aggregate, every
filter, and the unit without events."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assessment.intake.derive import derive, source_of, source_units
from assessment.intake.events import ingest_events, source_headers
from assessment.intake.readers import read_table
from tests.intake.event_rules import event_rules

REGISTRY = pd.DataFrame(
    {
        "unit_code": ["S", "A", "B", "C", "V"],
        "unit_name": ["一街道", "甲社区", "乙社区", "丙社区", "丁村"],
        "unit_type": ["街道", "社区", "社区", "社区", "村"],
        "parent_code": ["", "S", "S", "S", "S"],
    }
)
# A: 4 tickets, B: 2 tickets, C: none.
EXPORT = """工单编号,社区代码,受理时间,办结时间,类别,是否紧急,费用,评价,来电人
1,A,2026-10-01 08:00,2026-10-01 20:00,供水,是,150,满意,张三
2,A,2026-10-02 09:00,2026-10-10 09:00,停水,否,50,不满意,李四
3,A,2026-10-05,2026-10-12,道路,是,100,,王五
4,A,2026-10-20 10:00,,供水,是,,基本满意,赵六
5,B,2026/10/3 8:00,2026-10-04 07:00,道路,否,20,满意,
6,B,2026年10月30日,2026-11-02,供水,是,300,未回访,
"""


@pytest.fixture(scope="module")
def derived() -> pd.DataFrame:
    rules = event_rules()
    source = source_of([rules], "tickets")
    units = source_units(REGISTRY, [rules], "tickets")
    raw = read_table(EXPORT.encode(), name="x.csv", text_columns=source_headers(source))
    got = ingest_events(raw, source, units, "2026-10")
    assert got.ok, got.problems
    return derive(got.frame, [rules], source, units, got.period).set_index("unit_code")


def test_the_units_are_the_communities_the_rule_set_grades(derived):
    assert list(derived.index) == ["A", "B", "C"]  # not the street, not the village
    assert set(derived["period"]) == {"2026-10"}


@pytest.mark.parametrize(
    ("column", "a", "b"),
    [
        ("n_all", 4, 2),
        ("n_zero", 4, 2),
        ("n_water", 3, 1),  # 供水 or 停水: 1, 2, 4 / 6
        ("n_week", 2, 2),  # 1 (12 h), 3 (7 days exactly) / 5 (23 h), 6 (3 days); 2 took 8 days
        ("n_day", 1, 1),  # 1 (12 h) / 5 (23 h)
        ("n_open", 1, 0),  # 4 has no closing date
        ("n_urgent_dear", 2, 1),  # 1 (150), 3 (100); 4 has no cost / 6 (300)
        ("cost_mean", (150 + 50 + 100) / 3, (20 + 300) / 2),  # a blank cost is not a zero
        ("days_median", 7.0, (23 / 24 + 3) / 2),  # A: 0.5, 8, 7 (4 open) / B: 23 h, 3 days
        ("hours_max", 12.0, 72.0),  # 供水 only: A: 1 (12 h), 4 open / B: 6 (3 days)
        ("satisfied", 200 / 3, 100.0),  # rated among 满意/基本满意/不满意; 未回访 is not rated
    ],
)
def test_each_aggregate_and_filter_as_counted_by_hand(derived, column, a, b):
    assert derived.loc["A", column] == pytest.approx(a, abs=1e-12)
    assert derived.loc["B", column] == pytest.approx(b, abs=1e-12)


def test_a_unit_without_events_is_not_applicable_unless_the_rule_says(derived):
    c = derived.loc["C"]
    assert c["n_zero"] == 0  # empty: 0
    others = [col for col in derived.columns if col not in ("period", "n_zero")]
    assert all(math.isnan(c[col]) for col in others), c


def test_a_unit_whose_events_none_pass_counts_zero_but_averages_nothing():
    rules = event_rules()
    source = source_of([rules], "tickets")
    units = source_units(REGISTRY, [rules], "tickets")
    only = (
        "工单编号,社区代码,受理时间,办结时间,类别,是否紧急,费用,评价\n9,A,2026-10-01,,道路,否,,\n"
    )
    raw = read_table(only.encode(), name="x.csv", text_columns=source_headers(source))
    got = ingest_events(raw, source, units, "2026-10")
    row = derive(got.frame, [rules], source, units, "2026-10").set_index("unit_code").loc["A"]
    assert row["n_water"] == 0 and row["n_week"] == 0 and row["n_all"] == 1
    assert np.isnan(row["satisfied"]) and np.isnan(row["cost_mean"])
    assert np.isnan(row["days_median"]) and np.isnan(row["hours_max"])
