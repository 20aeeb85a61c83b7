"""Writing many rows at once, columnar: the rows are an Arrow table, never a Python object per
row or per cell. PostgreSQL gets them by COPY (a CSV stream Arrow writes), SQLite by one
executemany over the columns."""

from __future__ import annotations

import io
import json
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy.orm import Session


def json_objects(columns: dict[str, np.ndarray], n: int) -> pa.Array:
    """One JSON object per row (``{"a":1.5,"b":null}``) from float columns, built by Arrow's
    compute kernels. Each double is written in its shortest round-trip form, so it reads back
    exactly; NaN is ``null``."""

    def text(values: np.ndarray) -> pa.Array:
        numbers = pa.array(np.asarray(values, dtype=np.float64), from_pandas=True)
        return pc.fill_null(pc.cast(numbers, pa.string()), "null")

    if not columns:
        return pa.array(["{}"] * n)
    with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:  # Arrow frees the GIL
        texts = list(pool.map(text, columns.values()))
    pieces: list = []
    for k, (name, values) in enumerate(zip(columns, texts, strict=True)):
        pieces += [("{" if k == 0 else ",") + json.dumps(name) + ":", values]
    pieces.append("}")
    return pc.binary_join_element_wise(*pieces, "")


def bulk_insert(session: Session, table: str, rows: pa.Table) -> None:
    """Insert ``rows`` (its column names are the table's) in the session's transaction."""
    if not len(rows):
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in rows.column_names)
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        # every value quoted (an empty text is "" not NULL), a null left empty (NULL)
        options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
        pacsv.write_csv(rows, buffer, options)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(buffer.getbuffer())
        return
    columns = []
    for name in rows.column_names:
        col = rows.column(name)
        values = col.to_numpy(zero_copy_only=False)
        if pa.types.is_integer(col.type):
            values = values.tolist()  # Python ints for sqlite3
        elif pa.types.is_floating(col.type):
            values = [None if v != v else v for v in values.tolist()]  # NaN: NULL
        columns.append(values)
    marks = ", ".join("?" * len(columns))
    raw.cursor().executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", zip(*columns, strict=True)
    )


def fetch_row(session: Session, sql: str, params: tuple) -> tuple | None:
    """One row of ``sql`` (``?`` placeholders) in the session's transaction, a blob as bytes in
    the driver's binary format: psycopg otherwise sends a bytea as hex text, twice its size,
    and decodes it (a 144 MB month took 1.1 s to fetch that way)."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor(binary=True) as cursor:
            cursor.execute(sql.replace("?", "%s"), params)
            return cursor.fetchone()
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchone()
    finally:
        cursor.close()


def ipc_bytes(table: pa.Table) -> bytes:
    """``table`` as one Arrow IPC stream (a blob that reads back whole without parsing)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()
