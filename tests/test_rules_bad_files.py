"""Table-driven: every file in tests/bad_rules/ is paired with the problems it must produce.

Each line of NAME.expected is ``code path line value`` (path and value may be empty). The loader
must report exactly these problems, all at once: none missing, none extra.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assessment.problems import ProblemsError
from assessment.rule_loader import load_rules

CASES = sorted((Path(__file__).parent / "bad_rules").glob("*.yaml"))


def expected(path: Path) -> set[tuple[str, str, int | None, str]]:
    out = set()
    for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        code, where, number, *value = line.split(" ", 3)
        out.add((code, where, int(number) if number else None, value[0] if value else ""))
    return out


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_rule_file_reports_every_expected_problem(path: Path):
    with pytest.raises(ProblemsError) as info:
        load_rules(path)
    got = {(p.code, p.path, p.line, p.value) for p in info.value.problems}
    assert got == expected(path)
    assert all(p.file == str(path) for p in info.value.problems)
    assert all(p.message for p in info.value.problems)


def test_there_are_bad_files_to_check():
    assert len(CASES) >= 7
