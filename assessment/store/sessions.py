"""Signed-in browsers and failed sign-ins, kept in the database so that every app server sees
them alike. The cookie holds a random id; only its sha256 is stored. Policy (how long a session
lives, how fast failures back off) lives in the service; this module keeps the records."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from .database import Database
from .schema import SignInFailure, SignInSession

TOKEN_BYTES = 32
TOUCH_EVERY = dt.timedelta(seconds=30)  # last_seen is written at most this often per session


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class OpenSession:
    id: str  # the sha256, never the cookie value
    user_name: str
    created_at: dt.datetime
    last_seen: dt.datetime
    idle_expires_at: dt.datetime
    expires_at: dt.datetime
    client_address: str
    user_agent: str


def _open(s: SignInSession) -> OpenSession:
    return OpenSession(
        s.id,
        s.user_name,
        s.created_at,
        s.last_seen,
        s.idle_expires_at,
        s.expires_at,
        s.client_address,
        s.user_agent,
    )


def create_session(
    db: Database,
    user_name: str,
    at: dt.datetime,
    idle: dt.timedelta,
    lifetime: dt.timedelta,
    client_address: str,
    user_agent: str,
) -> str:
    """A new session; returns the cookie value (shown to the browser once, never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with db.transaction() as s:
        s.add(
            SignInSession(
                id=digest(token),
                user_name=user_name,
                created_at=at,
                last_seen=at,
                idle_expires_at=min(at + idle, at + lifetime),
                expires_at=at + lifetime,
                client_address=client_address[:64],
                user_agent=user_agent[:300],
                revoked_reason="",
            )
        )
    return token


def resolve_session(
    db: Database, token: str, at: dt.datetime, idle: dt.timedelta
) -> tuple[OpenSession | None, str]:
    """The open session ``token`` names, its idle expiry pushed on (written at most every
    ``TOUCH_EVERY``), or None with why: ``unknown``, ``revoked:<reason>``, ``idle``, ``expired``."""
    if not token or len(token) > 200:
        return None, "unknown"
    key = digest(token)
    with db.sessions() as s:
        row = s.get(SignInSession, key)
        if row is None:
            return None, "unknown"
        if row.revoked_at is not None:
            return None, f"revoked:{row.revoked_reason}"
        if at >= row.expires_at:
            return None, "expired"
        if at >= row.idle_expires_at:
            return None, "idle"
        found = _open(row)
    if at - found.last_seen >= TOUCH_EVERY:
        idle_until = min(at + idle, found.expires_at)
        with db.transaction() as s:
            s.execute(
                update(SignInSession)
                .where(SignInSession.id == key, SignInSession.revoked_at.is_(None))
                .values(last_seen=at, idle_expires_at=idle_until)
            )
    return found, ""


def revoke_session(db: Database, token: str, at: dt.datetime, reason: str) -> str | None:
    """End one session; returns its account name (None when there was no open one)."""
    key = digest(token)
    with db.transaction() as s:
        row = s.get(SignInSession, key)
        if row is None or row.revoked_at is not None:
            return None
        row.revoked_at, row.revoked_reason = at, reason[:64]
        return row.user_name


def revoke_sessions(
    db: Database, user_name: str, at: dt.datetime, reason: str, session: object = None
) -> int:
    """End every open session of an account; inside ``session`` when given (the account change
    and the revocation commit together). Returns how many were open."""
    statement = (
        update(SignInSession)
        .where(SignInSession.user_name == user_name, SignInSession.revoked_at.is_(None))
        .values(revoked_at=at, revoked_reason=reason[:64])
    )
    if session is not None:
        return session.execute(statement).rowcount
    with db.transaction() as s:
        return s.execute(statement).rowcount


def open_sessions(db: Database, at: dt.datetime) -> list[OpenSession]:
    with db.sessions() as s:
        rows = s.scalars(
            select(SignInSession)
            .where(
                SignInSession.revoked_at.is_(None),
                SignInSession.expires_at > at,
                SignInSession.idle_expires_at > at,
            )
            .order_by(SignInSession.last_seen.desc())
        )
        return [_open(r) for r in rows]


# -- failed sign-ins ------------------------------------------------------------------------


@dataclass(frozen=True)
class Failures:
    count: int
    last: dt.datetime | None
    addresses: int = 0  # distinct client addresses (for an account)


def record_failure(db: Database, at: dt.datetime, client_address: str, user_name: str) -> None:
    with db.transaction() as s:
        s.add(SignInFailure(at=at, client_address=client_address[:64], user_name=user_name[:64]))


def failures(db: Database, since: dt.datetime, client_address: str, user_name: str):
    """The failures since ``since`` from this address, and on this account name."""
    with db.sessions() as s:
        by_address = s.execute(
            select(func.count(), func.max(SignInFailure.at)).where(
                SignInFailure.client_address == client_address[:64], SignInFailure.at >= since
            )
        ).one()
        by_user = s.execute(
            select(
                func.count(),
                func.max(SignInFailure.at),
                func.count(func.distinct(SignInFailure.client_address)),
            ).where(SignInFailure.user_name == user_name[:64], SignInFailure.at >= since)
        ).one()
    return Failures(by_address[0], by_address[1]), Failures(by_user[0], by_user[1], by_user[2])


def clear_failures(db: Database, client_address: str, user_name: str, before: dt.datetime) -> None:
    """A right password clears the account's failures and this address's, and forgets every
    failure older than ``before`` (the back-off window)."""
    with db.transaction() as s:
        s.execute(
            delete(SignInFailure).where(
                (SignInFailure.user_name == user_name[:64])
                | (SignInFailure.client_address == client_address[:64])
                | (SignInFailure.at < before)
            )
        )
