"""Files handed to Excel and WPS: text that could start a formula is made inert (OWASP's
practice: a leading apostrophe), and numbers stay numbers."""

from __future__ import annotations

import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..intake.textcols import value_offsets

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
NUMBER = re.compile(NUMBER_PATTERN)


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


RISKY_BYTES = np.frombuffer("".join(FORMULA_START).encode(), dtype=np.uint8)


def inert_table(table: pa.Table) -> pa.Table:
    """``inert`` on every text column of an Arrow table, vectorised (the graded CSV of a whole
    country goes through here): the first byte of every value is read straight from Arrow's
    buffers, and only values starting with a risky byte are looked at again."""
    for i, field in enumerate(table.schema):
        if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
            continue
        column = table.column(i)
        if not any(_risky_start(chunk).any() for chunk in column.chunks):
            continue  # the common case: one pass over the first bytes, nothing rewritten
        risky = pc.and_(
            pc.match_substring_regex(column, r"^[=+\-@\t\r]"),
            pc.invert(pc.match_substring_regex(column, NUMBER_PATTERN)),
        )
        quote, empty = pa.scalar("'", type=column.type), pa.scalar("", type=column.type)
        quoted = pc.binary_join_element_wise(quote, column, empty)
        table = table.set_column(i, field.name, pc.if_else(risky, quoted, column))
    return table


def _risky_start(chunk: pa.Array) -> np.ndarray:
    """Per value: does it begin with a byte that could start a formula?"""
    if len(chunk) == 0 or chunk.buffers()[2] is None:
        return np.zeros(len(chunk), bool)
    offsets = value_offsets(chunk)
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    starts, filled = offsets[:-1], offsets[1:] > offsets[:-1]
    first = np.zeros(len(chunk), np.uint8)
    first[filled] = data[starts[filled]]
    return np.isin(first, RISKY_BYTES)


def text_cells_only(workbook) -> None:
    """Every cell of an openpyxl workbook that would be stored as a formula is stored as the
    text it is: we never write formulas, so any is user text beginning with "="."""
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


CSV_SLICE_ROWS = 50_000


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow for writing: grade columns (categorical) as plain text."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(table.schema):
        if pa.types.is_dictionary(column.type):
            table = table.set_column(i, column.name, table.column(i).cast(pa.string()))
    return table


def write_csv(frame: pd.DataFrame, path: str | Path | BinaryIO) -> None:
    """UTF-8 with BOM, so that Excel opens it; floats unrounded; to a path or an open binary
    file (a buffer for an answer over HTTP).

    Formatting floats is most of the work: slices of rows are rendered on every core (Arrow
    releases the GIL) and written in order."""
    table = inert_table(_arrow(frame))  # text that would start a formula in Excel/WPS stays text
    starts = range(0, max(table.num_rows, 1), CSV_SLICE_ROWS)

    def render(start: int) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=start == 0)
        pacsv.write_csv(table.slice(start, CSV_SLICE_ROWS), sink, options)
        return sink.getvalue()

    with (
        open(path, "wb") if isinstance(path, str | Path) else nullcontext(path) as f,
        ThreadPoolExecutor(os.cpu_count() or 1) as pool,
    ):
        f.write(b"\xef\xbb\xbf")
        for rendered in pool.map(render, starts):
            f.write(rendered)


def table_csv_bytes(frame: pd.DataFrame) -> bytes:
    """``write_csv``'s bytes, for an answer over HTTP: a whole province's or country's table
    rendered by Arrow on every core (``csv_bytes`` formats cell by cell in pandas)."""
    buffer = io.BytesIO()
    write_csv(frame, buffer)
    return buffer.getvalue()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """The table as Parquet, for BI tools and dashboards (grades as text, not categories)."""
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(_arrow(frame), sink)
    return sink.getvalue().to_pybytes()


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """By the file's suffix: ``.parquet`` as Parquet, anything else as CSV (``write_csv``)."""
    if Path(path).suffix.lower() == ".parquet":
        Path(path).write_bytes(parquet_bytes(frame))
    else:
        write_csv(frame, path)
