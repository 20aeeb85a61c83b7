"""Form entries in the store: one per unit and month, saved whole on every change with the
status it moves to; the move is taken from the status the caller saw (two reviewers at once
apply one step)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from ..problems import Problem, ProblemsError
from .audit import log
from .database import Database
from .schema import FormEntry

STATUSES = ("draft", "submitted", "returned", "approved")


@dataclass(frozen=True)
class Entry:
    unit_code: str
    period: str
    status: str
    values: dict
    updated_by: str
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    reviewed_by: str
    reviewed_at: dt.datetime | None
    comment: str
    upload_id: int | None


def _entry(f: FormEntry) -> Entry:
    return Entry(
        f.unit_code,
        f.period,
        f.status,
        dict(f.values or {}),
        f.updated_by,
        f.updated_at,
        f.submitted_at,
        f.reviewed_by,
        f.reviewed_at,
        f.comment,
        f.upload_id,
    )


def get_entry(db: Database, unit_code: str, period: str) -> Entry | None:
    with db.sessions() as s:
        f = s.scalar(
            select(FormEntry).where(FormEntry.unit_code == unit_code, FormEntry.period == period)
        )
        return None if f is None else _entry(f)


def entries(db: Database, codes: set[str] | None, period: str) -> list[Entry]:
    with db.sessions() as s:
        rows = s.scalars(select(FormEntry).where(FormEntry.period == period))
        return [_entry(f) for f in rows if codes is None or f.unit_code in codes]


def returned_entries(db: Database) -> list[Entry]:
    with db.sessions() as s:
        return [
            _entry(f) for f in s.scalars(select(FormEntry).where(FormEntry.status == "returned"))
        ]


def save_entry(
    db: Database,
    unit_code: str,
    period: str,
    who: str,
    at: dt.datetime,
    expected: tuple[str, ...],
    **fields: object,
) -> Entry:
    """Create or change the entry, only from a status in ``expected`` ("" for none yet)."""
    with db.transaction() as s:
        f = s.scalar(
            select(FormEntry)
            .where(FormEntry.unit_code == unit_code, FormEntry.period == period)
            .with_for_update()
        )
        now_status = "" if f is None else f.status
        if now_status not in expected:
            raise ProblemsError(
                [
                    Problem(
                        "form_state",
                        f"该单位 {period} 的填报已是“{now_status or '未填报'}”,不能再做这一步"
                        "(可能已被他人处理,请刷新)",
                    )
                ]
            )
        if f is None:
            f = FormEntry(unit_code=unit_code, period=period, reviewed_by="", comment="", values={})
            s.add(f)
        for key, value in fields.items():
            setattr(f, key, value)
        f.updated_by, f.updated_at = who, at
        s.flush()
        upload = {"upload": fields["upload_id"]} if fields.get("upload_id") else {}
        log(
            s,
            who,
            f"form_{fields.get('status', now_status)}",
            unit=unit_code,
            period=period,
            **upload,
        )
        return _entry(f)
