"""The layout is a rule, not a habit: every module's imports are read with ``ast`` (those inside
functions too) and checked against the layers of docs/ARCHITECTURE.md."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

# The core's packages in the order a month's data passes through them: each may import the ones
# before it, never one after it, and never the store, the service, a shell or Streamlit.
CORE = ["problems", "rules", "intake", "grading", "insight", "outputs"]
ABOVE_CORE = ["store", "service", "cli"]
SHELLS = ("app", "streamlit_app", "assessment.cli")
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted([*(ROOT / "assessment").rglob("*.py"), *(ROOT / "app").rglob("*.py")]):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    out["streamlit_app"] = ROOT / "streamlit_app.py"
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The modules (or packages) ``name`` imports, anywhere in its body, as absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES}
    return found


def _graph() -> dict[str, set[str]]:
    """Edges between our modules; importing ``a.b.c`` also runs the ``__init__`` of ``a`` and
    ``a.b``, except those of the importer's own packages (already being imported)."""
    graph = {}
    for name, path in MODULES.items():
        own = {".".join(name.split(".")[:k]) for k in range(1, name.count(".") + 1)}
        edges = set()
        for target in _imports(name, path):
            parts = target.split(".")
            for k in range(1, len(parts) + 1):
                prefix = ".".join(parts[:k])
                if prefix in MODULES and prefix not in own and prefix != name:
                    edges.add(prefix)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "assessment" and len(parts) > 1 else None


def test_the_scan_sees_the_code_base():
    assert len(MODULES) > 60
    assert {"assessment.intake.readers", "assessment.grading.engine", "app.overview"} <= set(
        MODULES
    )
    assert "assessment.rules.models" in _graph()["assessment.grading.scoring"]


def test_no_module_imports_itself_back_through_others():
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_each_core_package_imports_only_the_packages_before_it():
    wrong = []
    for name, path in MODULES.items():
        here = _package(name)
        if here not in CORE:
            continue
        allowed = set(CORE[: CORE.index(here) + 1])
        for target in _imports(name, path):
            there = _package(target)
            top = target.split(".")[0]
            if top in ("app", "streamlit_app", "streamlit") or (
                top == "assessment" and there is not None and there not in allowed
            ):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_the_service_and_the_store_never_import_a_shell():
    wrong = [
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if _package(name) in ("store", "service")
        for target in _imports(name, path)
        if target.startswith((*SHELLS, "streamlit"))
        or (_package(name) == "store" and _package(target) == "service")
    ]
    assert wrong == []


def test_the_pages_never_reach_the_store_past_the_service():
    wrong = [
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name.startswith(("app", "streamlit_app"))
        for target in _imports(name, path)
        if target.startswith("assessment.store")
    ]
    assert wrong == []


def test_problem_codes_sit_below_the_code_that_uses_them():
    codes = _graph()["assessment.problems.codes"]
    assert not {m for m in codes if m.startswith("assessment.")}


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_each_package_says_what_it_holds_and_lists_only_what_exists():
    for package in [*CORE, *ABOVE_CORE]:
        init = ROOT / "assessment" / package / "__init__.py"
        tree = ast.parse(init.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"assessment/{package}/__init__.py says nothing"
        namespace: dict = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
                namespace["__all__"] = ast.literal_eval(node.value)
        for name in namespace.get("__all__", []):
            module = f"assessment.{package}.{name}"
            imported = any(
                isinstance(n, ast.ImportFrom) and any((a.asname or a.name) == name for a in n.names)
                for n in tree.body
            )
            assert module in MODULES or imported, f"{package}.__all__ names {name}"
