"""Fuzz targets, run by ``test_fuzz.py`` in a child process with a memory limit: arbitrary
bytes, mutated real files (CSV and .xlsx) and arbitrary YAML go to the readers and the rule
loader; every input must end in a result or listed problems, never an exception or a hang.
Prints one line per target: ``fuzz <target>: <examples> examples``."""

from __future__ import annotations

import io
import resource
import sys
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from assessment.intake.derive import derive, source_of, source_units  # noqa: E402
from assessment.intake.events import ingest_events, source_headers  # noqa: E402
from assessment.intake.headers import header_map, text_headers  # noqa: E402
from assessment.intake.ingest import ingest_monthly  # noqa: E402
from assessment.intake.readers import read_table  # noqa: E402
from assessment.intake.registry import ingest_registry, registry_text_headers  # noqa: E402
from assessment.problems import ProblemsError  # noqa: E402
from assessment.rules.loader import load_rules, parse_rules  # noqa: E402

SETS = [load_rules(ROOT / "rules" / f).rules for f in ("community.yaml", "village.yaml")]
TEXT = text_headers(header_map(SETS))
CSV = (ROOT / "sample_data" / "indicators_2026-10.csv").read_bytes()[:6000]
XLSX = next((ROOT / "sample_data").glob("*.xlsx")).read_bytes()
RULES = (ROOT / "rules" / "community.yaml").read_text(encoding="utf-8")
EXPORT = (ROOT / "sample_data" / "hotline_2026-10.csv").read_bytes()[:8000]
SOURCE = source_of(SETS, "hotline")
UNITS = source_units(
    ingest_registry(
        read_table(ROOT / "sample_data" / "units.csv", text_columns=registry_text_headers())
    ).frame,
    SETS,
    "hotline",
)
COUNTS: dict[str, int] = {}
SETTINGS = settings(
    max_examples=int(sys.argv[1]) if len(sys.argv) > 1 else 100,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Overwrite, delete or insert bytes at positions taken modulo the length."""
    out = bytearray(data)
    for pos, kind, chunk in edits:
        at = pos % (len(out) + 1)
        if kind == 0:
            out[at : at + len(chunk)] = chunk
        elif kind == 1:
            del out[at : at + len(chunk) + 1]
        else:
            out[at:at] = chunk
    return bytes(out)


EDITS = st.lists(
    st.tuples(st.integers(0, 1 << 20), st.integers(0, 2), st.binary(min_size=1, max_size=8)),
    max_size=6,
)


def read_and_ingest(data: bytes, name: str) -> None:
    raw = read_table(data, name=name, text_columns=TEXT)
    result = ingest_monthly(raw, SETS, require_columns=False)
    assert result.frame is not None or result.problems
    registry = ingest_registry(read_table(data, name=name, text_columns=registry_text_headers()))
    assert registry.frame is not None or registry.problems


@SETTINGS
@given(st.binary(max_size=4000))
def arbitrary_bytes(data: bytes) -> None:
    count("arbitrary bytes")
    read_and_ingest(data, "x.csv")


@SETTINGS
@given(EDITS)
def mutated_csv(edits) -> None:
    count("mutated csv")
    read_and_ingest(mutate(CSV, edits), "m.csv")


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 2), st.binary(min_size=1, max_size=8)),
        max_size=4,
    )
)
def mutated_xlsx(edits) -> None:
    """Mutations inside the zip's parts (the sheet XML, shared strings), re-zipped."""
    count("mutated xlsx")
    src = zipfile.ZipFile(io.BytesIO(XLSX))
    names = src.namelist()
    parts = {n: src.read(n) for n in names}
    for pos, kind, chunk in edits:
        name = names[pos % len(names)]
        parts[name] = mutate(parts[name], [(pos * 7919, kind, chunk)])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for n in names:
            dst.writestr(n, parts[n])
    read_and_ingest(out.getvalue(), "m.xlsx")


@SETTINGS
@given(EDITS)
def mutated_rules(edits) -> None:
    count("mutated rules")
    text = mutate(RULES.encode(), edits).decode("utf-8", errors="replace")
    try:
        parse_rules(text, "fuzz.yaml")
    except ProblemsError as exc:
        assert exc.problems


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@SETTINGS
@given(YAML_VALUES)
def arbitrary_yaml(value) -> None:
    import yaml

    count("arbitrary yaml")
    try:
        parse_rules(yaml.safe_dump(value, allow_unicode=True), "fuzz.yaml")
    except ProblemsError as exc:
        assert exc.problems


@SETTINGS
@given(EDITS, st.sampled_from([None, "2026-10"]))
def mutated_export(edits, period) -> None:
    """A 12345 export with bytes changed: events read and derived, or listed problems."""
    count("mutated export")
    raw = read_table(mutate(EXPORT, edits), name="e.csv", text_columns=source_headers(SOURCE))
    result = ingest_events(raw, SOURCE, UNITS, period)
    assert result.frame is not None or result.problems
    if result.ok:
        derived = derive(result.frame, SETS, SOURCE, UNITS, result.period)
        assert len(derived) == len(UNITS)


def main() -> None:
    limit = 3 << 30  # 3 GB of address space: a file that would need more fails here
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for target in (
        arbitrary_bytes,
        mutated_csv,
        mutated_xlsx,
        mutated_export,
        mutated_rules,
        arbitrary_yaml,
    ):
        target()
    for name, n in COUNTS.items():
        print(f"fuzz {name}: {n} examples")


if __name__ == "__main__":
    main()
