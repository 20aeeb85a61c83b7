"""The in-app inbox (消息) and the reminders' sent-log. A reminder to one recipient on one
channel is claimed in the sent-log before it is sent (the unique key makes two servers, or a
rerun, send it once); a failed send stays claimable for a later run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .database import Database
from .schema import Message, SentLog

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class InboxMessage:
    id: int
    created_at: dt.datetime
    kind: str
    title: str
    body: str
    link: str
    read: bool


def add_message(
    db: Database, user_name: str, kind: str, title: str, body: str, link: str, at: dt.datetime
) -> None:
    with db.transaction() as s:
        s.add(
            Message(
                user_name=user_name,
                created_at=at,
                kind=kind,
                title=title[:200],
                body=body,
                link=link[:500],
            )
        )


def inbox(db: Database, user_name: str, limit: int = 200) -> list[InboxMessage]:
    with db.sessions() as s:
        rows = s.scalars(
            select(Message)
            .where(Message.user_name == user_name)
            .order_by(Message.id.desc())
            .limit(limit)
        )
        return [
            InboxMessage(m.id, m.created_at, m.kind, m.title, m.body, m.link, m.read_at is not None)
            for m in rows
        ]


def unread_count(db: Database, user_name: str) -> int:
    with db.sessions() as s:
        q = select(func.count()).where(Message.user_name == user_name, Message.read_at.is_(None))
        return int(s.scalar(q) or 0)


def mark_read(db: Database, user_name: str, ids: list[int] | None, at: dt.datetime) -> int:
    """Mark the user's messages ``ids`` (None: all) read; never another user's."""
    q = update(Message).where(Message.user_name == user_name, Message.read_at.is_(None))
    if ids is not None:
        q = q.where(Message.id.in_(ids))
    with db.transaction() as s:
        return s.execute(q.values(read_at=at)).rowcount


# -- the sent-log -------------------------------------------------------------------------------


def claim(db: Database, event: str, recipient: str, channel: str, at: dt.datetime) -> bool:
    """True when this run should send ``event`` to ``recipient`` on ``channel``: never sent
    before, or failed before and not given up on. The claim is atomic across servers."""
    try:
        with db.transaction() as s:
            s.add(
                SentLog(
                    event=event[:200],
                    recipient=recipient[:300],
                    channel=channel,
                    status="sending",
                    attempts=1,
                    first_at=at,
                    last_at=at,
                    error="",
                )
            )
        return True
    except IntegrityError:
        pass
    with db.transaction() as s:
        done = s.execute(
            update(SentLog)
            .where(
                SentLog.event == event[:200],
                SentLog.recipient == recipient[:300],
                SentLog.channel == channel,
                SentLog.status == "failed",
                SentLog.attempts < MAX_ATTEMPTS,
            )
            .values(status="sending", attempts=SentLog.attempts + 1, last_at=at)
        )
        return done.rowcount == 1


def settle(
    db: Database, event: str, recipient: str, channel: str, error: str, at: dt.datetime
) -> None:
    with db.transaction() as s:
        s.execute(
            update(SentLog)
            .where(
                SentLog.event == event[:200],
                SentLog.recipient == recipient[:300],
                SentLog.channel == channel,
            )
            .values(status="failed" if error else "sent", error=error[:2000], last_at=at)
        )


def sent_log(db: Database) -> list[dict]:
    with db.sessions() as s:
        return [
            {
                "event": r.event,
                "recipient": r.recipient,
                "channel": r.channel,
                "status": r.status,
                "attempts": r.attempts,
                "error": r.error,
            }
            for r in s.scalars(select(SentLog).order_by(SentLog.id))
        ]
