"""From files to graded tables: the steps the CLI (and later the app) share.

Load rule sets, the registry and monthly tables, collecting every problem of every file; grade
only when there is no error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .engine import Assessment, assess
from .exports import inert_table
from .headers import header_map, text_headers
from .ingest import ingest_monthly
from .problems import ERROR, Problem, ProblemsError, errors_only
from .readers import read_table
from .registry import ingest_registry, registry_text_headers
from .rule_loader import LoadedRules, load_rules
from .textcols import distinct, has_duplicates


@dataclass
class Inputs:
    rule_sets: list[LoadedRules] = field(default_factory=list)
    registry: pd.DataFrame | None = None
    data: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return errors_only(self.problems)


def load_inputs(
    rules: Sequence[str | Path],
    units: str | Path | None = None,
    data: Sequence[str | Path] = (),
    period: str | None = None,
) -> Inputs:
    out = Inputs()
    for path in rules:
        try:
            out.rule_sets.append(load_rules(path))
        except ProblemsError as exc:
            out.problems += exc.problems
    if out.problems:  # without valid rules the tables cannot be checked
        return out
    _check_overlap(out)
    if units is not None:
        reg = ingest_registry(read_table(units, text_columns=registry_text_headers()))
        out.problems += reg.problems
        out.registry = reg.frame
        if reg.frame is not None:
            _check_unit_types(out)
    frames: list[pd.DataFrame] = []
    files: list[str] = []
    sets = [r.rules for r in out.rule_sets]
    text = text_headers(header_map(sets))
    for path in data:
        ingested = ingest_monthly(
            read_table(path, text_columns=text), sets, out.registry, fill_period=period
        )
        out.problems += ingested.problems
        if ingested.frame is not None:
            frames.append(ingested.frame)
            files.append(Path(path).name)
    if len(frames) > 1:
        out.problems += _across_files(frames, files)
    if frames:
        out.data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return out


def _across_files(frames: list[pd.DataFrame], files: list[str]) -> list[Problem]:
    """A unit's month sent in more than one file (each file was checked on its own)."""
    combined = pd.concat(
        [
            f[["unit_code", "period"]].assign(_file=name)
            for f, name in zip(frames, files, strict=True)
        ],
        ignore_index=True,
    )
    keys = combined["unit_code"] + "\x1f" + combined["period"]
    if not has_duplicates(keys):
        return []
    return [
        Problem(
            code="duplicate_unit",
            message=f"单位 {code} 的 {p} 数据出现在多个文件中: {', '.join(group['_file'])}。"
            "请只保留一份",
            column="unit_code",
            value=str(code),
        )
        for (code, p), group in combined[keys.duplicated(keep=False)].groupby(
            ["unit_code", "period"]
        )
    ]


def _check_overlap(out: Inputs) -> None:
    seen: dict[str, str] = {}
    for loaded in out.rule_sets:
        for t in loaded.rules.applies_to or ["*"]:
            if t in seen or (t == "*" and seen) or "*" in seen:
                out.problems.append(
                    Problem(
                        code="rules_overlap",
                        message=f"规则集 {loaded.rules.id} 与 {seen.get(t, seen.get('*', ''))} 都适用于"
                        f"“{t}”:一个单位只能由一个规则集评定,请设置 applies_to",
                        file=loaded.source,
                    )
                )
            seen.setdefault(t, loaded.rules.id)


def _check_unit_types(out: Inputs) -> None:
    types = set(distinct(out.registry["unit_type"]))
    for loaded in out.rule_sets:
        for t in loaded.rules.applies_to or []:
            if t not in types:
                out.problems.append(
                    Problem(
                        code="unknown_unit_type",
                        message=f"applies_to 中的单位类型“{t}”在单位名册中不存在。名册中的类型: "
                        f"{', '.join(sorted(types))}",
                        file=loaded.source,
                        path="applies_to",
                        severity="warning",
                    )
                )


def grade_inputs(inputs: Inputs) -> list[Assessment]:
    if inputs.errors or inputs.data is None:
        raise ProblemsError(
            inputs.problems or [Problem("no_data", "没有可评定的数据", severity=ERROR)]
        )
    return [assess(r, inputs.data, inputs.registry) for r in inputs.rule_sets]


def graded_table(
    assessments: Sequence[Assessment], periods: list[str] | None = None
) -> pd.DataFrame:
    frames = [a.table(periods) for a in assessments]
    if len(frames) == 1:
        return frames[0]  # one rule set: already in period, then code order
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return table.sort_values(["period", "unit_code"], kind="stable", ignore_index=True)


CSV_SLICE_ROWS = 50_000


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """UTF-8 with BOM, so that Excel opens it; floats unrounded.

    Formatting floats is most of the work: slices of rows are rendered on every core (Arrow
    releases the GIL) and written in order."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(table.schema):
        if pa.types.is_dictionary(column.type):  # grade columns are categorical
            table = table.set_column(i, column.name, table.column(i).cast(pa.string()))
    table = inert_table(table)  # text that would start a formula in Excel/WPS stays text
    starts = range(0, max(table.num_rows, 1), CSV_SLICE_ROWS)

    def render(start: int) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=start == 0)
        pacsv.write_csv(table.slice(start, CSV_SLICE_ROWS), sink, options)
        return sink.getvalue()

    with open(path, "wb") as f, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        f.write(b"\xef\xbb\xbf")
        for rendered in pool.map(render, starts):
            f.write(rendered)


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """The one problem table: the upload page, the spreadsheet and ``--problems-out`` show it."""
    from .problem_codes import title

    cols = ["severity", "file", "row", "line", "path", "column", "value", "code", "message"]
    frame = pd.DataFrame([p.as_dict() for p in problems], columns=cols)
    frame.insert(cols.index("code") + 1, "title", [title(c) for c in frame["code"]])
    return frame


def collapsed_problems(
    problems: Sequence[Problem], names: dict[str, str] | None = None, shown_rows: int = 12
) -> pd.DataFrame:
    """The problem table for people: a problem repeated on many rows (same kind, column and
    message, e.g. 170 rows of the wrong month) is one line with its count and rows, errors
    first; ``names`` turns column ids into the rule set's Chinese names."""
    more = {p.code: p.more for p in problems if p.more}  # count lines fold into their kind
    frame = problems_frame([p for p in problems if not p.more])
    if frame.empty:
        return pd.DataFrame(columns=["severity", "title", "column", "count", "rows", "message"])
    names = names or {}
    frame["column"] = [names.get(c, c) for c in frame["column"].fillna("")]
    frame["row"] = frame["row"].astype("Int64")
    keys = ["severity", "title", "column", "message"]
    out = []
    for key, group in frame.groupby(keys, sort=False, dropna=False):
        rows = [int(r) for r in group["row"].dropna()]
        extra = more.pop(group["code"].iloc[0], 0)  # the unlisted ones, with the first group
        listed = "、".join(map(str, rows[:shown_rows]))
        listed += "…" if len(rows) > shown_rows or extra else ""
        count = len(group) + extra
        out.append({**dict(zip(keys, key, strict=True)), "count": count, "rows": listed})
    table = pd.DataFrame(out)
    order = table["severity"].map({"error": 0}).fillna(1)
    return table.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
