"""Each upload's values as Arrow parts (``upload_parts``), and the current values folded from
them.

An upload's rows of one month are sorted by unit code and cut into parts of ``PART_ROWS``
rows, each one Arrow IPC stream with its first and last code: writing a month is a few hundred
blobs, not a row per unit or per cell. A part's columns are the file's: a column it has is
carried (an empty cell is null and empties the value), a column it lacks is not.

The current value of a unit's indicator for a month is the one from the newest upload that
carried it: the month's uploads folded in upload order (``fold``). Reading some units (a
street) fetches only the parts whose code range holds them; every code comparison is made
here, in code-point order, never by the database's collation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..intake.headers import KEY_COLUMNS
from ..intake.textcols import to_arrow
from .bulk import fetch_rows, insert_rows, ipc_bytes
from .schema import UploadPart

PART_ROWS = 2048  # about 0.5 MB at 30 indicators: a street's units cost one or two parts


def month_table(frame: pd.DataFrame, columns: Sequence[str]) -> pa.Table:
    """unit_code, period and ``columns`` (float64, an empty cell null) of one month's rows, in
    unit_code order."""
    table = pa.table(
        {
            "unit_code": pc.cast(to_arrow(frame["unit_code"]), pa.string()),
            "period": pc.cast(to_arrow(frame["period"]), pa.string()),
            **{c: pa.array(frame[c].to_numpy(dtype=np.float64), from_pandas=True) for c in columns},
        }
    )
    codes = table.column("unit_code")
    if len(codes) > 1 and not pc.all(pc.less(codes[:-1], codes[1:])).as_py():
        table = table.take(pc.sort_indices(codes))
    return table


def write_upload(session: Session, upload_id: int, frame: pd.DataFrame) -> None:
    """Store ``frame`` (unit_code, period, value columns) as the parts of ``upload_id``."""
    insert_rows(session, "upload_parts", PART_COLUMNS, _parts(upload_id, frame))


PART_COLUMNS = ("period", "upload_id", "part", "first_code", "last_code", "rows", "frame")


def _parts(upload_id: int, frame: pd.DataFrame) -> Iterator[tuple]:
    """The rows of ``upload_parts`` for ``frame``, built one at a time."""
    columns = [c for c in frame.columns if c not in KEY_COLUMNS]
    periods = sorted(set(pd.unique(frame["period"])))
    for period in periods:
        rows = frame if len(periods) == 1 else frame[frame["period"] == period]
        month = month_table(rows, columns)
        for part, start in enumerate(range(0, month.num_rows, PART_ROWS)):
            piece = month.slice(start, PART_ROWS)
            codes = piece.column("unit_code")
            first, last = codes[0].as_py(), codes[-1].as_py()
            yield (str(period), upload_id, part, first, last, piece.num_rows, ipc_bytes(piece))


def stored_periods(session: Session) -> list[str]:
    return sorted(session.scalars(select(UploadPart.period).distinct()))


def has_months(session: Session, periods: Sequence[str]) -> bool:
    """Whether any value of these months is stored already."""
    query = select(UploadPart.period).where(UploadPart.period.in_(list(periods))).limit(1)
    return session.scalar(query) is not None


def newest_upload(session: Session, period: str) -> int | None:
    """The newest upload that carried values of ``period``."""
    return session.scalar(select(func.max(UploadPart.upload_id)).where(UploadPart.period == period))


def imported_months(session: Session) -> list[tuple[int, tuple[str, ...]]]:
    """Every upload with values, and the months it carried."""
    rows = session.execute(select(UploadPart.upload_id, UploadPart.period).distinct()).all()
    months: dict[int, list[str]] = {}
    for upload_id, period in rows:
        months.setdefault(upload_id, []).append(period)
    return [(uid, tuple(sorted(ps))) for uid, ps in sorted(months.items())]


def upload_months(session: Session, upload_id: int) -> list[str]:
    query = select(UploadPart.period).where(UploadPart.upload_id == upload_id).distinct()
    return sorted(session.scalars(query))


def upload_tables(
    session: Session,
    period: str,
    codes: Iterable[str] | None = None,
    uploads: Iterable[int] | None = None,
) -> Iterator[tuple[int, pa.Table]]:
    """Each upload's rows of ``period`` (of ``codes`` only, when given; of ``uploads`` only,
    when given), oldest upload first, one table per upload and set of columns; uploads
    without such rows are skipped."""
    query = select(
        UploadPart.upload_id, UploadPart.part, UploadPart.first_code, UploadPart.last_code
    ).where(UploadPart.period == period)
    if uploads is not None:
        query = query.where(UploadPart.upload_id.in_(sorted(set(uploads))))
    bounds = pd.DataFrame(
        session.execute(query.order_by(UploadPart.upload_id, UploadPart.part)).all(),
        columns=["upload_id", "part", "first", "last"],
    )
    wanted = None if codes is None else np.unique(np.asarray(list(codes), dtype=str))
    wanted_set = None if wanted is None else pa.array(wanted)
    for upload_id, parts in bounds.groupby("upload_id", sort=True):
        numbers = parts["part"].to_numpy()
        if wanted is not None:
            numbers = numbers[_holding(parts, wanted)]
            if not len(numbers):
                continue
        for table in _read_parts(session, period, int(upload_id), numbers.tolist()):
            if wanted is not None:
                table = table.filter(pc.is_in(table.column("unit_code"), wanted_set))
            if table.num_rows:
                yield int(upload_id), table


def _holding(parts: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    """Which parts have any of ``codes`` (sorted) within their code range."""
    first = np.searchsorted(codes, parts["first"].to_numpy(dtype=str), side="left")
    after = np.searchsorted(codes, parts["last"].to_numpy(dtype=str), side="right")
    return first < after


def _read_parts(session: Session, period: str, upload_id: int, parts: list[int]) -> list[pa.Table]:
    """The given parts of one upload's month, in code order: one table per set of columns (an
    upload carries one; history carried over from before the parts may hold several, for
    distinct units)."""
    blobs = []
    for start in range(0, len(parts), 500):
        chunk = parts[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        blobs += fetch_rows(
            session,
            "SELECT part, frame FROM upload_parts WHERE period = ? AND upload_id = ? "
            f"AND part IN ({marks}) ORDER BY part",
            (period, upload_id, *chunk),
        )
    groups: dict[tuple[str, ...], list[pa.Table]] = {}
    for _, blob in sorted(blobs):
        table = pa.ipc.open_stream(blob).read_all()
        groups.setdefault(tuple(table.column_names), []).append(table)
    return [pa.concat_tables(tables) for tables in groups.values()]


def fold(tables: Iterable[pa.Table]) -> pa.Table | None:
    """The current values from a month's uploads, oldest first: each upload's cells over what
    came before (a column the upload lacks keeps its value; an empty cell empties it)."""
    out = None
    for table in tables:
        out = table if out is None else _over(out, table)
    return out


def _over(old: pa.Table, new: pa.Table) -> pa.Table:
    """``new``'s rows and columns laid over ``old`` (both in code order, one month)."""
    at = pc.index_in(new.column("unit_code"), value_set=old.column("unit_code").combine_chunks())
    added = pc.is_null(at).to_numpy(zero_copy_only=False)
    codes = pa.concat_arrays(
        [
            old.column("unit_code").combine_chunks(),
            new.column("unit_code").combine_chunks().filter(added),
        ]
    )
    rows = np.where(added, len(old) + np.cumsum(added) - 1, pc.fill_null(at, 0).to_numpy())
    names = list(old.column_names[2:]) + [c for c in new.column_names[2:] if c not in old]
    columns = {}
    for name in names:
        values = np.full(len(codes), np.nan)
        if name in old.column_names:
            values[: len(old)] = _floats(old.column(name))
        if name in new.column_names:
            values[rows] = _floats(new.column(name))
        columns[name] = pa.array(values, from_pandas=True)
    period = pa.array(np.full(len(codes), old.column("period")[0].as_py(), dtype=object))
    table = pa.table({"unit_code": codes, "period": pc.cast(period, pa.string()), **columns})
    return table.take(pc.sort_indices(codes)) if added.any() else table


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
