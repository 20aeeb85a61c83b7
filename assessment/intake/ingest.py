"""Turn an uploaded monthly table into a tidy frame, with every problem found at once.

``ingest_monthly`` is a short sequence of named checks over one ``_Upload``: each check is one
vectorised pass over a column or two that turns a mask into problems (records only for the
first hundred cells per code, the rest counted). A table with any error is rejected whole
(nothing is half-imported); warnings pass. What each code means is declared once in
``assessment.problems.codes``.
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

from ..problems import ERROR, WARNING, Problem, ProblemCollector, errors_only
from ..rules.models import RuleSet
from .derive import derived_columns
from .headers import KEY_COLUMNS, PERSONAL_DATA, header_map, normalise
from .matrices import empty_matrix
from .numbers import is_yes_no, to_numbers, why_not_a_number
from .parallel import for_each
from .readers import RawTable
from .registry import leaf_mask
from .textcols import (
    as_text,
    clean_code,
    distinct,
    has_duplicates,
    map_distinct,
    positions,
    text_series,
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


def ingest_monthly(
    raw: RawTable,
    rule_sets: Sequence[RuleSet],
    registry: pd.DataFrame | None = None,
    period: str | None = None,
    fill_period: str | None = None,
    require_columns: bool = True,
    expect_all: bool = True,
) -> Ingested:
    """``period``: the month chosen at upload (rows must agree); ``fill_period``: only used when
    the file has no period column; ``require_columns``: every column the rule sets need for the
    unit types in the file must be present (off for a partial table, e.g. 12345 data alone);
    ``expect_all``: warn of every unit of the registry the file leaves out (off for a
    correction of a few units)."""
    if raw.table is None:
        return Ingested(None, list(raw.problems))
    up = _Upload(raw, rule_sets)
    if not _has_rows(up):
        return up.rejected()
    _map_headers(up)
    if not _has_unit_codes(up):
        return up.rejected()
    _check_codes(up)
    _check_periods(up, period, fill_period)
    _check_duplicates(up)
    _read_numbers(up)
    _check_counts(up)
    types = _check_registry(up, registry, period, expect_all) if registry is not None else None
    if require_columns:
        _check_required(up, types)
    return up.rejected() if errors_only(up.problems) else up.accepted()


@dataclass
class _Upload:
    """One upload as the checks see it: the table, where each known column is, what has been
    read so far and the problems found."""

    raw: RawTable
    rule_sets: Sequence[RuleSet]
    problems: ProblemCollector = field(init=False)
    where: dict[str, int] = field(default_factory=dict)  # column id -> position in the table
    columns: dict[str, str] = field(default_factory=dict)  # header -> column id
    keys: pd.DataFrame | None = None  # unit_code, period (+ unit_name, unit_type)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # column id -> numbers
    matrix: np.ndarray | None = None  # the numbers, column-major: the engine's layout

    def __post_init__(self) -> None:
        self.problems = ProblemCollector(self.raw.problems)
        self.table = self.raw.table
        self.rows = np.arange(self.table.num_rows) + FIRST_DATA_ROW

    @property
    def by_id(self) -> dict[str, str]:  # column id -> its header in the file
        return {col: self.table.column_names[i] for col, i in self.where.items()}

    def add(self, code, message, row=None, column="", value="", severity=ERROR) -> None:
        if self.problems.full(code, severity):
            return
        self.problems.append(
            Problem(
                code=code,
                message=message,
                file=self.raw.file,
                row=None if row is None else int(row),
                column=column,
                value="" if value is None else str(value),
                severity=severity,
            )
        )

    def name(self, col_id: str) -> str:
        """What the rule sets call a column, in Chinese (its header when they do not say)."""
        for r in self.rule_sets:
            for spec in [*r.indicators(), *r.inputs]:
                if spec.id == col_id and spec.name:
                    return spec.name
        return self.by_id.get(col_id, col_id)

    def column(self, col_id: str):
        return self.table.column(self.where[col_id])

    def cells(self, col_id: str, at: np.ndarray) -> list:
        """The cells of a column at row positions ``at``, as the file had them."""
        return self.column(col_id).take(at).to_pylist()

    def rejected(self) -> Ingested:
        return Ingested(None, self.problems.finished(self.raw.file), self.columns)

    def accepted(self) -> Ingested:
        ids = list(self.values)
        frame = pd.DataFrame(self.matrix, columns=ids, copy=False)  # the matrix is the block
        for i, key in enumerate(self.keys.columns):
            frame.insert(i, key, self.keys[key])
        return Ingested(frame, self.problems.finished(self.raw.file), self.columns)


def _has_rows(up: _Upload) -> bool:
    if up.table.num_rows:
        return True
    up.add("empty_file", "文件只有表头没有数据:请填入各单位的数据后再上传")
    return False


def _map_headers(up: _Upload) -> None:
    """Each header to the column it names (by id, name or alias); personal data refused,
    unknown headers warned of (with the closest known one), a column given twice refused."""
    mapping = header_map(up.rule_sets)
    derived = derived_columns(up.rule_sets)
    sources = {s.id: s.name for rules in up.rule_sets for s in rules.sources}
    names = up.table.column_names
    for i, header in enumerate(names):
        norm = normalise(header)
        col = mapping.get(norm)
        if PERSONAL_DATA.search(norm) and col is None:
            up.add(
                "personal_data",
                f"列“{header}”像是个人信息:只允许上传单位层面的汇总数据。"
                "请删除这一列(姓名、身份证号、电话等不得上传)",
                column=str(header),
            )
        elif col is None:
            if norm and not up.problems.full("unknown_column", WARNING):  # no lookup past it
                hint = difflib.get_close_matches(norm, list(mapping), n=1, cutoff=0.75)
                tip = f",是否应为“{hint[0]}”?" if hint else ",将被忽略"
                up.add(
                    "unknown_column",
                    f"列“{header}”不是本规则集的指标{tip}",
                    column=str(header),
                    severity=WARNING,
                )
        elif col in derived:
            up.add(
                "derived_column",
                f"列“{header}”由{sources.get(derived[col], derived[col])}的导出数据计算,"
                "不在月度表中填报:请删除这一列,并在“数据上传”页导入该来源的导出文件",
                column=str(header),
            )
        elif col in up.where:
            up.add(
                "duplicate_column",
                f"列“{header}”与列“{names[up.where[col]]}”是同一个指标“{col}”:请删除其中一列",
                column=str(header),
            )
        else:
            up.columns[str(header)] = col
            up.where[col] = i


def _has_unit_codes(up: _Upload) -> bool:
    if "unit_code" in up.where:
        return True
    up.add(
        "missing_column",
        "缺少“单位代码”列(unit_code):每行须写明村/社区的统计用区划代码",
        row=1,
        column="unit_code",
    )
    return False


def _check_codes(up: _Upload) -> None:
    codes = clean_code(up.column("unit_code"))
    up.keys = pd.DataFrame({"unit_code": codes})
    for i in up.problems.first("empty_code", (codes == "").to_numpy()):
        up.add(
            "empty_code",
            "单位代码为空:请填写该行单位的代码,或删除空行",
            row=up.rows[i],
            column="unit_code",
        )


def _check_periods(up: _Upload, period: str | None, fill_period: str | None) -> None:
    """The month of each row: a column, or the one given at upload; both must agree."""
    n = up.table.num_rows
    if "period" in up.where:
        header = up.by_id["period"]
        parsed = map_distinct(
            as_text(up.column("period")), lambda v: parse_period(v) if v else None
        )
        shown = up.problems.first("bad_period", parsed.isna().to_numpy())
        for r, v in zip(up.rows[shown], up.cells("period", shown), strict=True):
            up.add(
                "bad_period",
                f"月份“{v}”无法识别:请写成 2026-10、2026/10 或 2026年10月",
                row=r,
                column=header,
                value=v,
            )
        if period is not None:
            off = (parsed.notna() & (parsed != period)).to_numpy()
            shown = up.problems.first("period_mismatch", off)
            for r, v in zip(up.rows[shown], parsed.iloc[shown], strict=True):
                up.add(
                    "period_mismatch",
                    f"此行月份为 {v},与上传时选择的 {period} 不一致:请核对文件是否选错",
                    row=r,
                    column=header,
                    value=v,
                )
        periods = parsed.fillna(period or "")
    elif (period or fill_period) is not None:
        periods = text_series(pa.repeat(period or fill_period, n))
    else:
        up.add(
            "period_missing",
            "文件中没有“月份”列,上传时也未指定月份:请添加 period 列或在上传时选择月份",
            row=1,
            column="period",
        )
        periods = text_series(pa.repeat("", n))
    up.keys["period"] = periods
    for col_id in ("unit_name", "unit_type"):
        if col_id in up.where:
            up.keys[col_id] = as_text(up.column(col_id))


def _check_duplicates(up: _Upload) -> None:
    """One row per unit and month (the common case, none, costs one hash pass)."""
    codes, periods = up.keys["unit_code"], up.keys["period"]
    keys = codes if len(distinct(periods)) <= 1 else codes + "\x1f" + periods
    if not has_duplicates(keys):
        return
    dup = (codes != "").to_numpy() & keys.duplicated(keep=False).to_numpy()
    shown = up.problems.first("duplicate_unit", dup)
    for r, c in zip(up.rows[shown], codes.iloc[shown], strict=True):
        up.add(
            "duplicate_unit",
            f"单位 {c} 在同一月份出现多行:每个单位每月只能有一行,请删除重复行",
            row=r,
            column="unit_code",
            value=c,
        )


def _read_numbers(up: _Upload) -> None:
    """Every indicator and input column, read straight into one column-major matrix: cells
    that are not numbers (classified: Excel errors, commas, yes/no words, …) and numbers
    outside the valid range are problems."""
    known = {col.id: col for r in up.rule_sets for col in [*r.indicators(), *r.inputs]}
    counts = _counts_and_rates(up.rule_sets)[0]
    not_applicable = frozenset(
        unicodedata.normalize("NFKC", m).strip().lower()
        for r in up.rule_sets
        for m in r.not_applicable
    )
    ids = [c for c in up.where if c not in KEY_COLUMNS]
    up.matrix = empty_matrix(up.table.num_rows, len(ids))
    headers = up.by_id
    read: list = [None] * len(ids)

    def convert(j: int) -> None:  # each column into its own slice of the matrix
        spec = known[ids[j]]
        read[j] = to_numbers(up.column(ids[j]), up.matrix[:, j], is_yes_no(spec), not_applicable)

    for_each(len(ids), convert, up.table.num_rows)
    for j, col_id in enumerate(ids):
        spec, header = known[col_id], headers[col_id]
        yes_no = is_yes_no(spec)
        numbers, bad = read[j]
        shown = up.problems.first("not_a_number", bad)  # the first hundred classified
        for r, v in zip(up.rows[shown], up.cells(col_id, shown), strict=True):
            code, message = why_not_a_number(v, yes_no)
            up.add(code, message, row=r, column=header, value=str(v)[:80])
        up.values[col_id] = numbers
        if spec.valid_range is None:
            continue
        lo, hi = spec.valid_range
        with np.errstate(invalid="ignore"):
            off = (numbers < lo) | (numbers > hi)
            if col_id in counts:  # a negative count gets its own, clearer message
                off &= ~(numbers < 0)
        shown = up.problems.first("out_of_range", off)
        for r, v in zip(up.rows[shown], numbers[shown], strict=True):
            up.add(
                "out_of_range",
                f"{v:g} 超出“{spec.name}”的有效范围 [{lo:g}, {hi:g}]:请核对是否填错或多打了一位",
                row=r,
                column=header,
                value=f"{v:g}",
            )


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


def _check_counts(up: _Upload) -> None:
    """Counts are never negative, and a rate's numerator never exceeds its denominator."""
    counts, rates = _counts_and_rates(up.rule_sets)
    values, by_id = up.values, up.by_id
    for (num_id, den_id), name in rates.items():
        num, den = values.get(num_id), values.get(den_id)
        if num is None or den is None:
            continue
        with np.errstate(invalid="ignore"):
            shown = up.problems.first("numerator_gt_denominator", num > den)
        for r, a, b in zip(up.rows[shown], num[shown], den[shown], strict=True):
            up.add(
                "numerator_gt_denominator",
                f"“{up.name(num_id)}” {a:g} 大于 “{up.name(den_id)}” {b:g}:"
                f"计算“{name}”时分子不能大于分母,请核对",
                row=r,
                column=by_id[num_id],
                value=f"{a:g}",
            )
    for col in sorted(counts & set(values)):
        with np.errstate(invalid="ignore"):
            shown = up.problems.first("negative_value", values[col] < 0)
        for r, v in zip(up.rows[shown], values[col][shown], strict=True):
            up.add(
                "negative_value",
                f"{v:g} 是负数:次数、人数、天数不能为负,请核对",
                row=r,
                column=by_id[col],
                value=f"{v:g}",
            )


def _check_registry(
    up: _Upload, registry: pd.DataFrame, period: str | None, expect_all: bool = True
) -> set[str]:
    """Unknown codes and silent units, from one hash join of the file's codes into the
    registry. Returns the unit types the file holds."""
    codes = up.keys["unit_code"]
    pos = positions(codes, registry["unit_code"])  # registry row of each row, or -1
    unknown = up.problems.first("unknown_unit", (codes != "").to_numpy() & (pos < 0))
    if len(unknown):
        by_name = dict(zip(registry["unit_name"], registry["unit_code"], strict=True))
        names = up.cells("unit_name", unknown) if "unit_name" in up.where else [None] * len(unknown)
        for i, name in zip(unknown, names, strict=True):
            hint = (
                f"。名册中“{name}”的代码是 {by_name[name]},是否填错?"
                if name in by_name
                else "。请核对代码,或先在单位名册中登记该单位"
            )
            up.add(
                "unknown_unit",
                f"单位代码 {codes.iat[i]} 不在单位名册(您的管辖范围)中{hint}",
                row=up.rows[i],
                column="unit_code",
                value=codes.iat[i],
            )
    rule_sets = up.rule_sets
    restricted = all(r.applies_to is not None for r in rule_sets)
    expected = leaf_mask(
        registry, {t for r in rule_sets for t in r.applies_to or []} if restricted else None
    )
    in_file = pos >= 0
    file_periods = distinct(up.keys["period"])
    # the month chosen at upload, or each month the file holds (rows of another month than the
    # chosen one are errors already: no 未上报 list for a month nobody meant to upload)
    months = [period] if period else sorted(set(file_periods) - {""})
    for p in months if expect_all else []:
        this_month = (up.keys["period"] == p).to_numpy() if len(file_periods) > 1 else True
        silent = expected.copy()
        silent[pos[in_file & this_month]] = False
        for i in up.problems.first("not_reported", silent, WARNING):
            code, name = registry["unit_code"].iat[i], registry["unit_name"].iat[i]
            up.add(
                "not_reported",
                f"{name}({code}){p} 未上报:该单位将显示为“数据不全”",
                column="unit_code",
                value=code,
                severity=WARNING,
            )
    return set(distinct(registry["unit_type"].iloc[pos[in_file]]))


def _check_required(up: _Upload, present_types: set[str] | None) -> None:
    """Every column a rule set needs, for the unit types this file holds (all of them when
    there is no registry to tell the types)."""

    def applies(obj) -> bool:
        return (
            present_types is None
            or obj.applies_to is None
            or bool(present_types & set(obj.applies_to))
        )

    missing: dict[str, str] = {}
    for r in filter(applies, up.rule_sets):
        names = {c.id: c.name for c in [*r.indicators(), *r.inputs]}
        derived = r.derived()
        needed = []
        for ind in filter(applies, r.indicators()):
            needed += [ind.rate.numerator, ind.rate.denominator] if ind.rate else [ind.id]
        needed += [v.column for v in r.vetoes]
        for col in needed:
            if col not in up.where and col not in derived:
                missing.setdefault(col, names.get(col, col))
    for col, name in missing.items():
        up.add(
            "missing_column",
            f"缺少“{name}”列({col}):请按模板补上这一列,没有数据的单元格可留空",
            row=1,
            column=col,
        )
