"""The signed-in user's own messages (消息): read and marked read by them only."""

from __future__ import annotations

from ..store.messages import InboxMessage, inbox, mark_read, unread_count
from ..store.schema import now
from .actions import Service


def messages(svc: Service, limit: int = 200) -> list[InboxMessage]:
    return inbox(svc.db, svc.user.name, limit)


def unread(svc: Service) -> int:
    return unread_count(svc.db, svc.user.name)


def read(svc: Service, ids: list[int] | None = None) -> int:
    """Mark these of the user's messages read (None: all of them)."""
    return mark_read(svc.db, svc.user.name, ids, now())
