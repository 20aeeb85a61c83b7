"""Turn an uploaded monthly table into a tidy frame, with every problem found at once.

One pass of vectorised checks per column: a problem record is built only for the cells that
fail. A table with any error is rejected whole (nothing is half-imported); warnings pass.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .headers import KEY_COLUMNS, PERSONAL_DATA, header_map, normalise
from .problems import ERROR, WARNING, Problem, ProblemCollector, errors_only
from .readers import RawTable
from .registry import leaf_mask
from .rules import RuleSet
from .textcols import (
    as_text,
    clean_code,
    distinct,
    has_duplicates,
    map_distinct,
    positions,
    text_series,
)

TRUE_WORDS = ("是", "有", "已完成", "完成", "已开展", "已召开", "true", "yes", "y", "√", "✓")
FALSE_WORDS = ("否", "无", "未完成", "未开展", "未召开", "false", "no", "n", "×", "✗")
BOOL_MAP = {**{w: "1" for w in TRUE_WORDS}, **{w: "0" for w in FALSE_WORDS}}
THOUSANDS = r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?"
EXCEL_ERRORS = frozenset(
    [
        "#N/A",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
        "#SPILL!",
        "#CALC!",
        "#FIELD!",
        "#BLOCKED!",
        "#UNKNOWN!",
        "#CONNECT!",
        "#BUSY!",
        "#GETTING_DATA",
    ]
)
NON_NUMBERS = frozenset(
    [
        "na",
        "n/a",
        "null",
        "none",
        "nan",
        "-nan",
        "inf",
        "-inf",
        "+inf",
        "infinity",
        "-infinity",
        "-1.#ind",
        "1.#qnan",
        "1.#inf",
    ]
)
PERIOD_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:[-/.]\d{1,2}日?)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
FIRST_DATA_ROW = 2  # spreadsheet row of the first data line (row 1 is the header)


@dataclass
class Ingested:
    frame: pd.DataFrame | None  # unit_code, period, one float column per id; None on error
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # original header -> column id

    @property
    def ok(self) -> bool:
        return self.frame is not None and not errors_only(self.problems)


def parse_period(value: object) -> str | None:
    """``2026-10``, ``2026/10``, ``2026年10月``, ``202610`` -> ``2026-10``; None if not a month."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for pattern in PERIOD_PATTERNS:
        m = pattern.match(text)
        if m and 1 <= int(m.group(2)) <= 12:
            return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None


def to_numbers(
    values: pd.Series | pa.ChunkedArray,
    out: np.ndarray | None = None,
    yes_no: bool = False,
    not_applicable: frozenset[str] = frozenset(),
) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as organizers type them (``85%``, ``８５``, ``1,200``, blanks), read exactly as
    meant or marked bad: a comma only as a thousands separator, yes/no words (``是``/``否``)
    only in a yes/no column (``yes_no``), never a non-finite number, and only an empty cell
    or a declared ``not_applicable`` marker is empty.

    Returns the float values (NaN for empty cells), written into ``out`` when given, and a mask
    of cells that are not numbers. A column Arrow already parsed as numbers is copied chunk by
    chunk, with no temporary the size of the column.
    """
    out = np.empty(len(values)) if out is None else out
    if isinstance(values, pa.ChunkedArray | pa.Array) and _numeric(values.type):
        if pa.types.is_boolean(values.type) and not yes_no:
            return out, pc.is_valid(values).to_numpy(zero_copy_only=False)
        start, bad = 0, np.zeros(len(values), bool)
        for chunk in getattr(values, "chunks", [values]):
            stop = start + len(chunk)
            out[start:stop] = pc.cast(chunk, pa.float64()).to_numpy(zero_copy_only=False)
            if pa.types.is_floating(chunk.type):  # "nan", "inf" parsed as floats
                part = out[start:stop]
                with np.errstate(invalid="ignore"):
                    wrong = ~np.isfinite(part) & chunk.is_valid().to_numpy(zero_copy_only=False)
                part[wrong] = np.nan
                bad[start:stop] = wrong
            start = stop
        return out, bad
    if not isinstance(values, pd.Series):
        values = values.to_pandas()
    if pd.api.types.is_bool_dtype(values.dtype) and not yes_no:
        out[:] = np.nan
        return out, values.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        out[:] = values.astype("float64").to_numpy(na_value=np.nan)
        with np.errstate(invalid="ignore"):
            return out, ~np.isfinite(out) & values.notna().to_numpy()
    text = values.astype("string").str.normalize("NFKC").str.strip()
    lowered = text.str.lower()
    empty = text.isna() | (text == "")
    if not_applicable:
        empty |= lowered.isin(not_applicable)
    if yes_no and lowered.isin(BOOL_MAP).any():
        text = lowered.map(BOOL_MAP).fillna(text)
    comma = text.str.contains(",", regex=False).fillna(False)
    if comma.any():
        thousands = text.str.fullmatch(THOUSANDS).fillna(False)
        text = text.where(~thousands, text.str.replace(",", "", regex=False))
        text = text.where(~(comma & ~thousands), None)
    numbers = pd.to_numeric(text.str.removesuffix("%").str.strip(), errors="coerce")
    values_out = np.array(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    with np.errstate(invalid="ignore"):
        bad = ~empty.to_numpy(dtype=bool, na_value=True) & ~np.isfinite(values_out)
    values_out[empty.to_numpy(dtype=bool, na_value=True)] = np.nan
    out[:] = values_out
    return out, bad


def why_not_a_number(cell: object, yes_no: bool) -> tuple[str, str]:
    """The problem code and message for one cell ``to_numbers`` marked bad."""
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    shown = text[:80]
    if text.upper() in EXCEL_ERRORS:
        return (
            "excel_error",
            f"单元格是 Excel 错误值“{shown}”:请在原表中修正公式或填入数值;无数据请留空",
        )
    if text.lower() in NON_NUMBERS:
        return (
            "not_a_number",
            f"“{shown}”不是数字:无数据请留空(不要填 NA、NULL、NaN),不适用请按规则集的约定填写",
        )
    if "," in text:
        return (
            "bad_comma",
            f"“{shown}”中的逗号无法确定含义:小数点请用“.”(如 9.5),千位分隔符须每三位一个(如 1,234.5)",
        )
    if text.lower() in BOOL_MAP or text.lower() in ("true", "false"):
        return (
            "yes_no_in_number",
            f"“{shown}”:是/否只能填在是/否类指标中,本列是数值指标,请填写数字",
        )
    if not yes_no:
        return "not_a_number", f"“{shown}”不是数字:请填写数字(可带 %),无数据请留空"
    return "not_a_number", f"“{shown}”不是数字:是/否 类指标填 是 或 否(或 1、0),无数据请留空"


def _at(positions: np.ndarray, n: int) -> np.ndarray:
    mask = np.zeros(n, bool)
    mask[positions] = True
    return mask


def is_yes_no(spec: object) -> bool:
    """A column where 是/否 (yes/no, TRUE/FALSE) may be typed: a pass/fail indicator, or an
    input whose valid range is exactly [0, 1]."""
    scoring = getattr(spec, "scoring", None)
    if scoring is not None and scoring.method == "pass_fail":
        return True
    return list(getattr(spec, "valid_range", None) or []) == [0, 1]


def _numeric(kind: pa.DataType) -> bool:
    return (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_null(kind)
    )


def ingest_monthly(
    raw: RawTable,
    rule_sets: Sequence[RuleSet],
    registry: pd.DataFrame | None = None,
    period: str | None = None,
    fill_period: str | None = None,
    require_columns: bool = True,
) -> Ingested:
    """``period``: the month chosen at upload (rows must agree); ``fill_period``: only used when
    the file has no period column; ``require_columns``: every column the rule sets need for the
    unit types in the file must be present (off for a partial table, e.g. 12345 data alone)."""
    if raw.table is None:
        return Ingested(None, list(raw.problems))
    file, table = raw.file, raw.table
    problems = ProblemCollector(raw.problems)

    def add(code, message, row=None, column="", value="", severity=ERROR):
        if problems.full(code, severity):
            return
        problems.append(
            Problem(
                code=code,
                message=message,
                file=file,
                row=row,
                column=column,
                value="" if value is None else str(value),
                severity=severity,
            )
        )

    if table.num_rows == 0:
        add("empty_file", "文件只有表头没有数据:请填入各单位的数据后再上传")
        return Ingested(None, problems.finished(file))
    mapping = header_map(rule_sets)
    known = {col.id: col for r in rule_sets for col in [*r.indicators(), *r.inputs]}
    columns: dict[str, str] = {}
    where: dict[str, int] = {}  # column id -> position in the table (headers may repeat)
    for i, header in enumerate(table.column_names):
        norm = normalise(header)
        col = mapping.get(norm)
        if PERSONAL_DATA.search(norm) and col is None:
            add(
                "personal_data",
                f"列“{header}”像是个人信息:只允许上传单位层面的汇总数据。"
                "请删除这一列(姓名、身份证号、电话等不得上传)",
                column=str(header),
            )
        elif col is None:
            if norm and not problems.full("unknown_column", WARNING):  # no lookup past the cap
                hint = difflib.get_close_matches(norm, list(mapping), n=1, cutoff=0.75)
                tip = f",是否应为“{hint[0]}”?" if hint else ",将被忽略"
                add(
                    "unknown_column",
                    f"列“{header}”不是本规则集的指标{tip}",
                    column=str(header),
                    severity=WARNING,
                )
        elif col in where:
            first = table.column_names[where[col]]
            add(
                "duplicate_column",
                f"列“{header}”与列“{first}”是同一个指标“{col}”:请删除其中一列",
                column=str(header),
            )
        else:
            columns[str(header)] = col
            where[col] = i
    by_id = {col: table.column_names[i] for col, i in where.items()}
    if "unit_code" not in by_id:
        add(
            "missing_column",
            "缺少“单位代码”列(unit_code):每行须写明村/社区的统计用区划代码",
            row=1,
            column="unit_code",
        )
        return Ingested(None, problems.finished(file), columns)

    def cells(col_id: str, mask: np.ndarray) -> list:
        """The cells of a column where ``mask`` holds, as the file had them."""
        return table.column(where[col_id]).take(np.flatnonzero(mask)).to_pylist()

    rows = np.arange(table.num_rows) + FIRST_DATA_ROW
    codes = clean_code(table.column(where["unit_code"]))
    empty_code = (codes == "").to_numpy()
    for i in problems.first("empty_code", empty_code):
        add(
            "empty_code",
            "单位代码为空:请填写该行单位的代码,或删除空行",
            row=int(rows[i]),
            column="unit_code",
        )

    # Period: a column, or given at upload; both must agree.
    if "period" in by_id:
        raw_periods = as_text(table.column(where["period"]))
        parsed = map_distinct(raw_periods, lambda v: parse_period(v) if v else None)
        unparsed = parsed.isna().to_numpy()
        shown = problems.first("bad_period", unparsed)
        for r, v in zip(rows[shown], cells("period", _at(shown, len(rows))), strict=True):
            add(
                "bad_period",
                f"月份“{v}”无法识别:请写成 2026-10、2026/10 或 2026年10月",
                row=int(r),
                column=by_id["period"],
                value=v,
            )
        if period is not None:
            off = (parsed.notna() & (parsed != period)).to_numpy()
            shown = problems.first("period_mismatch", off)
            for r, v in zip(rows[shown], parsed.iloc[shown], strict=True):
                add(
                    "period_mismatch",
                    f"此行月份为 {v},与上传时选择的 {period} 不一致:请核对文件是否选错",
                    row=int(r),
                    column=by_id["period"],
                    value=v,
                )
        periods = parsed.fillna(period or "")
    elif (period or fill_period) is not None:
        periods = text_series(pa.repeat(period or fill_period, len(codes)))
    else:
        add(
            "period_missing",
            "文件中没有“月份”列,上传时也未指定月份:请添加 period 列或在上传时选择月份",
            row=1,
            column="period",
        )
        periods = text_series(pa.repeat("", len(codes)))

    keys = codes if len(distinct(periods)) <= 1 else codes + "\x1f" + periods
    dup = np.zeros(len(codes), dtype=bool)
    if has_duplicates(keys):  # the common case (none) costs one pass
        dup = ~empty_code & keys.duplicated(keep=False).to_numpy()
    shown = problems.first("duplicate_unit", dup)
    for r, c in zip(rows[shown], codes.iloc[shown], strict=True):
        add(
            "duplicate_unit",
            f"单位 {c} 在同一月份出现多行:每个单位每月只能有一行,请删除重复行",
            row=int(r),
            column="unit_code",
            value=c,
        )

    out = pd.DataFrame({"unit_code": codes, "period": periods})
    for col_id in ("unit_name", "unit_type"):
        if col_id in where:
            out[col_id] = as_text(table.column(where[col_id]))
    # The numbers go straight into one column-major matrix: the engine's layout.
    ids = [c for c in where if c not in KEY_COLUMNS]
    matrix = np.empty((len(codes), len(ids)), order="F")
    values: dict[str, np.ndarray] = {}
    counts, rates = _counts_and_rates(rule_sets)
    not_applicable = frozenset(
        unicodedata.normalize("NFKC", m).strip().lower()
        for r in rule_sets
        for m in r.not_applicable
    )
    for j, col_id in enumerate(ids):
        header = by_id[col_id]
        spec = known[col_id]
        yes_no = is_yes_no(spec)
        numbers, bad = to_numbers(table.column(where[col_id]), matrix[:, j], yes_no, not_applicable)
        shown = problems.first(
            "not_a_number", bad
        )  # the first hundred classified, the rest counted
        for r, v in zip(rows[shown], cells(col_id, _at(shown, len(rows))), strict=True):
            code, message = why_not_a_number(v, yes_no)
            add(code, message, row=int(r), column=header, value=str(v)[:80])
        values[col_id] = numbers
        if spec.valid_range is not None:
            lo, hi = spec.valid_range
            with np.errstate(invalid="ignore"):
                off = (numbers < lo) | (numbers > hi)
                if col_id in counts:  # a negative count gets its own, clearer message
                    off &= ~(numbers < 0)
            shown = problems.first("out_of_range", off)
            for r, v in zip(rows[shown], numbers[shown], strict=True):
                add(
                    "out_of_range",
                    f"{v:g} 超出“{spec.name}”的有效范围 [{lo:g}, {hi:g}]:请核对是否填错或多打了一位",
                    row=int(r),
                    column=header,
                    value=f"{v:g}",
                )
    _check_counts(counts, rates, values, by_id, rows, add)
    present_types = None
    if registry is not None:
        names = table.column(where["unit_name"]) if "unit_name" in where else None
        present_types = _check_registry(rule_sets, registry, out, names, rows, period, add)
    if require_columns:
        _check_required(rule_sets, present_types, by_id, add)
    if errors_only(problems):
        return Ingested(None, problems.finished(file), columns)
    frame = pd.DataFrame(matrix, columns=ids, copy=False)  # no copy: the matrix is the block
    for i, key in enumerate(out.columns):
        frame.insert(i, key, out[key])
    return Ingested(frame, problems.finished(file), columns)


def _counts_and_rates(rule_sets) -> tuple[set[str], dict[tuple[str, str], str]]:
    """Columns that count things (never negative) and each distinct (numerator, denominator)
    pair with the name of an indicator computed from it."""
    counts: set[str] = set()
    rates: dict[tuple[str, str], str] = {}
    for r in rule_sets:
        for ind in r.indicators():
            if ind.rate is not None:
                counts |= {ind.rate.numerator, ind.rate.denominator}
                rates.setdefault((ind.rate.numerator, ind.rate.denominator), ind.name)
            elif ind.scoring.method == "deduct":
                counts.add(ind.id)
    return counts, rates


def _check_counts(counts, rates, values, by_id, rows, add) -> None:
    """Counts are never negative, and a rate's numerator never exceeds its denominator."""
    for (num_id, den_id), name in rates.items():
        num, den = values.get(num_id), values.get(den_id)
        if num is None or den is None:
            continue
        with np.errstate(invalid="ignore"):
            off = num > den
        for rr, a, b in zip(rows[off], num[off], den[off], strict=True):
            add(
                "numerator_gt_denominator",
                f"“{by_id[num_id]}” {a:g} 大于 “{by_id[den_id]}” {b:g}:计算“{name}”时分子不能大于分母,请核对",
                row=int(rr),
                column=by_id[num_id],
                value=f"{a:g}",
            )
    for col in sorted(counts & set(values)):
        with np.errstate(invalid="ignore"):
            off = values[col] < 0
        for rr, v in zip(rows[off], values[col][off], strict=True):
            add(
                "negative_value",
                f"{v:g} 是负数:次数、人数、天数不能为负,请核对",
                row=int(rr),
                column=by_id[col],
                value=f"{v:g}",
            )


def _check_registry(rule_sets, registry, out, names, rows, period, add) -> set[str]:
    """Unknown codes and silent units, from one hash join of the file's codes into the
    registry. Returns the unit types the file holds."""
    pos = positions(out["unit_code"], registry["unit_code"])  # registry row of each row, or -1
    unknown = np.flatnonzero((out["unit_code"] != "").to_numpy() & (pos < 0))
    if len(unknown):
        by_name = dict(zip(registry["unit_name"], registry["unit_code"], strict=True))
        sent_names = names.take(unknown).to_pylist() if names is not None else [None] * len(unknown)
        for i, name in zip(unknown, sent_names, strict=True):
            code = out["unit_code"].iat[i]
            hint = (
                f"。名册中“{name}”的代码是 {by_name[name]},是否填错?"
                if name in by_name
                else "。请核对代码,或先在单位名册中登记该单位"
            )
            add(
                "unknown_unit",
                f"单位代码 {code} 不在单位名册(您的管辖范围)中{hint}",
                row=int(rows[i]),
                column="unit_code",
                value=code,
            )
    restricted = all(r.applies_to is not None for r in rule_sets)
    expected = leaf_mask(
        registry, {t for r in rule_sets for t in r.applies_to or []} if restricted else None
    )
    in_file = pos >= 0
    file_periods = distinct(out["period"])
    for p in sorted(set(file_periods) - {""}) or ([period] if period else []):
        sent = (
            pos[in_file & (out["period"] == p).to_numpy()]
            if len(file_periods) > 1
            else pos[in_file]
        )
        silent = expected.copy()
        silent[sent] = False
        for i in np.flatnonzero(silent):
            code, name = registry["unit_code"].iat[i], registry["unit_name"].iat[i]
            add(
                "not_reported",
                f"{name}({code}){p} 未上报:该单位将显示为“数据不全”",
                column="unit_code",
                value=code,
                severity=WARNING,
            )
    return set(distinct(registry["unit_type"].iloc[pos[in_file]]))


def _check_required(rule_sets, present_types, by_id, add) -> None:
    """Every column a rule set needs, for the unit types this file holds (all of them when
    there is no registry to tell the types)."""
    missing: dict[str, str] = {}
    for r in rule_sets:
        if (
            present_types is not None
            and r.applies_to is not None
            and not present_types & set(r.applies_to)
        ):
            continue
        names = {c.id: c.name for c in [*r.indicators(), *r.inputs]}
        needed = []
        for ind in r.indicators():
            if (
                present_types is not None
                and ind.applies_to is not None
                and not present_types & set(ind.applies_to)
            ):
                continue
            needed += [ind.rate.numerator, ind.rate.denominator] if ind.rate else [ind.id]
        needed += [v.column for v in r.vetoes]
        for col in needed:
            if col not in by_id:
                missing.setdefault(col, names.get(col, col))
    for col, name in missing.items():
        add(
            "missing_column",
            f"缺少“{name}”列({col}):请按模板补上这一列,没有数据的单元格可留空",
            row=1,
            column=col,
        )
