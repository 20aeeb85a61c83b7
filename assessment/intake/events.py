"""Read another system's export (one row per event: a 12345 ticket, a grid event) as its
rule-set ``source`` declares it, with every problem found at once.

``ingest_events`` maps the headers to the source's columns, reads each by its type (dates as
people and Excel write them, numbers as in monthly tables, 是/否 flags), places every event in
its unit (by code, or by name within its parent) and its month, and refuses the whole file on
any error: an unknown unit, a name two units share, an event of another month, an event id
given twice, a date that does not parse. Columns the source does not declare are not kept (an
export's caller names and phone numbers never reach the store).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..problems import ERROR, WARNING, Problem, ProblemCollector, errors_only
from ..rules.models import Source, SourceColumn, normalise
from .divisions import short_name
from .numbers import BOOL_MAP, to_numbers, why_not_a_number
from .readers import RawTable
from .textcols import (
    clean_code,
    clean_text,
    has_duplicates,
    map_distinct,
    positions,
    text_series,
    to_arrow,
)

FIRST_DATA_ROW = 2


@dataclass
class EventsIngested:
    frame: pd.DataFrame | None  # event_id, unit_code, the source's columns by id; None on error
    period: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.frame is not None and not errors_only(self.problems)


def source_headers(source: Source) -> set[str]:
    """Normalised headers of the source's text columns (codes keep their leading zeros)."""
    return {
        normalise(h) for c in source.columns if c.type == "text" for h in (c.id, c.name, *c.aliases)
    }


def ingest_events(
    raw: RawTable, source: Source, units: pd.DataFrame, period: str | None = None
) -> EventsIngested:
    """``units``: the registry rows events may belong to (unit_code, unit_name, parent_code,
    parent_name), the uploader's scope of the unit types that derive from this source;
    ``period``: the month chosen at import (every event must fall in it), or None to take it
    from the events when they all fall in one month."""
    if raw.table is None:
        return EventsIngested(None, period or "", list(raw.problems))
    up = _Events(raw, source)
    if not raw.table.num_rows:
        up.add("empty_file", "文件只有表头没有数据:请导出含事件的表格后再上传")
        return up.finished(period)
    _map_headers(up)
    if errors_only(up.problems):
        return up.finished(period)
    _read_ids(up)
    for column in source.columns:
        if column.id not in (source.event_id, source.unit.code):
            _read_typed(up, column)
    period = _place_in_month(up, period)
    _place_in_units(up, units)
    return up.finished(period)


@dataclass
class _Events:
    raw: RawTable
    source: Source
    problems: ProblemCollector = field(init=False)
    where: dict[str, int] = field(default_factory=dict)  # column id -> position in the table
    header: dict[str, str] = field(default_factory=dict)  # column id -> its header in the file
    out: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.problems = ProblemCollector(self.raw.problems)
        self.rows = np.arange(self.raw.table.num_rows) + FIRST_DATA_ROW

    def add(self, code, message, row=None, column="", value="", severity=ERROR) -> None:
        self.problems.append(
            Problem(
                code=code,
                message=message,
                file=self.raw.file,
                row=None if row is None else int(row),
                column=column,
                value=str(value)[:60],
                severity=severity,
            )
        )

    def cells(self, column_id: str) -> pa.ChunkedArray:
        return self.raw.table.column(self.where[column_id])

    def report(self, code: str, mask: np.ndarray, column_id: str, message) -> None:
        """A problem per row where ``mask`` holds (the first ones; the rest are counted);
        ``message`` makes the text from the cell."""
        shown = self.problems.first(code, mask)
        if not len(shown):
            return
        cells = self.cells(column_id).take(pa.array(shown)).to_pylist()
        for i, cell in zip(shown, cells, strict=True):
            self.add(code, message(cell), self.rows[i], self.header[column_id], cell or "")

    def finished(self, period: str | None) -> EventsIngested:
        problems = self.problems.finished(self.raw.file)
        if errors_only(problems):
            return EventsIngested(None, period or "", problems)
        frame = pd.DataFrame(self.out)
        return EventsIngested(frame, period or "", problems)


def _map_headers(up: _Events) -> None:
    known = {normalise(h): c.id for c in up.source.columns for h in (c.id, c.name, *c.aliases)}
    ignored = []
    for i, header in enumerate(up.raw.table.column_names):
        column = known.get(normalise(header))
        if column is None:
            ignored.append(str(header))
        elif column in up.where:
            up.add(
                "duplicate_column",
                f"列“{header}”与列“{up.header[column]}”是同一列“{column}”:请删除其中一列",
                column=str(header),
            )
        else:
            up.where[column], up.header[column] = i, str(header)
    for column in up.source.columns:
        if column.id not in up.where:
            up.add(
                "missing_column",
                f"缺少“{column.name}”列({column.id}):{up.source.name}的导出表须有这一列",
                row=1,
                column=column.name,
            )
    if ignored:
        shown = "、".join(ignored[:12]) + (f" 等 {len(ignored)} 列" if len(ignored) > 12 else "")
        up.add(
            "unknown_column",
            f"以下列不是{up.source.name}声明的列,已忽略且不保存: {shown}",
            column=ignored[0],
            severity=WARNING,
        )


def _read_ids(up: _Events) -> None:
    event_id = up.source.event_id
    ids = clean_code(up.cells(event_id))
    up.report(
        "empty_event_id",
        (ids == "").to_numpy(),
        event_id,
        lambda _: "事件编号为空:每行须有唯一的编号(如工单编号)",
    )
    if has_duplicates(ids):
        dup = (ids != "").to_numpy() & ids.duplicated(keep="first").to_numpy()
        up.report(
            "duplicate_event",
            dup,
            event_id,
            lambda v: f"编号“{v}”在文件中出现多次:同一事件只能有一行,请删除重复行",
        )
    up.out["event_id"] = ids


def _read_typed(up: _Events, column: SourceColumn) -> None:
    cells = up.cells(column.id)
    if column.type == "date":
        values, bad = parse_dates(cells)
        up.report(
            "bad_date",
            bad,
            column.id,
            lambda v: (
                f"“{v}”不是日期:请写成 2026-10-03 或 2026-10-03 14:20(Excel 中请把该列设为日期格式)"
            ),
        )
    elif column.type == "number":
        values, bad = to_numbers(cells)
        shown = up.problems.first("not_a_number", bad)
        for i in shown:
            cell = cells[int(i)].as_py()
            code, message = why_not_a_number(cell, False)
            up.add(code, message, up.rows[i], up.header[column.id], cell)
    elif column.type == "flag":
        text = clean_text(cells).str.lower()
        values = np.array(text.map(BOOL_MAP).astype("float64"), dtype=np.float64)
        values[(text == "").to_numpy()] = np.nan
        up.report(
            "bad_flag",
            np.isnan(values) & (text != "").to_numpy(),
            column.id,
            lambda v: f"“{v}”不是 是/否:请填写 是 或 否(或 1、0),不清楚请留空",
        )
    else:
        values = clean_text(cells)  # Arrow-backed text, no Python string per cell
    up.out[column.id] = values


def parse_dates(cells: pa.ChunkedArray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates and times as people and Excel write them (2026-10-03, 2026/10/3 14:20,
    2026年10月3日, 2026-10-03T14:20:05), as datetime64[s] (NaT for an empty cell), and a mask
    of cells that are not a real date (2026-02-30, 44000, 2026-10, 十月三日)."""
    arrow = isinstance(cells, pa.ChunkedArray | pa.Array)
    if arrow and pa.types.is_timestamp(cells.type) and cells.type.tz is None:  # read as dates
        values = pc.cast(cells, pa.timestamp("s")).to_numpy(zero_copy_only=False)
        return values.astype("datetime64[s]"), np.zeros(len(values), dtype=bool)
    text = to_arrow(clean_text(cells))
    values = _iso(text)
    odd = np.isnat(values) & pc.not_equal(text, "").to_numpy(zero_copy_only=False)
    if odd.any():  # 2026/10/3, 2026年10月3日: written the ISO way first (only these cells)
        rows = np.flatnonzero(odd)
        some = text.take(pa.array(rows))
        for pattern, into in ((r"[年/.]", "-"), ("月", "-"), ("日", " "), (r"\s+", " ")):
            some = pc.replace_substring_regex(some, pattern, into)
        values[rows] = _iso(pc.utf8_trim_whitespace(some))
    empty = pc.equal(text, "").to_numpy(zero_copy_only=False)
    return values, np.isnat(values) & ~empty


def _iso(text: pa.Array) -> np.ndarray:
    """Cells shaped year-month-day[ time] parsed strictly (2026-02-30 is not a date); a year
    and month alone, a zone, a week date or a serial number are not dates here."""
    shaped = pc.and_(
        pc.equal(pc.count_substring(text, "-"), 2),
        pc.invert(pc.match_substring_regex(text, "[+ZzWw]|^-|--")),
    )
    shaped = pc.fill_null(shaped, False)
    unified = text_series(pc.if_else(shaped, text, ""))
    stamps = pd.to_datetime(unified, format="ISO8601", errors="coerce")
    return np.array(stamps.to_numpy(dtype="datetime64[s]"))


def _place_in_month(up: _Events, period: str | None) -> str | None:
    """Every event of the chosen month by the source's ``month_by`` date (or, when none was
    chosen, the one month the events fall in)."""
    column = up.source.month_by
    if column not in up.out:
        return period
    dates = up.out[column]
    month_of = dates.astype("datetime64[M]")
    blank = np.isnat(dates) & (clean_text(up.cells(column)) == "").to_numpy()
    up.report(
        "bad_date",
        blank,
        column,
        lambda _: f"“{up.header[column]}”为空:每个事件须有这一日期,它决定事件属于哪个月",
    )
    found, counts = np.unique(month_of[~np.isnat(dates)], return_counts=True)
    present = [str(m) for m in found]  # 2026-10
    if period is None and len(present) > 1:
        listed = "、".join(f"{m}({n} 条)" for m, n in zip(present, counts, strict=True))
        up.add(
            "events_many_months",
            f"文件含多个月份的事件: {listed}。请选择要导入的月份,或按月分开导出",
            column=up.header[column],
        )
        return None
    period = period or (present[0] if present else None)
    if period is not None:
        up.report(
            "event_outside_month",
            ~np.isnat(dates) & (month_of != np.datetime64(period, "M")),
            column,
            lambda v: f"“{v}”不在 {period}:一个文件只导入一个月的事件,请核对导出的日期范围",
        )
    return period


def _place_in_units(up: _Events, units: pd.DataFrame) -> None:
    """The unit of each event: by code among ``units``, or by name (full or short form)
    within its parent's name or code."""
    unit = up.source.unit
    if unit.code is not None and unit.code in up.where:
        codes = clean_code(up.cells(unit.code))
        at = positions(codes, units["unit_code"])
        up.report(
            "unknown_unit",
            at < 0,
            unit.code,
            lambda v: (
                f"单位代码“{v}”不在单位名册(您的管辖范围内适用该来源的村/社区)中:"
                "请核对代码,或先在名册中登记"
            ),
        )
        up.out["unit_code"] = codes
        return
    names = _key(up.cells(unit.name))
    parents = _key(up.cells(unit.parent)) if unit.parent else pd.Series("", index=names.index)
    # an export names a few thousand units many times over: resolve each (name, parent) once
    at, _ = pd.factorize(names + "\x1f" + parents)
    firsts = np.unique(at, return_index=True)[1]
    distinct = pd.DataFrame(
        {"name": names.to_numpy()[firsts], "parent": parents.to_numpy()[firsts], "pair": at[firsts]}
    )
    lookup = _name_lookup(units, with_parent=unit.parent is not None)
    found = distinct.merge(lookup, on=["name", "parent"], how="left")
    per_pair = found.groupby("pair")["unit_code"].agg(["nunique", "first"])
    count = per_pair["nunique"].to_numpy()[at]
    where = f"(上级“{up.header[unit.parent]}”下)" if unit.parent else ""
    up.report(
        "unknown_unit_name",
        count == 0,
        unit.name,
        lambda v: f"名称“{v}”{where}在名册(您的管辖范围)中找不到:请核对名称,或改用单位代码",
    )
    up.report(
        "ambiguous_unit_name",
        count > 1,
        unit.name,
        lambda v: f"名称“{v}”{where}对应名册中的多个单位:请在导出中加上上级单位或改用单位代码",
    )
    codes = per_pair["first"].where(per_pair["nunique"] == 1, "").fillna("")
    up.out["unit_code"] = text_series(pa.array(codes.to_numpy(dtype=object)[at], type=pa.string()))


def _key(values) -> pd.Series:
    """A name as matched: NFKC, no spaces, case folded (each distinct name once)."""
    return map_distinct(clean_text(values), normalise)


def _name_lookup(units: pd.DataFrame, with_parent: bool) -> pd.DataFrame:
    """(name, parent) -> unit_code for every way an export may write them: the official and
    the short name, within the parent's code, official or short name."""
    names = units["unit_name"].astype(str)
    name_forms = [_key(names), _key(names.map(short_name))]
    if with_parent:
        parent_names = units["parent_name"].astype(str)
        parent_forms = [
            _key(units["parent_code"].astype(str)),
            _key(parent_names),
            _key(parent_names.map(short_name)),
        ]
    else:
        parent_forms = [pd.Series("", index=units.index)]
    frames = [
        pd.DataFrame(
            {
                "name": n.to_numpy(),
                "parent": p.to_numpy(),
                "unit_code": units["unit_code"].to_numpy(),
            }
        )
        for n in name_forms
        for p in parent_forms
    ]
    return pd.concat(frames, ignore_index=True).drop_duplicates()
