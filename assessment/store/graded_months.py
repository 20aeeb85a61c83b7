"""Graded months kept in the store (``graded_months``) for one state of it, so that a server
which starts reads the map's months instead of grading every unit again (the country's two
months: about 5 s of reading and grading, against a fraction of a second to read these).

Each month is its graded table as the map shows it, the roll-up of the units above them and
the stabilities computed for the map's first pages, each one Arrow IPC stream (zstd), and the
fingerprint of the data graded up to it. The state
is the caller's (``assessment.service.kept``): rows of any other state are never read, and
keeping a new state replaces every row. A frame reads back exactly as it was kept: the same
columns, dtypes, values and index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd
import pyarrow as pa
from sqlalchemy import delete

from ..intake.textcols import one_chunk
from .bulk import fetch_row, fetch_rows, ipc_bytes
from .database import Database
from .schema import GradedMonth

MAX_BYTES = 512 * 2**20  # a database blob must stay well under 1 GB (SQLite, PostgreSQL)
Kind = Literal["units", "parents", "stabilities"]
KINDS = ("units", "parents", "stabilities")


@dataclass(frozen=True)
class KeptMonth:
    """What is kept of a month: its fingerprint (None: not taken) and which frames."""

    fingerprint: str | None
    units: bool
    parents: bool
    stabilities: bool = False


@dataclass(frozen=True)
class MonthToKeep:
    fingerprint: str | None
    units: pd.DataFrame | None
    parents: pd.DataFrame | None
    stabilities: pd.DataFrame | None = None


def kept_months(db: Database, state: str) -> dict[str, KeptMonth]:
    """The months kept for ``state`` (empty when the store holds another state or none)."""
    sql = (
        "SELECT period, fingerprint, units IS NOT NULL, parents IS NOT NULL, "
        "stabilities IS NOT NULL FROM graded_months WHERE state = ?"
    )
    with db.sessions() as s:
        rows = fetch_rows(s, sql, (state,))
    return {str(p): KeptMonth(f, bool(u), bool(r), bool(b)) for p, f, u, r, b in rows}


def read_month(db: Database, state: str, period: str, kind: Kind) -> pd.DataFrame | None:
    """The kept frame of ``period`` (None when it was not kept for ``state``)."""
    if kind not in KINDS:
        raise ValueError(kind)
    sql = f"SELECT {kind} FROM graded_months WHERE state = ? AND period = ?"
    with db.sessions() as s:
        row = fetch_row(s, sql, (state, period))
    return None if row is None or row[0] is None else _frame(row[0])


def keep_months(db: Database, state: str, months: dict[str, MonthToKeep]) -> None:
    """Keep ``months`` as ``state``, in place of whatever was kept (one transaction). A frame
    too large for one blob is not kept: that month is graded again by the next server."""
    rows = [
        GradedMonth(
            period=period,
            state=state,
            fingerprint=m.fingerprint,
            units=_blob(m.units),
            parents=_blob(m.parents),
            stabilities=_blob(m.stabilities),
        )
        for period, m in months.items()
    ]
    with db.transaction() as s:
        s.execute(delete(GradedMonth))
        s.add_all(rows)


def forget(db: Database) -> None:
    """Drop every kept month (the next server grades the store again)."""
    with db.transaction() as s:
        s.execute(delete(GradedMonth))


def _blob(frame: pd.DataFrame | None) -> bytes | None:
    if frame is None:
        return None
    blob = ipc_bytes(pa.Table.from_pandas(frame), compression="zstd")
    return None if len(blob) > MAX_BYTES else blob


def _frame(blob: bytes) -> pd.DataFrame:
    """The frame as kept. Arrow reads a column of Python ints (with or without None) back as
    int64; the pandas metadata says it was ``object``, and so it is again."""
    table = pa.ipc.open_stream(blob).read_all()
    frame = one_chunk(table.to_pandas(integer_object_nulls=True))  # a blob of many batches
    meta = table.schema.pandas_metadata or {}
    for column in meta.get("columns", []):
        name = column.get("name")
        if column.get("numpy_type") == "object" and name in frame and frame[name].dtype != object:
            frame[name] = frame[name].astype(object)
    return frame
