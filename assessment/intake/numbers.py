"""Numbers as organizers type them, read exactly as meant or marked bad.

``85%``, ``８５``, ``1,200`` and blanks are numbers or empty; ``9,5``, ``#N/A``, ``NA``, ``inf``
and a 是 in a percentage column are not, and each gets its own problem code and message.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    if isinstance(cell, bool):  # an .xlsx TRUE/FALSE, shown as Excel shows it
        cell = "TRUE" if cell else "FALSE"
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
