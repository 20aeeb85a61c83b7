"""Whole months of current values kept as Arrow IPC (``month_frames``), so a month corrected
by later uploads is one blob to read, not its uploads' parts folded again on every read.

A kept month is valid while no upload for it was imported after the one it records; otherwise
it is folded again from the uploads' parts (the record of truth) by whoever reads it next."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from sqlalchemy import delete
from sqlalchemy.orm import Session

from .bulk import fetch_row, ipc_bytes
from .schema import MonthFrame
from .upload_parts import newest_upload


def as_frame(table: pa.Table) -> pd.DataFrame:
    """A month's Arrow table as the wide frame every reader gets, the value columns in name
    order (one conversion for the folded and the kept path, so both give the same frame).

    The two text columns are copied out of the table: pandas would otherwise keep Arrow's
    strings in place, and with them every blob the table was read from (the country's two
    months: 323 MB of blobs held for 20 MB of codes)."""
    out = {
        "unit_code": _owned(table.column("unit_code")).to_pandas(),
        "period": _owned(table.column("period")).to_pandas(),
    }
    for name in sorted(table.column_names[2:]):  # a fold appends the columns it adds
        out[name] = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
    return pd.DataFrame(out)


def _owned(column: pa.ChunkedArray) -> pa.Array:
    """The column in buffers of its own (a concatenation always allocates)."""
    return pa.concat_arrays(column.chunks) if column.num_chunks else pa.array([], column.type)


def kept(session: Session, period: str, newest: int | None = None) -> pa.Table | None:
    """The kept month, if it is still current (``newest``: the month's newest upload, when the
    caller has looked it up already)."""
    row = fetch_row(
        session, "SELECT upload_id, frame FROM month_frames WHERE period = ?", (period,)
    )
    newest = newest_upload(session, period) if newest is None else newest
    if row is None or row[0] != newest:
        return None
    return pa.ipc.open_stream(row[1]).read_all()


MAX_KEPT_BYTES = 512 * 2**20  # a database blob must stay well under 1 GB (SQLite, PostgreSQL)


def keep(session: Session, period: str, upload_id: int, table: pa.Table) -> None:
    """Keep ``table`` as ``period`` as of ``upload_id`` (replacing what was kept). A month too
    large for one blob is not kept: it is folded from its parts each time."""
    session.execute(delete(MonthFrame).where(MonthFrame.period == period))
    if table.nbytes > MAX_KEPT_BYTES:
        return
    session.add(MonthFrame(period=period, upload_id=upload_id, frame=ipc_bytes(table)))
