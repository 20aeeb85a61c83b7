"""The audit log: who did what, when. Written in the same transaction as the change it records."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import Database
from .schema import AuditEntry


def log(session: Session, who: str, action: str, **detail: object) -> None:
    session.add(AuditEntry(who=who, action=action, detail=detail))


def audit_entries(db: Database, limit: int = 200) -> pd.DataFrame:
    with db.sessions() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()
    return pd.DataFrame(
        [{"at": r.at, "who": r.who, "action": r.action, "detail": r.detail} for r in rows],
        columns=["at", "who", "action", "detail"],
    )
