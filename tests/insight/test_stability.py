"""Grade stability under uncertain weights: the draws reproduce the engine at the rule set's own
weights, a unit far from every band edge never moves, one exactly on an edge moves half the
time, a veto holds in every draw; and the CLI writes the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import RULES, SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app
from assessment.grading.engine import assess
from assessment.grading.graded import grade_inputs
from assessment.insight.stability import grade_under, stability, weight_sensitivity
from assessment.intake.inputs import load_inputs
from assessment.rules.loader import parse_rules

FILES = sorted(p for p in SAMPLE.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))

RULES_TEXT = """
id: t
name: 测试
version: "1"
grades:
  green: {label: 好, min_score: 90}
  blue: {label: 较好, min_score: 80}
  yellow: {label: 合格, min_score: 70}
  orange: {label: 较差, min_score: 60}
  red: {label: 差}
dimensions:
  - id: d
    name: 维度
    weight: 1
    indicators:
      - {id: a, name: 甲, weight: 1, scoring: {method: linear, worst: 0, best: 100}}
      - {id: b, name: 乙, weight: 1, scoring: {method: linear, worst: 0, best: 100}}
vetoes:
  - {id: v, name: 否决, column: flag, op: "==", value: 1, cap: red}
inputs:
  - {id: flag, name: 标记, valid_range: [0, 1]}
"""


@pytest.fixture(scope="module")
def sample():
    inputs = load_inputs(
        [RULES / "community.yaml", RULES / "village.yaml"], SAMPLE / "units.csv", FILES
    )
    return grade_inputs(inputs)


def test_the_rule_sets_own_weights_reproduce_the_engine_in_every_month(sample):
    for a in sample:
        c = a.compiled
        for period, p in a.periods.items():
            ranks = grade_under(
                a, p, c.ind_weight[None, :], c.dim_weight[None, :], c.min_scores[None, :]
            )
            assert (ranks[:, 0] == p.rank.astype(int)).all(), (a.rules.id, period)


def synthetic() -> pd.DataFrame:
    loaded = parse_rules(RULES_TEXT)
    data = pd.DataFrame(
        {
            "unit_code": ["far", "edge", "vetoed"],
            "period": "2026-10",
            "a": [97.0, 100.0, 98.0],
            "b": [99.0, 80.0, 96.0],  # edge: exactly 90, the green line, when a and b weigh alike
            "flag": [0.0, 0.0, 1.0],
        }
    )
    a = assess(loaded, data)
    return stability(a, "2026-10", draws=4000, seed=7).set_index("unit_code")


def test_far_from_every_edge_is_certain_on_an_edge_is_a_coin_and_a_veto_holds():
    s = synthetic()
    assert s.loc["far", "grade"] == "green" and s.loc["far", "stability"] == 1.0
    assert s.loc["edge", "grade"] == "green"
    assert 0.45 < s.loc["edge", "stability"] < 0.55 and s.loc["edge", "borderline"]
    assert s.loc["edge", "p_green"] + s.loc["edge", "p_blue"] == pytest.approx(1.0)
    assert s.loc["vetoed", "grade"] == "red" and s.loc["vetoed", "p_red"] == 1.0
    shares = s[[f"p_{g}" for g in ("green", "blue", "yellow", "orange", "red")]].sum(axis=1)
    assert np.allclose(shares, 1.0)


def test_a_weight_that_moves_units_ranks_first(sample):
    a = sample[0]
    table = weight_sensitivity(a, "2026-10")
    assert table["changed"].is_monotonic_decreasing
    top = table.iloc[0]
    assert top["changed"] > 0 and table["changed"].iloc[-1] >= 0
    assert set(table["kind"]) == {"dimension", "indicator"}


def test_the_stability_command_writes_every_unit(tmp_path):
    out = tmp_path / "s.csv"
    args = ["stability", "-r", str(RULES / "community.yaml"), "-r", str(RULES / "village.yaml")]
    args += ["-u", str(SAMPLE / "units.csv"), "-o", str(out), "--draws", "200", "--seed", "3"]
    for f in FILES[-3:]:
        args += ["-d", str(f)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"unit_code": str})
    need = {"unit_code", "period", "grade", "stability", "p_green", "p_blue", "p_yellow"}
    assert need | {"p_orange", "p_red"} <= set(table.columns)
    assert len(table) == 170 and (table["period"] == "2026-10").all()
    again = tmp_path / "t.csv"
    rerun = [again if a == str(out) else a for a in args]
    assert CliRunner().invoke(app, [str(a) for a in rerun]).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_csv(again, dtype={"unit_code": str}), table)  # seeded


def test_a_units_stability_does_not_depend_on_which_units_are_computed_with_it(sample):
    a = sample[0]
    whole = stability(a, "2026-10", draws=300, seed=5).set_index("unit_code")
    some = list(whole.index[::7])
    part = stability(a, "2026-10", draws=300, seed=5, codes=some).set_index("unit_code")
    pd.testing.assert_frame_equal(part, whole.loc[some])
