"""Suggested follow-ups, whether next month cleared them, and weight changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import yaml
from conftest import RULES, SAMPLE, make_rules

from assessment.grading.graded import grade_inputs
from assessment.insight.followups import cleared, suggest
from assessment.insight.sensitivity import compare, diff_rule_sets, with_changes
from assessment.intake.inputs import load_inputs
from assessment.problems import ProblemsError
from assessment.rules.loader import load_rules

COMMUNITY = load_rules(RULES / "community.yaml")


@pytest.fixture(scope="module")
def community():
    files = [SAMPLE / f"indicators_2026-{m}.csv" for m in ("08", "09", "10")]
    inputs = load_inputs([RULES / "community.yaml"], SAMPLE / "units.csv", files)
    return grade_inputs(inputs)[0]


def test_follow_ups_match_their_rules_exactly(community):
    table = community.table(["2026-10"]).set_index("unit_code")
    todo = suggest(community, "2026-10", today=dt.date(2026, 11, 22))
    red = set(table.index[table["grade"] == "red"])
    assert set(todo.loc[todo["source"] == "grade:red", "unit_code"]) == red
    p = community.periods["2026-10"]
    j = community.compiled.ind_index["theme_day_attendance_rate"]
    low = set(p.codes[p.scores[:, j] < 60])
    assert (
        set(todo.loc[todo["source"] == "indicator:theme_day_attendance_rate", "unit_code"]) == low
    )
    row = todo[todo["source"] == "indicator:theme_day_attendance_rate"].iloc[0]
    value = p.raw[np.flatnonzero(p.codes == row["unit_code"])[0], j]
    assert f"{value:.1f}".rstrip("0").rstrip(".") + "%" in row["action"]
    assert row["due_date"] == "2026-12-07"  # 15 days after the task is set, not the month's end
    assert row["basis"] == "指标“主题党日参加率”得分低于 60"


def test_cleared_reads_the_next_month(community):
    t = community.table(["2026-09", "2026-10"])
    sep = t[(t["period"] == "2026-09") & (t["grade"] == "red")]
    oct_grade = t[t["period"] == "2026-10"].set_index("unit_code")["grade"]
    for code in sep["unit_code"]:
        expect = str(oct_grade[code]) not in ("red", "")
        assert cleared(community, code, "2026-09", "grade:red") is expect
    assert (
        cleared(community, sep["unit_code"].iloc[0], "2026-10", "grade:red") is None
    )  # no November


def test_a_weight_change_is_validated_like_a_file():
    with pytest.raises(ProblemsError) as info:
        with_changes(COMMUNITY, {"service": 0})
    [problem] = info.value.problems
    assert (problem.code, problem.path) == ("out_of_range", "dimensions[2].weight")


def test_scaling_all_weights_changes_no_color_and_a_real_change_does(community):
    from assessment.grading.engine import assess

    scaled = with_changes(COMMUNITY, {d.id: d.weight * 3 for d in COMMUNITY.rules.dimensions})
    data_inputs = load_inputs(
        [RULES / "community.yaml"],
        SAMPLE / "units.csv",
        [SAMPLE / f"indicators_2026-{m}.csv" for m in ("08", "09", "10")],
    )
    after_scaled = assess(scaled, data_inputs.data, data_inputs.registry)
    counts, changed = compare(community, after_scaled, "2026-10")
    assert changed.empty and (counts["change"] == 0).all()
    heavier = with_changes(COMMUNITY, {"service": 60})
    counts, changed = compare(
        community, assess(heavier, data_inputs.data, data_inputs.registry), "2026-10"
    )
    assert len(changed) > 0
    assert counts["change"].sum() == 0  # units move between colors, none appear or vanish
    assert set(changed["direction"]) <= {"变好", "变差"}


def test_diff_lists_weights_and_bands_that_differ():
    b = with_changes(COMMUNITY, {"service": 30, "dues_paid_rate": 40}, {"green": 88})
    diff = diff_rule_sets(COMMUNITY.rules, b.rules).set_index("id")
    assert diff.loc["service", "before"] == 25 and diff.loc["service", "after"] == 30
    assert diff.loc["dues_paid_rate", "after"] == 40
    assert diff.loc["green", "after"] == 88
    assert len(diff) == 3


def test_a_saved_change_keeps_the_authors_comments_and_layout():
    changes = {"service": 30, "dues_paid_rate": 2.5}
    changed = with_changes(COMMUNITY, changes, {"green": 88}, version="2026.2")
    before, after = COMMUNITY.text.splitlines(), changed.text.splitlines()
    assert len(after) == len(before)
    differing = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(differing) == 4  # the version, one min_score, two weights: nothing else
    assert sum("#" in line for line in after) == sum("#" in line for line in before) > 5
    expected = yaml.safe_load(COMMUNITY.text)
    expected["version"] = "2026.2"
    expected["grades"]["green"]["min_score"] = 88
    service = next(d for d in expected["dimensions"] if d["id"] == "service")
    service["weight"] = 30
    for dim in expected["dimensions"]:
        for ind in dim["indicators"]:
            if ind["id"] == "dues_paid_rate":
                ind["weight"] = 2.5
    assert yaml.safe_load(changed.text) == expected


def test_weights_of_nested_dimensions_are_changed_where_they_stand():
    def nest(d):
        org, service = d["dimensions"]
        d["dimensions"] = [{"id": "all", "name": "总体", "weight": 1, "dimensions": [org, service]}]

    changed = with_changes(make_rules(nest), {"all": 3, "service": 7, "attend": 0.5})
    [top] = changed.rules.dimensions
    org, service = top.dimensions
    assert (top.weight, service.weight, org.indicators[0].weight) == (3, 7, 0.5)


def test_a_veto_follow_up_says_the_value_behind_it():
    files = [SAMPLE / f"indicators_2026-{m}.csv" for m in ("09", "10")]
    village = grade_inputs(load_inputs([RULES / "village.yaml"], SAMPLE / "units.csv", files))[0]
    todo = suggest(village, "2026-10")
    vacancy = todo[todo["source"] == "veto:secretary_vacancy"]
    assert len(vacancy)  # 新华港村: the secretary's post empty for 210 days
    p = village.periods["2026-10"]
    v = [x.id for x in village.compiled.rules.vetoes].index("secretary_vacancy")
    for r in vacancy.itertuples():
        days = p.veto_values[np.flatnonzero(p.codes == r.unit_code)[0], v]
        assert f"书记缺位{days:g}天" in r.action
