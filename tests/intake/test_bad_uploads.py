"""Table-driven: every file in tests/bad_uploads/ with every problem it must produce, as the user
reads it.

NAME.expected holds one line per problem, tab-separated: severity (错误/警告), code, row, column
and the message shown on the upload page, in the spreadsheet and by the CLI; a file with no
错误 line must be imported. Options come first: ``# registry: none`` checks without the unit
registry, ``# period: P`` sets the month chosen at upload, ``# kind: registry`` reads the file
as a unit registry, ``# limits: max_unzipped=1048576`` lowers a limit for the case.

After a deliberate change of wording, ``FIVECOLOR_UPDATE_EXPECTED=1 pytest
tests/intake/test_bad_uploads.py`` rewrites the files: read the diff before committing it.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, RULES, SAMPLE

from assessment.intake.headers import header_map, text_headers
from assessment.intake.ingest import ingest_monthly
from assessment.intake.limits import Limits
from assessment.intake.readers import read_table
from assessment.intake.registry import ingest_registry, registry_text_headers
from assessment.outputs.spreadsheets import problems_workbook
from assessment.problems import ERROR, Problem, errors_only
from assessment.rules.loader import load_rules

FOLDER = ROOT / "tests" / "bad_uploads"
CASES = sorted(p for p in FOLDER.iterdir() if p.suffix in (".csv", ".xlsx"))
SETS = [load_rules(RULES / "community.yaml").rules, load_rules(RULES / "village.yaml").rules]
REGISTRY = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
SEVERITY = {ERROR: "错误", "warning": "警告"}


def options(path: Path) -> dict[str, str]:
    lines = path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    return {
        key.strip(): value.strip()
        for key, value in (line[1:].split(":", 1) for line in lines if line.startswith("#"))
    }


def expected(path: Path) -> list[str]:
    text = path.with_suffix(".expected").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def line(p: Problem) -> str:
    fields = (SEVERITY[p.severity], p.code, "" if p.row is None else str(p.row), p.column)
    return "\t".join((*fields, p.message))


def run(path: Path, opts: dict[str, str]):
    limits = Limits(**{k: int(v) for k, v in _pairs(opts.get("limits", ""))})
    if opts.get("kind") == "registry":
        raw = read_table(path.read_bytes(), path.name, registry_text_headers(), limits=limits)
        return ingest_registry(raw)
    registry = None if opts.get("registry") == "none" else REGISTRY
    text = text_headers(header_map(SETS))
    raw = read_table(path.read_bytes(), name=path.name, text_columns=text, limits=limits)
    return ingest_monthly(raw, SETS, registry, period=opts.get("period", "2026-10"))


def _pairs(text: str):
    return (item.split("=", 1) for item in text.split(",") if item.strip())


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_bad_upload_reports_exactly_its_problems(path: Path):
    opts = options(path)
    result = run(path, opts)
    got = [line(p) for p in result.problems]
    if os.environ.get("FIVECOLOR_UPDATE_EXPECTED"):
        head = [f"# {k}: {v}" for k, v in opts.items()]
        path.with_suffix(".expected").write_text("\n".join([*head, *got]) + "\n", "utf-8")
    assert got == expected(path)
    assert all(p.file == path.name for p in result.problems)
    # nothing of a file with errors is imported; a file with warnings only is
    assert (result.frame is None) == bool(errors_only(result.problems))


def test_every_bad_file_has_its_expectation():
    assert len(CASES) >= 30
    assert all(p.with_suffix(".expected").exists() for p in CASES)
    # every case names what is wrong in Chinese: no message is an English leftover
    for path in CASES:
        for text in expected(path):
            message = text.split("\t")[-1]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in message), (path.name, message)


def test_the_problem_list_downloads_as_a_spreadsheet():
    path = FOLDER / "values_out_of_range.csv"
    result = run(path, {})
    sheet = pd.read_excel(io.BytesIO(problems_workbook(result.problems)))
    assert list(sheet.columns[:3]) == ["严重程度", "文件", "行"]
    assert not sheet.isna().all().any()  # no column empty for every problem (规则文件行, 位置)
    assert set(sheet["问题代码"]) >= {"out_of_range", "negative_value", "numerator_gt_denominator"}
    assert (sheet.loc[sheet["问题代码"] == "out_of_range", "行"] == 6).all()
    # the spreadsheet carries the same messages the test files expect
    wanted = {text.split("\t")[-1] for text in expected(path)}
    assert wanted <= set(sheet["说明及修改方法"])
