"""Monthly uploads: validated in full, imported in one transaction or not at all.

Values are kept per upload (``upload_parts``), so a re-upload never overwrites: the current
value of a unit's indicator for a month is the one from the latest upload that carried it, and
every earlier version stays retrievable (``value_history``) with the changes listed at import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..grading.scoring import shift_period
from ..intake.headers import KEY_COLUMNS, header_map, text_headers
from ..intake.ingest import ingest_monthly
from ..intake.jumps import large_changes
from ..intake.readers import read_table
from ..intake.textcols import positions, printable
from ..problems import WARNING, Problem, errors_only, how_many, tally
from ..rules.models import RuleSet
from .audit import log
from .database import Database
from .month_frames import as_frame, keep, kept
from .registry import allowed_codes, current_registry, keep_allowed, registry_version_id
from .schema import Upload, UploadPart
from .scope import Scope
from .upload_parts import (
    fold,
    has_months,
    newest_upload,
    stored_periods,
    upload_months,
    upload_tables,
    write_upload,
)


@dataclass
class UploadOutcome:
    upload_id: int
    status: str  # imported | rejected | unchanged
    problems: list[Problem] = field(default_factory=list)
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)  # unit, column, old, new
    rows: int = 0

    @property
    def ok(self) -> bool:
        return self.status in ("imported", "unchanged")


def import_monthly(
    db: Database,
    data: bytes,
    filename: str,
    author: str,
    scope: Scope,
    rule_sets: Sequence[RuleSet],
    period: str | None = None,
    sheet: str | None = None,
    require_columns: bool = True,
    expect_all: bool = True,
) -> UploadOutcome:
    """Validate ``data`` and import it whole, or record the rejected attempt with its problems."""
    sha = hashlib.sha256(data).hexdigest()
    filename = printable(filename)[:255]  # stored and shown: no NUL, no escapes, bounded
    frame, problems = check_monthly(
        db, data, filename, scope, rule_sets, period, sheet, require_columns, expect_all
    )
    errors = errors_only(problems)
    if not errors and frame is not None:
        unchanged = same_file_outcome(db, sha, filename, problems, len(frame))
        if unchanged is not None:
            return unchanged
    registry_version = registry_version_id(db)
    with db.transaction() as s:
        upload = record_upload(
            s,
            author,
            filename,
            sha,
            _period_of(frame, period),
            problems,
            scope,
            registry_version,
            rows=0 if frame is None else len(frame),
            units=0 if frame is None else len(pd.unique(frame["unit_code"])),
        )
        changes = pd.DataFrame()
        if not errors:
            changes = _changes(s, frame)
            _insert_values(s, upload.id, frame)
        log(
            s,
            author,
            "upload_" + upload.status,
            upload=upload.id,
            file=filename,
            period=upload.period,
            rows=upload.rows,
            errors=how_many(errors),
        )
    return UploadOutcome(upload.id, upload.status, problems, changes, upload.rows)


def record_upload(
    session: Session,
    author: str,
    filename: str,
    sha: str,
    period: str,
    problems: list[Problem],
    scope: Scope,
    registry_version: int | None,
    rows: int,
    units: int,
    source: str = "",
) -> Upload:
    """The record of an upload attempt (imported when ``problems`` hold no error), flushed so
    its id is known; a monthly table, a form, a correction, or a source's export."""
    errors, warnings = tally(problems)
    upload = Upload(
        author=author,
        filename=filename,
        sha256=sha,
        period=period,
        status="rejected" if errors else "imported",
        rows=rows,
        units=units,
        errors=errors,
        warnings=warnings,
        problems=[p.as_dict() for p in problems],
        scope=None if scope.roots is None else sorted(scope.roots),
        registry_version_id=registry_version,
        source=source[:64],
    )
    session.add(upload)
    session.flush()
    return upload


def same_file_outcome(
    db: Database, sha: str, filename: str, problems: list[Problem], rows: int
) -> UploadOutcome | None:
    """The answer to a file imported already and still current: nothing imported again."""
    previous = _same_file(db, sha)
    if previous is None:
        return None
    note = Problem(
        "same_file",
        f"与第 {previous} 次上传的文件完全相同,未重复导入",
        file=filename,
        severity=WARNING,
    )
    return UploadOutcome(previous, "unchanged", [*problems, note], pd.DataFrame(), rows)


def check_monthly(
    db: Database,
    data: bytes,
    filename: str,
    scope: Scope,
    rule_sets: Sequence[RuleSet],
    period: str | None = None,
    sheet: str | None = None,
    require_columns: bool = True,
    expect_all: bool = True,
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Everything an import checks, without writing: the tidy table (None on error) and every
    problem (the upload page shows them before the organizer confirms)."""
    registry = current_registry(db, scope)  # codes, names and silent units: the scope's only
    raw = read_table(
        data, name=filename, text_columns=text_headers(header_map(rule_sets)), sheet=sheet
    )
    ingested = ingest_monthly(
        raw,
        rule_sets,
        registry if len(registry) else None,
        period=period,
        require_columns=require_columns,
        expect_all=expect_all,
    )
    problems = list(ingested.problems)
    frame = ingested.frame
    if frame is not None and not errors_only(problems):
        problems += _jumps(db, scope, frame, rule_sets, filename)
    if len(registry) == 0:
        problems.append(
            Problem("no_registry", "还没有导入单位名册:请先导入单位名册", file=filename)
        )
    return (None if errors_only(problems) else frame), problems


def _jumps(db, scope, frame: pd.DataFrame, rule_sets, filename: str) -> list[Problem]:
    """Large month-to-month changes against the stored month before, as warnings."""
    specs = {c.id: c for r in rule_sets for c in [*r.indicators(), *r.inputs]}
    names = {k: v.name or k for k, v in specs.items()}
    percent = {k for k, v in specs.items() if list(v.valid_range or []) == [0, 100]}
    out: list[Problem] = []
    stored = set(periods_available(db, Scope.everything()))
    for month in sorted(set(pd.unique(frame["period"])) - {""}):
        before = shift_period(month, -1)
        if before not in stored:
            continue
        rows = frame[frame["period"] == month]
        previous = current_values(db, scope, [before])
        out += large_changes(rows, previous, names, percent, filename)
    return out


def _insert_values(session: Session, upload_id: int, frame: pd.DataFrame) -> None:
    """A separate function so tests can inject a fault mid-import."""
    write_upload(session, upload_id, frame)


def _period_of(frame: pd.DataFrame | None, period: str | None) -> str:
    if frame is None or frame.empty:
        return period or ""
    periods = sorted(set(pd.unique(frame["period"])) - {""})
    return ",".join(periods) if periods else period or ""


def _same_file(db: Database, sha: str) -> int | None:
    """An identical file already imported, and still the current version of every unit-month
    it carried: no later upload touched any of them (all of them, not a sample: a partial
    correction of one unit in a city must not make the older file look current)."""
    with db.sessions() as s:
        upload_id = s.scalar(
            select(func.max(Upload.id)).where(Upload.sha256 == sha, Upload.status == "imported")
        )
        if upload_id is None:
            return None
        for period in upload_months(s, upload_id):
            later = s.scalars(
                select(UploadPart.upload_id)
                .where(UploadPart.period == period, UploadPart.upload_id > upload_id)
                .distinct()
            ).all()
            if not later:
                continue
            carried = [
                code
                for _, table in upload_tables(s, period, uploads=[upload_id])
                for code in table.column("unit_code").to_pylist()
            ]
            if any(upload_tables(s, period, carried, later)):
                return None
    return upload_id


def _changes(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """What this upload changes against the current values of the same unit-months: one row per
    cell whose value differs (filled, emptied or changed), compared column by column."""
    columns = ["unit_code", "period", "column_id", "old", "new"]
    periods = sorted(set(pd.unique(frame["period"])))
    if not has_months(session, periods):  # a month's first upload changes nothing already there
        return pd.DataFrame(columns=columns)
    codes = None if len(frame) > 20_000 else set(frame["unit_code"])  # most of a month: whole
    months = [_month(session, p, codes) for p in periods]
    months = [m for m in months if m is not None]
    if not months:
        return pd.DataFrame(columns=columns)
    before = as_frame(pa.concat_tables(months, promote_options="default"))
    if before.empty:
        return pd.DataFrame(columns=columns)
    keys = frame["unit_code"].astype(str) + "\x1f" + frame["period"].astype(str)
    old_keys = before["unit_code"] + "\x1f" + before["period"]
    at = positions(keys, old_keys)  # snapshot row of each upload row, or -1
    known = at >= 0
    out = []
    for col in [c for c in frame.columns if c not in KEY_COLUMNS]:
        new = frame[col].to_numpy(dtype=np.float64)
        old = np.full(len(frame), np.nan)
        if col in before.columns:
            old[known] = before[col].to_numpy(dtype=np.float64)[at[known]]
        with np.errstate(invalid="ignore"):
            same = (new == old) | (np.isnan(new) & np.isnan(old))
        hit = np.flatnonzero(known & ~same)
        if len(hit):
            out.append(
                pd.DataFrame(
                    {
                        "unit_code": frame["unit_code"].to_numpy()[hit],
                        "period": frame["period"].to_numpy()[hit],
                        "column_id": col,
                        "old": old[hit],
                        "new": new[hit],
                    }
                )
            )
    if not out:
        return pd.DataFrame(columns=columns)
    return pd.concat(out, ignore_index=True)[columns]


def _month(session: Session, period: str, codes=None):
    """One month of current values as an Arrow table (of ``codes`` only, when given: only the
    parts holding them are read), or None: the kept month when it is current, else the month's
    uploads folded."""
    if codes is None:
        table = kept(session, period)
        if table is not None:
            return table
    return fold(table for _, table in upload_tables(session, period, codes))


def reported_units(db: Database, scope: Scope, periods: Sequence[str]) -> pd.DataFrame:
    """unit_code, period of each unit in the scope that sent values of its own for a month (a
    table, a form, a correction): values derived from another system's export do not make a
    unit reported (an export covers every unit, whether it has sent its table or not)."""
    with db.sessions() as s:
        exported = set(s.scalars(select(Upload.period).where(Upload.source != "")))
    plain = [p for p in periods if p not in exported]  # no export: every row is the unit's own
    out = current_values(db, scope, plain)[["unit_code", "period"]] if plain else None
    rest = [p for p in periods if p in exported]
    if not rest:
        return out if out is not None else pd.DataFrame(columns=["unit_code", "period"])
    allowed = allowed_codes(db, scope)
    rows: list[tuple[str, str]] = []
    with db.sessions() as s:
        own = s.scalars(select(Upload.id).where(Upload.source == "", Upload.status == "imported"))
        own = list(own)
        for period in rest:
            codes: set[str] = set()
            for _, table in upload_tables(s, period, None if allowed is None else allowed, own):
                codes.update(table.column("unit_code").to_pylist())
            rows += [(c, period) for c in sorted(codes)]
    found = pd.DataFrame(rows, columns=["unit_code", "period"])
    return found if out is None else pd.concat([out, found], ignore_index=True)


def periods_available(db: Database, scope: Scope) -> list[str]:
    """The months with values, of units in the scope: for a part of the store, the months in
    which some upload carried one of its units (only the parts that may hold them are read)."""
    allowed = allowed_codes(db, scope)
    with db.sessions() as s:
        stored = stored_periods(s)
        if allowed is None:
            return stored
        codes = sorted(allowed)
        return [p for p in stored if next(upload_tables(s, p, codes), None) is not None]


def current_values(
    db: Database, scope: Scope, periods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Wide table (unit_code, period, one column per id) of the current values in the scope.
    The whole store is read once per data state and kept; a scope is read alone (only the
    parts that hold its units) unless the whole store is already at hand."""
    periods = (
        tuple(periods) if periods is not None else tuple(periods_available(db, Scope.everything()))
    )
    with db.sessions() as s:
        latest_upload = s.scalar(select(func.max(Upload.id)))
    allowed = allowed_codes(db, scope)
    if allowed is None or (db.url, id(db.engine), latest_upload, periods) in _WIDE_CACHE:
        # a new frame over the kept one's columns: pandas copies a column only when a caller
        # writes to it (copy-on-write), so the kept table never changes and is not copied
        return keep_allowed(_wide_values(db, latest_upload, periods), allowed).copy(deep=False)
    codes = sorted(allowed)
    with db.sessions() as s:
        tables = [_month(s, p, codes) for p in sorted(periods)]
    months = [as_frame(t) for t in tables if t is not None and t.num_rows]
    if not months:
        return pd.DataFrame(columns=["unit_code", "period"])
    return pd.concat(months, ignore_index=True)


_WIDE_CACHE: dict[tuple, pd.DataFrame] = {}
# unit-months of values a process keeps once read (a province's 12,000 units for a year): the
# country's 620,000 for two months are 341 MB, read again from the store by whoever asks
KEPT_ROWS = 200_000


def _wide_values(db: Database, latest_upload: int | None, periods: tuple[str, ...]) -> pd.DataFrame:
    """All current values of these months as one wide table, memoised per database state
    (uploads only ever add, so the latest upload id identifies the state). Each month is read
    from its kept Arrow copy when that is current, else folded from its uploads' parts; a month
    folded from several uploads is then kept."""
    key = (db.url, id(db.engine), latest_upload, periods)
    if key not in _WIDE_CACHE:
        months, folded = [], []
        with db.sessions() as s:
            for p in sorted(periods):
                newest = newest_upload(s, p)  # before the read: the data are at least this new
                table = kept(s, p, newest)
                if table is None:
                    uploads = [t for _, t in upload_tables(s, p)]
                    table = fold(uploads)
                    if len(uploads) > 1 and newest is not None:
                        folded.append((p, newest, table))
                if table is not None and table.num_rows:
                    months.append(as_frame(table))
        if folded:
            with db.transaction() as s:
                for p, newest, table in folded:
                    keep(s, p, newest, table)
        wide = (
            pd.concat(months, ignore_index=True)
            if months
            else pd.DataFrame(columns=["unit_code", "period"])
        )
        if len(wide) > KEPT_ROWS:  # the country's: read again when asked, not held
            return wide
        if len(_WIDE_CACHE) > 16:
            _WIDE_CACHE.clear()
        _WIDE_CACHE[key] = wide
    return _WIDE_CACHE[key]


def value_history(db: Database, scope: Scope, unit_code: str, period: str) -> pd.DataFrame:
    """Every version of a unit's month: one row per upload and column, newest first."""
    columns = ["upload_id", "created_at", "author", "filename", "column_id", "value"]
    allowed = allowed_codes(db, scope)
    if allowed is not None and unit_code not in allowed:
        return pd.DataFrame(columns=columns)
    with db.sessions() as s:
        versions = list(upload_tables(s, period, [unit_code]))
        meta = {
            uid: (at, who, name)
            for uid, at, who, name in s.execute(
                select(Upload.id, Upload.created_at, Upload.author, Upload.filename).where(
                    Upload.id.in_([uid for uid, _ in versions])
                )
            )
        }
    out = [
        (uid, *meta[uid], col, table.column(col)[0].as_py())
        for uid, table in reversed(versions)
        for col in sorted(table.column_names[2:])
    ]
    return pd.DataFrame(out, columns=columns)


HISTORY = {  # column of the upload history -> stored field (the problem lists stay out)
    "upload_id": Upload.id,
    "created_at": Upload.created_at,
    "author": Upload.author,
    "filename": Upload.filename,
    "period": Upload.period,
    "status": Upload.status,
    "rows": Upload.rows,
    "units": Upload.units,
    "errors": Upload.errors,
    "warnings": Upload.warnings,
    "sha256": Upload.sha256,
    "source": Upload.source,  # "" for a monthly table, else the export's rule-set source
}


def upload_history(db: Database, scope: Scope, limit: int = 200) -> pd.DataFrame:
    """Uploads the caller may see (their scope covers the uploader's), newest first."""
    visible = allowed_codes(db, scope)
    with db.sessions() as s:
        rows = s.execute(
            select(Upload.scope, *HISTORY.values()).order_by(Upload.id.desc()).limit(limit)
        ).all()
    shown = [
        row[1:]
        for row in rows
        if visible is None or (row[0] is not None and set(row[0]) <= visible)
    ]
    return pd.DataFrame(shown, columns=list(HISTORY))


def data_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of a data table in a canonical order (stored with every assessment)."""
    cols = [
        "unit_code",
        "period",
        *sorted(c for c in frame.columns if c not in ("unit_code", "period")),
    ]
    canon = frame[cols].sort_values(["period", "unit_code"], kind="stable").reset_index(drop=True)
    digest = hashlib.sha256("\x1f".join(cols).encode())
    keys = canon[cols[:2]].astype(object)
    digest.update(pd.util.hash_pandas_object(keys, index=False).to_numpy().tobytes())
    digest.update(canon[cols[2:]].to_numpy(dtype=np.float64, na_value=np.nan).tobytes())
    return digest.hexdigest()
