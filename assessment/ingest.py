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

from .headers import KEY_COLUMNS, PERSONAL_DATA, header_map, normalise
from .problems import ERROR, WARNING, Problem, errors_only
from .readers import RawTable
from .registry import leaf_units
from .rules import RuleSet
from .textcols import (
    as_text,
    clean_text,
    distinct,
    has_duplicates,
    map_distinct,
    member,
    positions,
)

TRUE_WORDS = ("是", "有", "已完成", "完成", "已开展", "已召开", "true", "yes", "y", "√", "✓")
FALSE_WORDS = ("否", "无", "未完成", "未开展", "未召开", "false", "no", "n", "×", "✗")
BOOL_MAP = {**{w: "1" for w in TRUE_WORDS}, **{w: "0" for w in FALSE_WORDS}}
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


def to_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as organizers type them (``85%``, ``８５``, ``1,200``, ``是``/``否``, blanks).

    Returns the float values (NaN for blanks) and a mask of cells that are not numbers.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(values), bool)
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64").to_numpy(na_value=np.nan), np.zeros(len(values), bool)
    text = values.astype("string").str.normalize("NFKC").str.strip()
    lowered = text.str.lower()
    text = lowered.map(BOOL_MAP).fillna(text) if lowered.isin(BOOL_MAP).any() else text
    cleaned = text.str.replace(",", "", regex=False).str.removesuffix("%").str.strip()
    numbers = pd.to_numeric(cleaned, errors="coerce")
    blank = text.isna() | (text == "")
    bad = (~blank & numbers.isna()).to_numpy(dtype=bool, na_value=False)
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan), bad


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
    if raw.frame is None:
        return Ingested(None, list(raw.problems))
    file, df = raw.file, raw.frame
    problems: list[Problem] = list(raw.problems)

    def add(code, message, row=None, column="", value="", severity=ERROR):
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

    if len(df) == 0:
        add("empty_file", "文件只有表头没有数据:请填入各单位的数据后再上传")
        return Ingested(None, problems)
    mapping = header_map(rule_sets)
    known = {col.id: col for r in rule_sets for col in [*r.indicators(), *r.inputs]}
    columns: dict[str, str] = {}
    for header in df.columns:
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
            if norm:
                hint = difflib.get_close_matches(norm, list(mapping), n=1, cutoff=0.75)
                tip = f",是否应为“{hint[0]}”?" if hint else ",将被忽略"
                add(
                    "unknown_column",
                    f"列“{header}”不是本规则集的指标{tip}",
                    column=str(header),
                    severity=WARNING,
                )
        elif col in columns.values():
            first = next(h for h, c in columns.items() if c == col)
            add(
                "duplicate_column",
                f"列“{header}”与列“{first}”是同一个指标“{col}”:请删除其中一列",
                column=str(header),
            )
        else:
            columns[str(header)] = col
    by_id = {col: header for header, col in columns.items()}
    if "unit_code" not in by_id:
        add(
            "missing_column",
            "缺少“单位代码”列(unit_code):每行须写明村/社区的统计用区划代码",
            row=1,
            column="unit_code",
        )
        return Ingested(None, problems, columns)

    rows = np.arange(len(df)) + FIRST_DATA_ROW
    codes = clean_text(df[by_id["unit_code"]]).str.removesuffix(".0")
    empty_code = codes == ""
    for r in rows[empty_code.to_numpy()]:
        add(
            "empty_code",
            "单位代码为空:请填写该行单位的代码,或删除空行",
            row=int(r),
            column="unit_code",
        )

    # Period: a column, or given at upload; both must agree.
    if "period" in by_id:
        raw_periods = as_text(df[by_id["period"]])
        parsed = map_distinct(raw_periods, lambda v: parse_period(v) if v else None)
        for r, v in zip(
            rows[parsed.isna().to_numpy()], df.loc[parsed.isna(), by_id["period"]], strict=True
        ):
            add(
                "bad_period",
                f"月份“{v}”无法识别:请写成 2026-10、2026/10 或 2026年10月",
                row=int(r),
                column=by_id["period"],
                value=v,
            )
        if period is not None:
            off = parsed.notna() & (parsed != period)
            for r, v in zip(rows[off.to_numpy()], parsed[off], strict=True):
                add(
                    "period_mismatch",
                    f"此行月份为 {v},与上传时选择的 {period} 不一致:请核对文件是否选错",
                    row=int(r),
                    column=by_id["period"],
                    value=v,
                )
        periods = parsed.fillna(period or "")
    elif (period or fill_period) is not None:
        periods = pd.Series(period or fill_period, index=df.index)
    else:
        add(
            "period_missing",
            "文件中没有“月份”列,上传时也未指定月份:请添加 period 列或在上传时选择月份",
            row=1,
            column="period",
        )
        periods = pd.Series("", index=df.index)

    keys = codes if len(distinct(periods)) <= 1 else codes + "\x1f" + periods
    dup = np.zeros(len(codes), dtype=bool)
    if has_duplicates(keys):  # the common case (none) costs one hash pass
        dup = ((codes != "") & keys.duplicated(keep=False)).to_numpy()
    for r, c in zip(rows[dup], codes[dup], strict=True):
        add(
            "duplicate_unit",
            f"单位 {c} 在同一月份出现多行:每个单位每月只能有一行,请删除重复行",
            row=int(r),
            column="unit_code",
            value=c,
        )

    out = pd.DataFrame({"unit_code": as_text(codes), "period": as_text(periods)})
    values: dict[str, np.ndarray] = {}
    counts, rates = _counts_and_rates(rule_sets)
    for col_id, header in by_id.items():
        if col_id in KEY_COLUMNS:
            if col_id in ("unit_name", "unit_type"):
                out[col_id] = as_text(df[header])
            continue
        numbers, bad = to_numbers(df[header])
        for r, v in zip(rows[bad], df[header][bad], strict=True):
            add(
                "not_a_number",
                f"“{v}”不是数字:请填写数字(可带 %),是/否 类指标填 是 或 否,无数据请留空",
                row=int(r),
                column=header,
                value=v,
            )
        values[col_id] = numbers
        spec = known[col_id]
        if spec.valid_range is not None:
            lo, hi = spec.valid_range
            with np.errstate(invalid="ignore"):
                off = (numbers < lo) | (numbers > hi)
                if col_id in counts:  # a negative count gets its own, clearer message
                    off &= ~(numbers < 0)
            for r, v in zip(rows[off], numbers[off], strict=True):
                add(
                    "out_of_range",
                    f"{v:g} 超出“{spec.name}”的有效范围 [{lo:g}, {hi:g}]:请核对是否填错或多打了一位",
                    row=int(r),
                    column=header,
                    value=f"{v:g}",
                )
    _check_counts(counts, rates, values, by_id, rows, add)
    if registry is not None:
        _check_registry(rule_sets, registry, out, df, by_id, rows, period, add)
    if require_columns:
        _check_required(rule_sets, registry, out, by_id, add)
    if errors_only(problems):
        return Ingested(None, problems, columns)
    frame = pd.concat([out, pd.DataFrame(values, index=out.index)], axis=1)
    return Ingested(frame, problems, columns)


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


def _check_registry(rule_sets, registry, out, df, by_id, rows, period, add) -> None:
    unknown = (out["unit_code"] != "") & ~member(out["unit_code"], registry["unit_code"])
    if unknown.any():
        by_name = dict(zip(registry["unit_name"], registry["unit_code"], strict=True))
        names = as_text(df[by_id["unit_name"]]) if "unit_name" in by_id else None
        for i in np.flatnonzero(unknown.to_numpy()):
            code = out["unit_code"].iat[i]
            name = names.iat[i] if names is not None else None
            hint = (
                f"。名册中“{name}”的代码是 {by_name[name]},是否填错?"
                if name in by_name
                else "。请核对代码,或先在单位名册中登记该单位"
            )
            add(
                "unknown_unit",
                f"单位代码 {code} 不在单位名册中{hint}",
                row=int(rows[i]),
                column="unit_code",
                value=code,
            )
    leaves = leaf_units(registry)
    types = {t for r in rule_sets for t in (r.applies_to or leaves["unit_type"].unique())}
    expected = leaf_units(leaves, types)
    for p in sorted(set(distinct(out["period"])) - {""}) or ([period] if period else []):
        silent = expected[~member(expected["unit_code"], out.loc[out["period"] == p, "unit_code"])]
        for code, name in zip(silent["unit_code"], silent["unit_name"], strict=True):
            add(
                "not_reported",
                f"{name}({code}){p} 未上报:该单位将显示为“数据不全”",
                column="unit_code",
                value=code,
                severity=WARNING,
            )


def _check_required(rule_sets, registry, out, by_id, add) -> None:
    """Every column a rule set needs, for the unit types this file holds."""
    present_types = None
    if registry is not None:
        pos = positions(out["unit_code"], registry["unit_code"])
        present = np.zeros(len(registry), dtype=bool)
        present[pos[pos >= 0]] = True
        present_types = set(distinct(registry["unit_type"][present]))
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
