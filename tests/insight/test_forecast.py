"""Early warning: a straight line is forecast as that line, a flat history as its level; the
backtest never sees the month it forecasts; the CLI writes the table and the backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import RULES, SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app
from assessment.grading.engine import assess
from assessment.grading.graded import grade_inputs
from assessment.insight.forecast import _before, _predict, backtest, forecast
from assessment.intake.inputs import load_inputs

FILES = sorted(p for p in SAMPLE.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))


def test_a_straight_line_is_forecast_as_that_line_and_noise_is_trusted_less():
    t = np.arange(6, dtype=float)
    line = 90 - 2.5 * t
    flat = np.full(6, 75.0)
    gappy = np.array([80.0, np.nan, 77.6, np.nan, np.nan, 74.0])  # a line (-1.2) with gaps
    noisy = np.array([70.0, 90.0, 60.0, 95.0, 65.0, 85.0])
    pred, spread = _predict(np.vstack([line, flat, gappy, noisy]), t, 6.0)
    assert pred[0] == pytest.approx(75.0) and pred[1] == pytest.approx(75.0)
    assert pred[2] == pytest.approx(72.8)  # months placed on the calendar, not counted
    assert abs(pred[3] - np.median(noisy)) < 10 and spread[3] > spread[0]


@pytest.fixture(scope="module")
def community():
    inputs = load_inputs([RULES / "community.yaml"], SAMPLE / "units.csv", FILES)
    return grade_inputs(inputs)[0]


def test_the_forecast_sees_no_month_after_the_one_it_forecasts_from(community):
    months = sorted(community.periods)
    upto = months[6]
    honest = forecast(_before(community, upto), upto)
    # the months after are scrambled: nothing of them may reach the forecast
    scrambled = _before(community, months[-1])
    for m in months[7:]:
        p = scrambled.periods[m]
        scrambled.periods[m] = type(p)(**{**p.__dict__, "total": p.total[::-1].copy()})
    pd.testing.assert_frame_equal(forecast(scrambled, upto), honest)
    assert (honest["period"] == months[7]).all()


def test_the_backtest_scores_the_forecast_and_the_naive_rule(community):
    b = backtest(community)
    assert b["months"] == len(community.periods) - 4
    for key in ("model_precision", "model_recall", "naive_precision", "naive_recall"):
        assert 0.0 <= b[key] <= 1.0


def test_a_unit_falling_steadily_is_flagged():
    from assessment.rules.loader import load_rules

    loaded = load_rules(RULES / "community.yaml")
    base = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype={"unit_code": str})
    frames = []
    for k, month in enumerate(["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]):
        f = base.copy()
        f["period"] = month
        f.loc[0, "theme_day_attendance_rate"] = 100 - 12 * k  # one unit sliding month by month
        f.loc[0, "dues_paid_rate"] = 100 - 8 * k
        frames.append(f)
    a = assess(loaded, pd.concat(frames, ignore_index=True))
    out = forecast(a).set_index("unit_code")
    first = base.loc[0, "unit_code"]
    assert out.loc[first, "worse"]
    assert out.loc[first, "predicted_score"] < out.loc[first, "score_now"]
    assert "主题党日参加率" in out.loc[first, "drivers"]


def test_the_forecast_command(tmp_path):
    out = tmp_path / "f.csv"
    args = ["forecast", "-r", str(RULES / "community.yaml"), "-r", str(RULES / "village.yaml")]
    args += ["-u", str(SAMPLE / "units.csv"), "-o", str(out)]
    for f in FILES:
        args += ["-d", str(f)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"unit_code": str})
    assert {"unit_code", "period", "predicted_score", "p_orange_or_red", "drivers"} <= set(table)
    assert len(table) == 170 and (table["period"] == "2026-11").all()
    assert "回测" in result.stdout and "精确率" in result.stdout
