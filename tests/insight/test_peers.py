"""Fair comparison: peers are units of one type and similar size, ranked by score; progress is
the change over three months; the reading puts level and progress together."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import RULES, SAMPLE

from assessment.grading.graded import grade_inputs
from assessment.insight.peers import fair_comparison
from assessment.intake.inputs import load_inputs

FILES = sorted(p for p in SAMPLE.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))


@pytest.fixture(scope="module")
def sample():
    inputs = load_inputs(
        [RULES / "community.yaml", RULES / "village.yaml"], SAMPLE / "units.csv", FILES
    )
    return inputs, grade_inputs(inputs)


def test_peers_share_a_type_and_a_size_third_and_rank_by_score(sample):
    inputs, graded = sample
    values = inputs.data[inputs.data["period"] == "2026-10"]
    for a in graded:
        fair = fair_comparison(a, "2026-10", values)
        assert set(fair["peer_group"].str.split("·").str[0]) == set(a.rules.applies_to)
        for _, group in fair.groupby("peer_group"):
            assert group["peer_size"].iloc[0] == group["score"].notna().sum()
            best = group.loc[group["score"].idxmax()]
            assert best["peer_rank"] == 1
            assert group["peer_median"].iloc[0] == pytest.approx(group["score"].median())
        sizes = fair.merge(values[["unit_code", "households"]], on="unit_code")
        small = sizes[sizes["peer_group"].str.endswith("规模较小")]["households"].median()
        large = sizes[sizes["peer_group"].str.endswith("规模较大")]["households"].median()
        assert small < large


def test_progress_is_the_change_over_three_months_and_the_reading_follows(sample):
    inputs, graded = sample
    a = graded[0]
    fair = fair_comparison(a, "2026-10", inputs.data[inputs.data["period"] == "2026-10"])
    before = pd.Series(a.periods["2026-07"].total, index=list(a.periods["2026-07"].codes))
    now = fair.set_index("unit_code")
    assert (now["progress"] - (now["score"] - before.reindex(now.index))).abs().max() < 1e-9
    weak_rising = now[(now["score"] < now["peer_median"]) & (now["progress"] >= 2)]
    assert len(weak_rising) and set(weak_rising["profile"]) == {"低于同类但进步快"}
    early = fair_comparison(a, "2025-12", inputs.data[inputs.data["period"] == "2025-12"])
    assert early["progress"].isna().all()  # no three months of history yet


def test_a_peer_column_that_is_not_declared_is_refused():
    from assessment.problems import ProblemsError
    from assessment.rules.loader import parse_rules

    text = (RULES / "community.yaml").read_text(encoding="utf-8")
    text = text.replace("peers: [households, member_count]", "peers: [households, floor_area]")
    with pytest.raises(ProblemsError) as info:
        parse_rules(text, "community.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.path, problem.value) == (
        "unknown_input",
        "peers[1]",
        "floor_area",
    )


def test_the_peers_and_rollup_commands(tmp_path):
    from typer.testing import CliRunner

    from assessment.cli.main import app

    base = ["-r", str(RULES / "community.yaml"), "-r", str(RULES / "village.yaml")]
    base += ["-u", str(SAMPLE / "units.csv")]
    for f in FILES[-4:]:
        base += ["-d", str(f)]
    result = CliRunner().invoke(app, ["peers", *base, "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    fair = pd.read_csv(tmp_path / "p.csv", dtype={"unit_code": str})
    assert len(fair) == 170 and fair["progress"].notna().all()
    result = CliRunner().invoke(
        app, ["rollup", *base, "-o", str(tmp_path / "r.csv"), "--level", "county"]
    )
    assert result.exit_code == 0, result.output
    county = pd.read_csv(tmp_path / "r.csv")
    assert county["units"].tolist() == [170]
    assert county[["green", "blue", "yellow", "orange", "red"]].sum(axis=1).tolist() == [170]


@pytest.mark.parametrize("value", ["5", "households", "{a: 1}", "[[1]]"])
def test_peers_of_the_wrong_shape_are_problems_not_crashes(value):
    from assessment.problems import ProblemsError
    from assessment.rules.loader import parse_rules

    text = (RULES / "community.yaml").read_text(encoding="utf-8")
    text = text.replace("peers: [households, member_count]", f"peers: {value}")
    with pytest.raises(ProblemsError) as info:
        parse_rules(text, "community.yaml")
    assert info.value.problems and all(p.path.startswith("peers") for p in info.value.problems)


def test_the_rollup_command_summarises_any_level_of_a_five_level_registry(tmp_path):
    import numpy as np
    from five_levels import five_levels
    from typer.testing import CliRunner

    from assessment.cli.main import app
    from assessment.intake.sample_district import make_months

    registry = five_levels()
    registry.to_csv(tmp_path / "units.csv", index=False)
    base = ["-r", str(RULES / "community.yaml"), "-r", str(RULES / "village.yaml")]
    base += ["-u", str(tmp_path / "units.csv")]
    for period, frame in make_months(registry, np.random.default_rng(3), last=2).items():
        frame.to_csv(tmp_path / f"{period}.csv", index=False)
        base += ["-d", str(tmp_path / f"{period}.csv")]
    for level, rows, each in (("省", 2, 24), ("市", 4, 12), ("区县", 8, 6), ("street", 16, 3)):
        out = tmp_path / f"{level}.csv"
        result = CliRunner().invoke(app, ["rollup", *base, "-o", str(out), "--level", level])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out)
        assert len(table) == rows and table["units"].tolist() == [each] * rows
    wrong = CliRunner().invoke(app, ["rollup", *base, "-o", str(out), "--level", "村/社区"])
    assert wrong.exit_code == 1 and "可用 省、市、区县、街道/乡镇" in wrong.output
