"""Table-driven: every file in tests/bad_rules/ is paired with the problems it must produce.

Each line of NAME.expected is one problem as the rules owner reads it, tab-separated: code, YAML
path, line, the value echoed and the message. The loader must report exactly these problems, all
at once, in this order: none missing, none extra. After a deliberate change of wording,
``FIVECOLOR_UPDATE_EXPECTED=1 pytest tests/rules/test_rules_bad_files.py`` rewrites the files: read the
diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ROOT

from assessment.problems import ProblemsError
from assessment.rules.loader import load_rules

CASES = sorted((ROOT / "tests" / "bad_rules").glob("*.yaml"))


def expected(path: Path) -> list[str]:
    return path.with_suffix(".expected").read_text(encoding="utf-8").splitlines()


def line(p) -> str:
    number = "" if p.line is None else str(p.line)
    return "\t".join((p.code, p.path, number, p.value, p.message))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_rule_file_reports_every_expected_problem(path: Path):
    with pytest.raises(ProblemsError) as info:
        load_rules(path)
    got = [line(p) for p in info.value.problems]
    if os.environ.get("FIVECOLOR_UPDATE_EXPECTED"):
        path.with_suffix(".expected").write_text("\n".join(got) + "\n", encoding="utf-8")
    assert got == expected(path)
    assert all(p.file == str(path) for p in info.value.problems)
    assert all(p.message for p in info.value.problems)


def test_there_are_bad_files_to_check():
    assert len(CASES) >= 7
