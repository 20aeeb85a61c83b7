"""Files people and attackers really produce: each is read exactly as meant or refused with a
listed problem, within the limits, never with an exception. The cases that are files (a sheet
claiming columns to XFD, XXE, billion laughs, a NaN cell, a zip bomb, …) are in tests/bad_uploads/
with the messages they must produce; these are the ones built in place (limits lowered, tables
compared)."""

from __future__ import annotations

import openpyxl
import pytest
from bad_uploads.make_files import xlsx_bytes
from conftest import RULES, SAMPLE

from assessment.intake.headers import header_map, text_headers
from assessment.intake.limits import Limits
from assessment.intake.readers import read_table
from assessment.rules.loader import load_rules

SETS = [load_rules(RULES / "community.yaml").rules, load_rules(RULES / "village.yaml").rules]
TEXT = text_headers(header_map(SETS))
MONTH = (SAMPLE / "indicators_2026-10.csv").read_bytes()


def codes(raw) -> list[str]:
    return [p.code for p in raw.problems]


def test_real_cells_past_the_column_limit_are_refused():
    data = xlsx_bytes([["unit_code", *[f"c{k}" for k in range(20)]], ["1", *range(20)]])
    raw = read_table(data, name="wide.xlsx", limits=Limits(max_columns=10))
    assert codes(raw) == ["too_many_cells"]


def test_an_xlsx_that_inflates_past_the_limit_is_refused_before_it_is_inflated():
    data = xlsx_bytes([["unit_code", "note"], *[[str(k), "a" * 30_000] for k in range(100)]])
    assert len(data) < 100_000  # a small file ...
    raw = read_table(data, name="bomb.xlsx", limits=Limits(max_unzipped=1 << 20))
    assert codes(raw) == ["xlsx_too_large"]  # ... that would expand to megabytes


def test_limits_on_size_rows_and_cell_length():
    assert codes(read_table(MONTH, "m.csv", limits=Limits(max_bytes=1000))) == ["file_too_large"]
    assert codes(read_table(MONTH, "m.csv", limits=Limits(max_rows=10))) == ["too_many_rows"]
    long = MONTH.replace("银杏苑社区".encode(), ("很长" * 2000).encode(), 1)
    raw = read_table(long, "m.csv", TEXT)
    assert codes(raw) == ["cell_too_long"]
    assert (raw.problems[0].row, raw.problems[0].column) == (2, "unit_name")


def test_cr_only_line_ends_are_read_like_lf():
    mac = read_table(MONTH.replace(b"\n", b"\r"), "mac.csv", TEXT)
    assert mac.table is not None and mac.table.equals(read_table(MONTH, "m.csv", TEXT).table)


def test_a_bom_in_front_of_a_gb18030_body_does_not_garble_the_header():
    gb = (SAMPLE / "indicators_2026-03_gb18030.csv").read_bytes()
    plain, with_bom = read_table(gb, "a.csv", TEXT), read_table(b"\xef\xbb\xbf" + gb, "b.csv", TEXT)
    assert with_bom.encoding == "gb18030"
    assert with_bom.table.column_names == plain.table.column_names


@pytest.mark.parametrize("junk", [b"\x00" * 100, b"PK\x03\x04" + b"\x00" * 100, b"\xff\xfe" * 50])
def test_junk_bytes_end_in_a_problem(junk):
    raw = read_table(junk, name="junk.csv")
    assert raw.table is None and raw.problems


@pytest.mark.parametrize("name", ["银杏\x00苑社区", "\x1b[2J\x1b[31m红色社区", "换行\n社区"])
def test_registry_names_with_control_characters_are_refused(name):
    import pandas as pd

    from assessment.intake.registry import ingest_registry, registry_text_headers

    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    units.loc[3, "unit_name"] = name
    raw = read_table(units.to_csv(index=False).encode(), "units.csv", registry_text_headers())
    registry = ingest_registry(raw)
    assert registry.frame is None
    assert [(p.code, p.row, p.column) for p in registry.problems] == [
        ("control_characters", 5, "unit_name")
    ]
    assert "\x1b" not in registry.problems[0].value and "\x00" not in registry.problems[0].value


def test_a_template_for_a_month_written_with_a_slash(tmp_path):
    from typer.testing import CliRunner

    from assessment.cli.main import app

    out = tmp_path / "t.xlsx"
    args = ["template", "-r", str(RULES / "community.yaml"), "-u", str(SAMPLE / "units.csv")]
    result = CliRunner().invoke(app, [*args, "-p", "2026/10", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out).worksheets[0].title == "2026-10指标"
    bad = CliRunner().invoke(app, [*args, "-p", "10/2026", "-o", str(out)])
    assert bad.exit_code == 1 and "无法识别" in bad.output


def test_printable_text_for_the_terminal():
    from assessment.intake.textcols import printable

    assert printable("a\x1b[31mb\x00c\x9bd\n\te") == "a\ufffd[31mb\ufffdc\ufffdd\n\te"
