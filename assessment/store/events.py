"""Another system's monthly export (a source of a rule set: the 12345 tickets) imported as an
upload of the values the rule sets derive from it, with its events kept beside it.

An export covers one month and the uploader's scope: every unit there whose rule set derives
from the source gets its values (N/A, or the rule's ``empty`` value, where it has no event),
so importing a corrected export replaces that source's month for those units, cell by cell,
like any later upload; events are never added to earlier ones. Checked in full, imported in
one transaction or not at all, the rejected attempt recorded with its problems.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pandas as pd
import pyarrow as pa
from sqlalchemy import select

from ..intake.derive import derive, source_of, source_units
from ..intake.events import FIRST_DATA_ROW, ingest_events, source_headers
from ..intake.readers import read_table
from ..intake.textcols import printable
from ..problems import WARNING, Problem, ProblemsError, errors_only, how_many
from ..rules.models import RuleSet
from .audit import log
from .bulk import fetch_row, ipc_bytes
from .database import Database
from .registry import current_registry, registry_version_id
from .schema import EventFrame
from .scope import Scope
from .upload_parts import upload_tables, write_upload
from .uploads import UploadOutcome, _changes, _jumps, record_upload, same_file_outcome


@dataclass
class CheckedEvents:
    """An export as checked: its month, its events, the values derived from them per unit
    (None on error) and every problem."""

    period: str
    events: pd.DataFrame | None
    derived: pd.DataFrame | None
    problems: list[Problem] = field(default_factory=list)


def check_events(
    db: Database,
    data: bytes,
    filename: str,
    scope: Scope,
    rule_sets: Sequence[RuleSet],
    source_id: str,
    period: str | None = None,
) -> CheckedEvents:
    """Everything an import of ``source_id``'s export checks, without writing: the derived
    values are what the page shows before the organizer confirms."""
    try:
        source = source_of(rule_sets, source_id)
    except ProblemsError as exc:
        return CheckedEvents(period or "", None, None, list(exc.problems))
    registry = current_registry(db, scope)
    if not len(registry):
        problem = Problem("no_registry", "还没有导入单位名册:请先导入单位名册", file=filename)
        return CheckedEvents(period or "", None, None, [problem])
    units = source_units(registry, rule_sets, source_id)
    raw = read_table(data, name=filename, text_columns=source_headers(source))
    ingested = ingest_events(raw, source, units, period)
    problems = list(ingested.problems)
    if ingested.frame is None:
        return CheckedEvents(ingested.period, None, None, problems)
    derived = derive(ingested.frame, rule_sets, source, units, ingested.period)
    silent = derived["unit_code"].isin(ingested.frame["unit_code"].unique()).sum()
    if silent < len(derived):
        problems.append(
            Problem(
                "not_reported",
                f"{len(derived) - silent} 个单位在{source.name}中本月没有事件:其"
                "计算值按规则取值(如 0 件),无法计算的比率为“不适用”",
                file=filename,
                severity=WARNING,
            )
        )
    problems += _by_unit(_jumps(db, scope, derived, rule_sets, filename), derived, registry)
    return CheckedEvents(ingested.period, ingested.frame, derived, problems)


def _by_unit(found: list[Problem], derived: pd.DataFrame, registry: pd.DataFrame) -> list[Problem]:
    """Warnings on derived values name their unit, not a row: the export's rows are events."""
    names = dict(zip(registry["unit_code"], registry["unit_name"], strict=True))
    out = []
    for p in found:
        if p.row is None:
            out.append(p)
            continue
        code = derived["unit_code"].iat[p.row - FIRST_DATA_ROW]
        out.append(replace(p, row=None, message=f"{names.get(code, code)}({code}):{p.message}"))
    return out


def import_events(
    db: Database,
    data: bytes,
    filename: str,
    author: str,
    scope: Scope,
    rule_sets: Sequence[RuleSet],
    source_id: str,
    period: str | None = None,
) -> UploadOutcome:
    """Check ``data`` and import its derived values and events whole, or record the rejected
    attempt with its problems."""
    sha = hashlib.sha256(data).hexdigest()
    filename = printable(filename)[:255]
    checked = check_events(db, data, filename, scope, rule_sets, source_id, period)
    errors = errors_only(checked.problems)
    derived, events = checked.derived, checked.events
    if not errors and derived is not None:
        unchanged = same_file_outcome(db, sha, filename, checked.problems, len(events))
        if unchanged is not None:
            return unchanged
    registry_version = registry_version_id(db)
    with db.transaction() as s:
        upload = record_upload(
            s,
            author,
            filename,
            sha,
            checked.period,
            checked.problems,
            scope,
            registry_version,
            rows=0 if events is None else len(events),
            units=0 if derived is None else len(derived),
            source=source_id,
        )
        changes = pd.DataFrame()
        if not errors:
            changes = _changes(s, derived)
            write_upload(s, upload.id, derived)
            s.add(
                EventFrame(
                    upload_id=upload.id,
                    source=source_id,
                    period=checked.period,
                    rows=len(events),
                    frame=ipc_bytes(pa.Table.from_pandas(events, preserve_index=False)),
                )
            )
        log(
            s,
            author,
            "upload_" + upload.status,
            upload=upload.id,
            file=filename,
            source=source_id,
            period=checked.period,
            rows=upload.rows,
            errors=how_many(errors),
        )
    return UploadOutcome(upload.id, upload.status, checked.problems, changes, upload.rows)


def unit_events(db: Database, unit_code: str, period: str, source_id: str) -> pd.DataFrame:
    """The events of ``source_id`` behind the unit's current derived values of ``period``:
    those of the newest import of that source whose values cover the unit (empty when none
    does). The caller has checked the unit is in the user's scope."""
    with db.sessions() as s:
        imports = s.scalars(
            select(EventFrame.upload_id).where(
                EventFrame.source == source_id, EventFrame.period == period
            )
        ).all()
        covering = [uid for uid, _ in upload_tables(s, period, [unit_code], imports)]
        if not covering:
            return pd.DataFrame()
        row = fetch_row(s, "SELECT frame FROM event_frames WHERE upload_id = ?", (max(covering),))
    table = pa.ipc.open_stream(row[0]).read_all()
    frame = table.to_pandas()
    return frame[frame["unit_code"] == unit_code].reset_index(drop=True)
