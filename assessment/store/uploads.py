"""Monthly uploads: validated in full, imported in one transaction or not at all.

Values are kept per upload, so a re-upload never overwrites: the current value of a unit's
indicator for a month is the one from the latest upload that carried it, and every earlier
version stays retrievable (``value_history``) with the changes listed at import.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson
from sqlalchemy import delete, func, insert, select, tuple_
from sqlalchemy.orm import Session

from ..headers import KEY_COLUMNS, header_map, text_headers
from ..ingest import ingest_monthly
from ..jumps import large_changes
from ..problems import WARNING, Problem, errors_only
from ..readers import read_table
from ..rules import RuleSet
from ..textcols import printable
from .audit import log
from .database import Database
from .registry import allowed_codes, current_registry, keep_allowed, registry_version_id
from .schema import CurrentValues, IndicatorValue, Upload
from .scope import Scope


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
        previous = _same_file(db, sha)
        if previous is not None:
            note = Problem(
                "same_file",
                f"与第 {previous} 次上传的文件完全相同,未重复导入",
                file=filename,
                severity=WARNING,
            )
            return UploadOutcome(
                previous, "unchanged", [*problems, note], pd.DataFrame(), len(frame)
            )
    registry_version = registry_version_id(db)
    with db.transaction() as s:
        upload = Upload(
            author=author,
            filename=filename,
            sha256=sha,
            period=_period_of(frame, period),
            status="rejected" if errors else "imported",
            rows=0 if frame is None else len(frame),
            units=0 if frame is None else frame["unit_code"].nunique(),
            errors=len(errors),
            warnings=len(problems) - len(errors),
            problems=[p.as_dict() for p in problems],
            scope=None if scope.roots is None else sorted(scope.roots),
            registry_version_id=registry_version,
        )
        s.add(upload)
        s.flush()
        changes = pd.DataFrame()
        if not errors:
            long = _long(frame)
            changes = _changes(s, long)
            _insert_values(s, [{**row, "upload_id": upload.id} for row in long.to_dict("records")])
            _update_current(s, long, upload.id)
        log(
            s,
            author,
            "upload_" + upload.status,
            upload=upload.id,
            file=filename,
            period=upload.period,
            rows=upload.rows,
            errors=len(errors),
        )
    return UploadOutcome(upload.id, upload.status, problems, changes, upload.rows)


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
    for month in sorted(set(frame["period"]) - {""}):
        year, m = map(int, month.split("-"))
        before = f"{year - (m == 1)}-{12 if m == 1 else m - 1:02d}"
        if before not in periods_available(db, Scope.everything()):
            continue
        rows = frame[frame["period"] == month]
        previous = current_values(db, scope, [before])
        out += large_changes(rows, previous, names, percent, filename)
    return out


def _insert_values(session: Session, rows: list[dict]) -> None:
    """Bulk insert (one executemany). A separate function so tests can inject a fault mid-import."""
    if rows:
        session.execute(insert(IndicatorValue), rows)


def _period_of(frame: pd.DataFrame | None, period: str | None) -> str:
    if frame is None or frame.empty:
        return period or ""
    periods = sorted(set(frame["period"]) - {""})
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
        carried = select(IndicatorValue.unit_code, IndicatorValue.period).where(
            IndicatorValue.upload_id == upload_id
        )
        newer = s.scalar(
            select(func.count())
            .select_from(IndicatorValue)
            .where(
                IndicatorValue.upload_id > upload_id,
                tuple_(IndicatorValue.unit_code, IndicatorValue.period).in_(carried),
            )
        )
    return upload_id if not newer else None


def _long(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c not in KEY_COLUMNS]
    long = frame.melt(id_vars=["unit_code", "period"], value_vars=cols, var_name="column_id")
    values = long["value"].astype(float)
    long = long.astype({"unit_code": object, "period": object, "column_id": object})
    # An empty cell is SQL NULL, never a float NaN (PostgreSQL would store 'NaN').
    return long.assign(value=values.astype(object).where(values.notna(), None))


def _changes(session: Session, long: pd.DataFrame) -> pd.DataFrame:
    """What this upload changes against the current values of the same units and months."""
    periods = sorted(set(long["period"]))
    current = _current_long(session, periods, set(long["unit_code"]))
    merged = long.merge(
        current, on=["unit_code", "period", "column_id"], how="inner", suffixes=("", "_old")
    )
    new, old = merged["value"].astype(float), merged["value_old"].astype(float)
    differs = ~((new == old) | (new.isna() & old.isna()))
    out = merged.loc[differs, ["unit_code", "period", "column_id", "value_old", "value"]]
    return out.rename(columns={"value_old": "old", "value": "new"}).reset_index(drop=True)


def _update_current(session: Session, long: pd.DataFrame, upload_id: int) -> None:
    """Merge this upload's cells into the current-values snapshot (same transaction)."""
    periods = sorted(set(long["period"]))
    codes = sorted(set(long["unit_code"]))
    existing = _snapshot(session, periods, codes)
    rows = []
    for (code, period), cells in long.groupby(["unit_code", "period"], sort=False):
        merged = {
            **existing.get((code, period), {}),
            **dict(zip(cells["column_id"], cells["value"], strict=True)),
        }
        rows.append(
            {
                "unit_code": code,
                "period": period,
                "upload_id": upload_id,
                "values": json.dumps(merged, sort_keys=True),
            }
        )
    for period in periods:
        for chunk in _chunks(codes):
            session.execute(
                delete(CurrentValues).where(
                    CurrentValues.period == period, CurrentValues.unit_code.in_(chunk)
                )
            )
    session.execute(insert(CurrentValues), rows)


def _chunks(items: list, size: int = 5000):
    for k in range(0, len(items), size):
        yield items[k : k + size]


def _snapshot(session: Session, periods: list[str], codes: list[str] | None) -> dict[tuple, dict]:
    query = select(CurrentValues.unit_code, CurrentValues.period, CurrentValues.values).where(
        CurrentValues.period.in_(periods)
    )
    out = {}
    for chunk in _chunks(codes) if codes is not None else [None]:
        q = query if chunk is None else query.where(CurrentValues.unit_code.in_(chunk))
        for code, period, values in session.execute(q):
            out[(code, period)] = json.loads(values)
    return out


def _current_long(session: Session, periods: list[str], codes: set[str] | None) -> pd.DataFrame:
    """The current value of every (unit, month, column), from the snapshot, as a long table."""
    snap = _snapshot(session, periods, sorted(codes) if codes is not None else None)
    rows = [(c, p, col, v) for (c, p), cells in snap.items() for col, v in cells.items()]
    frame = pd.DataFrame(rows, columns=["unit_code", "period", "column_id", "value"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    return frame


def periods_available(db: Database, scope: Scope) -> list[str]:
    allowed = allowed_codes(db, scope)
    with db.sessions() as s:
        if allowed is None:
            return sorted(s.scalars(select(CurrentValues.period).distinct()))
        rows = s.execute(select(CurrentValues.period, CurrentValues.unit_code)).all()
    return sorted({p for p, c in rows if c in allowed})


def current_values(
    db: Database, scope: Scope, periods: Sequence[str] | None = None
) -> pd.DataFrame:
    """Wide table (unit_code, period, one column per id) of the current values in the scope."""
    periods = (
        tuple(periods) if periods is not None else tuple(periods_available(db, Scope.everything()))
    )
    with db.sessions() as s:
        latest_upload = s.scalar(select(func.max(Upload.id)))
    return keep_allowed(_wide_values(db, latest_upload, periods), allowed_codes(db, scope)).copy()


_WIDE_CACHE: dict[tuple, pd.DataFrame] = {}


def _wide_values(db: Database, latest_upload: int | None, periods: tuple[str, ...]) -> pd.DataFrame:
    """All current values of these months as one wide table, from the snapshot; memoised per
    database state (uploads only ever add, so the latest upload id identifies the state)."""
    key = (db.url, id(db.engine), latest_upload, periods)
    if key not in _WIDE_CACHE:
        with db.sessions() as s:
            rows = s.execute(
                select(CurrentValues.unit_code, CurrentValues.period, CurrentValues.values)
                .where(CurrentValues.period.in_(periods))
                .order_by(CurrentValues.period, CurrentValues.unit_code)
            ).all()
        if not rows:
            wide = pd.DataFrame(columns=["unit_code", "period"])
        else:
            codes, months, payloads = zip(*rows, strict=True)
            # pyarrow's JSON reader: C++, full double precision. Every stored number is written
            # from a Python float ("85.0"), so each column parses as double or null.
            table = pajson.read_json(io.BytesIO("\n".join(payloads).encode()))
            values = pd.DataFrame(
                {
                    name: table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
                    for name in table.column_names
                }
            )
            keys = pd.DataFrame({"unit_code": list(codes), "period": list(months)})
            wide = pd.concat([keys, values], axis=1)
        if len(_WIDE_CACHE) > 16:
            _WIDE_CACHE.clear()
        _WIDE_CACHE[key] = wide
    return _WIDE_CACHE[key]


def value_history(db: Database, scope: Scope, unit_code: str, period: str) -> pd.DataFrame:
    """Every version of a unit's month: one row per upload and column, newest first."""
    allowed = allowed_codes(db, scope)
    if allowed is not None and unit_code not in allowed:
        return pd.DataFrame(columns=["upload_id", "created_at", "author", "column_id", "value"])
    with db.sessions() as s:
        rows = s.execute(
            select(
                Upload.id,
                Upload.created_at,
                Upload.author,
                Upload.filename,
                IndicatorValue.column_id,
                IndicatorValue.value,
            )
            .join(Upload, Upload.id == IndicatorValue.upload_id)
            .where(IndicatorValue.unit_code == unit_code, IndicatorValue.period == period)
            .order_by(Upload.id.desc(), IndicatorValue.column_id)
        ).all()
    return pd.DataFrame(
        rows, columns=["upload_id", "created_at", "author", "filename", "column_id", "value"]
    )


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
