"""Parent grades, month-to-month transitions and worsening streaks, on small hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

from assessment.insight.rollup import grade_counts, rollup, unit_depths
from assessment.insight.trends import transitions, worsening

REGISTRY = pd.DataFrame(
    [
        ("D", "区", "区县", ""),
        ("S1", "甲街道", "街道", "D"),
        ("S2", "乙镇", "镇", "D"),
        ("a", "a", "社区", "S1"),
        ("b", "b", "社区", "S1"),
        ("c", "c", "村", "S2"),
        ("d", "d", "村", "S2"),
    ],
    columns=["unit_code", "unit_name", "unit_type", "parent_code"],
)
GRADED = pd.DataFrame(
    {
        "unit_code": ["a", "b", "c", "d"],
        "score": [95.0, 75.0, 65.0, float("nan")],
        "grade": ["green", "yellow", "orange", ""],
    }
)
BANDS, LABELS = [90, 80, 70, 60], ["好", "较好", "合格", "较差", "差"]


def test_depths_follow_the_tree():
    assert list(unit_depths(REGISTRY)) == [0, 1, 1, 2, 2, 2, 2]


def test_mean_rollup_grades_parents_from_their_graded_children():
    r = rollup(GRADED, REGISTRY, "mean", BANDS, LABELS).set_index("unit_code")
    assert r.loc["S1", "score"] == pytest.approx(85.0)  # (95 + 75) / 2
    assert r.loc["S1", "grade"] == "blue"
    assert r.loc["S2", "score"] == pytest.approx(65.0)  # d is 数据不全: left out, not 0
    assert (r.loc["S2", "grade"], r.loc["S2", "n_missing"]) == ("orange", 1)
    assert r.loc["D", "score"] == pytest.approx(75.0)  # mean of the streets
    assert r.loc["D", "grade_label"] == "合格"
    assert (r.loc["S1", "n_green"], r.loc["S1", "n_yellow"]) == (1, 1)


def test_worst_rollup_takes_the_worst_child_color():
    r = rollup(GRADED, REGISTRY, "worst", BANDS, LABELS).set_index("unit_code")
    assert list(r.loc[["S1", "S2", "D"], "grade"]) == ["yellow", "orange", "orange"]


def history(rows):
    return pd.DataFrame(rows, columns=["unit_code", "period", "score", "grade"])


def test_transitions_count_each_pair_of_consecutive_months():
    h = history(
        [
            ("a", "2026-01", 85, "blue"),
            ("a", "2026-02", 75, "yellow"),
            ("a", "2026-03", 76, "yellow"),
            ("b", "2026-01", 85, "blue"),
            ("b", "2026-02", 86, "blue"),
            ("b", "2026-03", 50, "red"),
        ]
    )
    t = transitions(h).set_index(["from_grade", "to_grade"])["count"]
    assert t[("blue", "yellow")] == 1 and t[("yellow", "yellow")] == 1
    assert t[("blue", "blue")] == 1 and t[("blue", "red")] == 1
    assert t.sum() == 4  # two units x two steps
    assert len(t) == 36  # every pair listed, zeros included


def test_worsening_counts_the_latest_unbroken_run_of_falls():
    h = history(
        [
            (u, f"2026-0{m}", s, "blue")
            for u, scores in {
                "fall3": [90, 88, 85, 80],
                "fall1": [80, 85, 90, 89],
                "flat": [80, 80, 80, 80],
                "broken": [90, 80, 85, 84],
            }.items()
            for m, s in enumerate(scores, 1)
        ]
    )
    w = worsening(h, months=1).set_index("unit_code")
    assert w.loc["fall3", "months_falling"] == 3
    assert (w.loc["fall3", "score_from"], w.loc["fall3", "score_to"]) == (90, 80)
    assert w.loc["fall1", "months_falling"] == 1 and w.loc["broken", "months_falling"] == 1
    assert "flat" not in w.index
    assert list(worsening(h, months=3)["unit_code"]) == ["fall3"]


def test_the_parent_summary_counts_colors_movement_and_follow_ups_on_time():
    import datetime as dt

    from assessment.insight.worklist import parent_summary

    registry = pd.DataFrame(
        {
            "unit_code": ["c", "s1", "s2", "u1", "u2", "u3", "u4"],
            "parent_code": ["", "c", "c", "s1", "s1", "s2", "s2"],
        }
    )
    now = pd.DataFrame(
        {
            "unit_code": ["u1", "u2", "u3", "u4"],
            "parent_code": ["s1", "s1", "s2", "s2"],
            "grade": ["red", "blue", "orange", "orange"],
            "score": [55.0, 85.0, 62.0, 65.0],
        }
    )
    before = now.assign(score=[60.0, 80.0, 62.2, 70.0])
    parents = pd.DataFrame(
        {
            "unit_code": ["s1", "s2", "c"],
            "unit_name": ["一街", "二街", "区"],
            "grade": ["yellow", "orange", "yellow"],
            "score": [70.0, 63.5, 66.75],
        }
    )
    today = dt.date(2026, 11, 22)
    tasks = pd.DataFrame(
        {
            "unit_code": ["u1", "u1", "u3", "u4"],
            "due_date": [
                dt.date(2026, 11, 1),
                dt.date(2026, 11, 10),
                dt.date(2026, 11, 5),
                dt.date(2026, 12, 1),
            ],
            "closed_at": [pd.Timestamp("2026-10-30"), pd.Timestamp("2026-11-15"), None, None],
        }
    )
    streets = parent_summary(now, before, registry, parents, tasks, today).set_index("unit_code")
    assert streets.loc["s1", ["red", "blue", "units"]].tolist() == [1, 1, 2]
    assert streets.loc["s1", "improving"] == 0.5 and streets.loc["s1", "declining"] == 0.5
    assert streets.loc["s2", "improving"] == 0.0 and streets.loc["s2", "declining"] == 0.5
    assert streets.loc["s1", "tasks_due"] == 2 and streets.loc["s1", "completion"] == 0.5
    assert streets.loc["s2", "tasks_due"] == 1 and streets.loc["s2", "completion"] == 0.0
    assert streets.loc["s2", "name"] == "二街" and streets.loc["s2", "grade"] == "orange"
    assert list(streets.index) == ["s1", "s2"]  # most red first
    county = parent_summary(now, before, registry, parents, tasks, today, "county")
    assert county["units"].tolist() == [4] and county["tasks_due"].tolist() == [3]
    assert county["name"].tolist() == ["区"]


def test_grade_counts_put_every_unit_under_its_key_and_the_rest_under_missing():
    grades = pd.Series(
        ["red", "green", None, "nan", "", "red", "orange", float("nan")], dtype=object
    )
    assert grade_counts(grades) == {
        "green": 1,
        "blue": 0,
        "yellow": 0,
        "orange": 1,
        "red": 2,
        "": 4,
    }
    assert grade_counts(grades.astype("str")) == grade_counts(grades)
    assert list(grade_counts(pd.Series([], dtype=object))) == [
        "green",
        "blue",
        "yellow",
        "orange",
        "red",
        "",
    ]
