"""Numbers from the environment are read as written or refused by name: a limit, a sign-in
setting or the report day never silently falls back to its default."""

from __future__ import annotations

import pytest

from assessment.intake.limits import MB, Limits
from assessment.problems import ProblemsError
from assessment.problems.settings import setting_number
from assessment.service.actions import report_deadline


def test_an_unset_or_blank_setting_is_the_default_and_a_whole_number_is_read(monkeypatch):
    monkeypatch.delenv("FIVECOLOR_X", raising=False)
    assert setting_number("FIVECOLOR_X", 7) == 7
    monkeypatch.setenv("FIVECOLOR_X", "  ")
    assert setting_number("FIVECOLOR_X", 7) == 7
    monkeypatch.setenv("FIVECOLOR_X", " 250 ")
    assert setting_number("FIVECOLOR_X", 7) == 250


@pytest.mark.parametrize("raw", ["0.5", "100MB", "0", "-3", "１００", "1e3", "99999999999999"])
def test_anything_else_is_refused_naming_the_variable_and_the_default(monkeypatch, raw):
    monkeypatch.setenv("FIVECOLOR_X", raw)
    with pytest.raises(ProblemsError) as caught:
        setting_number("FIVECOLOR_X", 7)
    (problem,) = caught.value.problems
    assert problem.code == "bad_setting" and problem.severity == "error"
    assert "FIVECOLOR_X" in problem.message and f"“{raw}”" in problem.message
    assert "默认值 7" in problem.message


def test_the_limits_and_the_report_day_use_it(monkeypatch):
    monkeypatch.setenv("FIVECOLOR_MAX_UPLOAD_MB", "3")
    assert Limits.from_env().max_bytes == 3 * MB
    monkeypatch.setenv("FIVECOLOR_MAX_UPLOAD_MB", "0.5")  # once read as 100 MB without a word
    with pytest.raises(ProblemsError, match="FIVECOLOR_MAX_UPLOAD_MB"):
        Limits.from_env()
    monkeypatch.setenv("FIVECOLOR_REPORT_DAY", "10")
    assert report_deadline("2026-10").day == 10
    monkeypatch.setenv("FIVECOLOR_REPORT_DAY", "31")  # past the 28 every month has
    with pytest.raises(ProblemsError, match=r"FIVECOLOR_REPORT_DAY 应是 1~28 之间的整数"):
        report_deadline("2026-10")
