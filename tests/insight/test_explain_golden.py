"""Golden explanations on the bundled sample district, plus checks that they are true.

The golden files were reviewed by hand; regenerate with ``UPDATE_GOLDEN=1 pytest`` after a
deliberate change, and review the diff.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from conftest import RULES, SAMPLE, SAMPLE_EVENTS

from assessment.grading.engine import assess
from assessment.grading.graded import grade_inputs
from assessment.insight.explain import closing_moves, explain
from assessment.intake.inputs import load_inputs
from assessment.rules.grades import GRADE_KEYS

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
CASES = {
    "veto_fatal_accident": ("500188006003", "2026-02"),
    "floor_organization": ("500188103205", "2026-01"),
    "escalation_orange_twice": ("500188001001", "2025-12"),
    "veto_secretary_vacancy_village": ("500188101206", "2026-07"),
    "not_reported": ("500188102202", "2026-08"),
    "blue_with_path_up": ("500188001002", "2026-10"),
    "yellow_village": ("500188101200", "2026-10"),
}


@pytest.fixture(scope="module")
def sample():
    files = sorted(p for p in SAMPLE.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))
    inputs = load_inputs(
        [RULES / "community.yaml", RULES / "village.yaml"],
        SAMPLE / "units.csv",
        files,
        events=SAMPLE_EVENTS,
    )
    assert not inputs.errors
    return inputs, grade_inputs(inputs)


def find(assessments, code):
    return next(a for a in assessments if code in set(a.units["unit_code"]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_explanation_matches_golden(sample, case):
    code, period = CASES[case]
    text = explain(find(sample[1], code), code, period).render() + "\n"
    path = os.path.join(GOLDEN, f"{case}.txt")
    if os.environ.get("UPDATE_GOLDEN"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    with open(path, encoding="utf-8") as f:
        assert text == f.read()


def test_explanations_agree_with_the_graded_table(sample):
    for code, period in CASES.values():
        a = find(sample[1], code)
        row = a.table([period]).set_index("unit_code").loc[code]
        e = explain(a, code, period)
        assert (e.grade or "") == row["grade"]
        assert [r.name for r in e.reasons if r.kind != "missing"] == [
            r.name for r in e.reasons if r.kind != "missing"
        ]
        if e.grade:
            assert e.score == pytest.approx(row["score"])
            assert sum(i.lost for i in e.indicators) == pytest.approx(100 - e.score, abs=1e-9)
            assert len(e.reasons) == (row["reasons"].count(";") + 1 if row["reasons"] else 0)


def test_every_suggested_move_really_reaches_the_next_grade(sample):
    """Apply each single-indicator move the explanation proposes and grade again."""
    inputs, assessments = sample
    period = "2026-10"
    checked = 0
    for a in assessments:
        p = a.periods[period]
        moves = closing_moves(a.compiled, p)
        moves = moves.groupby("unit_code").head(3)
        data = inputs.data[inputs.data["period"] == period]
        for m in moves.itertuples():
            ind = a.compiled.indicators[a.compiled.ind_index[m.indicator]]
            if ind.rate is not None or ind.scoring.method in ("minmax", "percentile"):
                continue
            changed = data.copy()
            changed.loc[changed["unit_code"] == m.unit_code, m.indicator] = m.raw_needed
            after = assess(a.compiled, changed, inputs.registry)
            i = int(np.flatnonzero(p.codes == m.unit_code)[0])
            target = int(p.base_rank[i]) - 1
            assert after.periods[period].rank[i] <= target, (m.unit_code, m.indicator)
            checked += 1
    assert checked >= 20


def test_held_down_units_get_no_path_but_the_reason(sample):
    code, period = CASES["veto_fatal_accident"]
    e = explain(find(sample[1], code), code, period)
    assert e.next_grade.target is None
    assert [r.id for r in e.next_grade.held_by] == ["fatal_accident"]
    assert "仅提高分数不能改变等级" in e.render()


def test_unknown_unit_is_a_clear_error(sample):
    with pytest.raises(KeyError, match="not graded"):
        explain(sample[1][0], "999", "2026-10")


def test_grade_keys_cover_table(sample):
    table = pd.concat([a.table() for a in sample[1]])
    assert set(table["grade"]) <= {*GRADE_KEYS, ""}
