"""Files handed to Excel and WPS: text that could start a formula is made inert (OWASP's
practice: a leading apostrophe), and numbers stay numbers."""

from __future__ import annotations

import io
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def inert(value: object) -> object:
    """``value`` as a spreadsheet will show it, never evaluate it."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.match(value):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(inert)
    out.columns = [inert(str(c)) for c in out.columns]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark (Excel opens it as UTF-8), every text cell inert."""
    buffer = io.StringIO()
    inert_frame(frame).to_csv(buffer, index=False)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
