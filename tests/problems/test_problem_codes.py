"""Every problem code the code base can emit is declared once in assessment.problems.codes,
with the severity it is emitted with; so is every code the bad-file folders expect."""

from __future__ import annotations

import ast
import re

from conftest import ROOT

from assessment.problems import ERROR, WARNING
from assessment.problems.codes import CODES

CODE = re.compile(r"^[a-z][a-z0-9_]+$")
EMITTERS = {"Problem", "_p", "add", "report", "_refuse", "Denied", "SignInError", "full"}


def _literal(node: ast.AST) -> str | None:
    ok = isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value if ok and CODE.match(node.value) else None


def _message(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and not CODE.match(node.value)
    )


def emitted() -> dict[str, set[str]]:
    """code -> severities, from every literal code in assessment/: the first argument (or
    ``code=``) of the calls that make problems, ``code = "..."`` in the rule loader, the code of
    the rule checks' (path, code, message, value) tuples and of (code, message) pairs."""
    out: dict[str, set[str]] = {}
    for path in (ROOT / "assessment").rglob("*.py"):
        if path.name == "codes.py" and path.parent.name == "problems":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            found, severity = None, ERROR
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                for kw in node.keywords:
                    if kw.arg == "code":
                        found = _literal(kw.value)
                    if kw.arg == "severity" and getattr(kw.value, "id", "") == "WARNING":
                        severity = WARNING
                if name in EMITTERS and node.args:
                    found = found or _literal(node.args[0])
                    if name == "full" and len(node.args) > 1:
                        severity = (
                            WARNING if getattr(node.args[1], "id", "") == "WARNING" else ERROR
                        )
                if name in ("denied", "_refuse") and len(node.args) > 1:
                    found = _literal(node.args[1])
            elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "code":
                found = _literal(node.value)
            elif (  # code, message = "invalid_value", ...
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Tuple)
                and getattr(node.targets[0].elts[0], "id", "") == "code"
                and isinstance(node.value, ast.Tuple)
            ):
                found = _literal(node.value.elts[0])
            elif (
                isinstance(node, ast.Tuple)
                and len(node.elts) == 4
                and path.parent.name == "rules"
                and path.name.startswith("checks")
            ):
                found = _literal(node.elts[1])
            elif (
                isinstance(node, ast.Tuple)
                and len(node.elts) == 2
                and (isinstance(node.elts[1], ast.JoinedStr) or _message(node.elts[1]))
                and path.name in ("numbers.py", "loader.py")
            ):
                found = _literal(node.elts[0])
            if found:
                out.setdefault(found, set()).add(severity)
    return out


def test_every_emitted_code_is_declared_with_its_severity():
    codes = emitted()
    assert len(codes) > 80  # the scan sees the code base
    assert sorted(set(codes) - set(CODES)) == []
    wrong = {c: s for c, s in codes.items() if CODES[c].severity not in s or len(s) > 1}
    assert wrong == {}


def test_every_declared_code_is_emitted_somewhere():
    extra = set(CODES) - set(emitted()) - {"forbidden"}  # the default of roles.denied
    assert sorted(extra) == []


def test_the_codes_the_bad_files_expect_are_declared():
    expected = [
        line.split("\t")[1 if folder == "bad_uploads" else 0]
        for folder in ("bad_uploads", "bad_rules")
        for path in (ROOT / "tests" / folder).glob("*.expected")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert expected and set(expected) <= set(CODES)
