"""Files parsed ahead (the command line's read-ahead) give what reading them in turn gives."""

import threading
from pathlib import Path

import pandas as pd

from assessment.intake import ahead
from assessment.intake.ahead import ReadAhead, read_ahead
from assessment.intake.inputs import load_inputs

ROOT = Path(__file__).resolve().parents[2]
RULES = [ROOT / "rules" / "community.yaml", ROOT / "rules" / "village.yaml"]
UNITS = ROOT / "sample_data" / "units.csv"
MONTHS = [ROOT / "sample_data" / f"indicators_{p}.csv" for p in ("2026-09", "2026-10")]


def _same(a, b) -> None:
    assert a.problems == b.problems
    pd.testing.assert_frame_equal(a.registry, b.registry)
    pd.testing.assert_frame_equal(a.data, b.data)


def test_inputs_read_ahead_equal_inputs_read_in_turn():
    wanted = load_inputs(RULES, UNITS, MONTHS)
    assert wanted.data is not None and len(wanted.data)
    _same(load_inputs(RULES, UNITS, MONTHS, read=read_ahead(RULES, UNITS, MONTHS).read), wanted)


def test_a_bad_month_read_ahead_reports_the_same_problems(tmp_path):
    bad = tmp_path / "bad.csv"
    text = MONTHS[1].read_text(encoding="utf-8").splitlines()
    header, first = text[0], text[1].split(",")
    first[5] = "九十"  # an attendance rate written in words
    bad.write_text("\n".join([header, ",".join(first), *text[2:]]) + "\n", encoding="utf-8")
    wanted = load_inputs(RULES, UNITS, [bad])
    assert wanted.errors
    got = load_inputs(RULES, UNITS, [bad], read=read_ahead(RULES, UNITS, [bad]).read)
    assert got.problems == wanted.problems


def test_a_table_asked_with_other_text_columns_is_read_anew(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("code,value\n007,1\n", encoding="utf-8")
    early = ReadAhead([(path, {"code"})])
    kept = early.read(path, {"code"})
    assert kept.table.column("code").to_pylist() == ["007"]
    again = early.read(path, set())  # not what was read ahead: read now, as asked
    assert again.table.column("code").to_pylist() == [7]


def test_no_more_than_two_tables_wait_to_be_taken(tmp_path, monkeypatch):
    release = threading.Event()

    def slow(path, text_columns=None):
        release.wait(5)
        return Path(path).name

    monkeypatch.setattr(ahead, "read_table", slow)
    paths = [tmp_path / f"{k}.csv" for k in range(4)]
    early = ReadAhead([(p, set()) for p in paths])
    assert len(early._pending) == 2 and len(early._waiting) == 2  # twelve months: not at once
    release.set()
    assert early.read(paths[0], set()) == "0.csv"
    assert len(early._pending) == 2 and len(early._waiting) == 1  # the third started
    assert [early.read(p, set()) for p in paths[1:]] == ["1.csv", "2.csv", "3.csv"]
    assert early._pending == {} and early._waiting == []


def test_nothing_is_read_ahead_when_a_rule_file_does_not_load(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [\n", encoding="utf-8")
    early = read_ahead([broken], UNITS, MONTHS)
    assert early._pending == {} and early._waiting == []
    assert load_inputs([broken], UNITS, MONTHS, read=early.read).errors
