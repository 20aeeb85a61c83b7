"""Rule files, the registry and monthly files loaded and checked together (the CLI's files).

Every problem of every file is collected; ``grading.graded`` grades only when there is no error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..problems import Problem, ProblemsError, errors_only
from ..rules.loader import LoadedRules, load_rules
from .headers import header_map, text_headers
from .ingest import ingest_monthly
from .readers import RawTable, read_table
from .registry import ingest_registry, registry_text_headers
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
    events: Sequence[tuple[str, str | Path]] = (),
    read: Callable[..., RawTable] = read_table,
) -> Inputs:
    """``events``: (source id, file) pairs, one month of a source's export each; the columns
    the rule sets derive from it join the monthly tables' rows. ``read(path, text_columns)``
    reads the registry and each monthly file (``ahead.ReadAhead.read``: parsed meanwhile)."""
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
        reg = ingest_registry(read(units, text_columns=registry_text_headers()))
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
            read(path, text_columns=text), sets, out.registry, fill_period=period
        )
        out.problems += ingested.problems
        if ingested.frame is not None:
            frames.append(ingested.frame)
            files.append(Path(path).name)
    if len(frames) > 1:
        out.problems += _across_files(frames, files)
    if frames:
        out.data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if events:
        _add_events(out, sets, events)
    return out


def _add_events(out: Inputs, sets: list, events: Sequence[tuple[str, str | Path]]) -> None:
    """Each export read and checked against the registry, its month's derived columns laid
    beside the monthly tables' values (a unit-month in both gets one row)."""
    from .derive import derive, source_of, source_units
    from .events import ingest_events, source_headers

    if out.registry is None:
        out.problems.append(
            Problem("no_registry", "导入事件数据须同时给出单位名册(--units):事件要落到单位上")
        )
        return
    derived: dict[tuple[str, str], pd.DataFrame] = {}
    for source_id, path in events:
        try:
            source = source_of(sets, source_id)
        except ProblemsError as exc:
            out.problems += [replace(p, file=str(path)) for p in exc.problems]
            continue
        units = source_units(out.registry, sets, source_id)
        raw = read_table(path, text_columns=source_headers(source))
        ingested = ingest_events(raw, source, units)
        out.problems += ingested.problems
        if ingested.frame is None:
            continue
        if (source_id, ingested.period) in derived:
            out.problems.append(
                Problem(
                    "events_many_months",
                    f"来源“{source_id}”的 {ingested.period} 给了两个文件:每个来源每月一个文件",
                    file=str(path),
                )
            )
            continue
        derived[(source_id, ingested.period)] = derive(
            ingested.frame, sets, source, units, ingested.period
        )
    if errors_only(out.problems) or not derived:
        return
    by_month: dict[str, pd.DataFrame] = {}
    for (_, period), frame in sorted(derived.items()):
        month = by_month.get(period)
        by_month[period] = frame if month is None else month.merge(frame, how="outer")
    values = pd.concat(by_month.values(), ignore_index=True)
    if out.data is None:
        out.data = values
        return
    out.data = out.data.merge(values, on=["unit_code", "period"], how="outer")


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
