"""Table-driven: every file in tests/bad_uploads/ with the errors it must produce, no more.

Each line of NAME.expected is ``code row column`` (row and column may be empty); ``# registry:
none`` checks without the unit registry, ``# period: P`` sets the month chosen at upload.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import RULES, SAMPLE

from assessment.headers import header_map, text_headers
from assessment.ingest import ingest_monthly
from assessment.problems import errors_only
from assessment.readers import read_table
from assessment.rule_loader import load_rules
from assessment.spreadsheets import problems_workbook

FOLDER = Path(__file__).parent / "bad_uploads"
CASES = sorted(p for p in FOLDER.iterdir() if p.suffix in (".csv", ".xlsx"))
SETS = [load_rules(RULES / "community.yaml").rules, load_rules(RULES / "village.yaml").rules]
REGISTRY = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)


def expected(path: Path) -> tuple[set[tuple[str, int | None, str]], dict[str, str]]:
    out, options = set(), {}
    for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, value = line[1:].split(":", 1)
            options[key.strip()] = value.strip()
            continue
        code, row, column = [*line.split(" ", 2), "", ""][:3]
        out.add((code, int(row) if row else None, column))
    return out, options


def run(path: Path, options: dict[str, str]):
    registry = None if options.get("registry") == "none" else REGISTRY
    raw = read_table(path.read_bytes(), name=path.name, text_columns=text_headers(header_map(SETS)))
    return ingest_monthly(raw, SETS, registry, period=options.get("period", "2026-10"))


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_bad_upload_reports_exactly_its_errors(path: Path):
    want, options = expected(path)
    result = run(path, options)
    assert result.frame is None  # nothing of a file with errors is imported
    got = {(p.code, p.row, p.column) for p in errors_only(result.problems)}
    assert got == want
    assert all(p.file == path.name and p.message for p in result.problems)


def test_every_bad_file_has_its_expectation():
    assert len(CASES) >= 14
    assert all(p.with_suffix(".expected").exists() for p in CASES)


def test_the_problem_list_downloads_as_a_spreadsheet():
    path = FOLDER / "values_out_of_range.csv"
    result = run(path, {})
    sheet = pd.read_excel(__import__("io").BytesIO(problems_workbook(result.problems)))
    assert list(sheet.columns[:3]) == ["严重程度", "文件", "行"]
    assert set(sheet["问题代码"]) >= {"out_of_range", "negative_value", "numerator_gt_denominator"}
    assert (sheet.loc[sheet["问题代码"] == "out_of_range", "行"] == 6).all()
