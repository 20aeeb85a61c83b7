"""API tokens: made for an account, stored as their sha256, listed, revoked, looked up."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pandas as pd
from sqlalchemy import select, update

from .audit import log
from .database import Database
from .schema import ApiToken, now

PREFIX = "fc_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def make_token(
    db: Database, name: str, user_name: str, author: str, days: int | None = None
) -> str:
    """A new token for ``user_name``; the secret is returned once and never stored."""
    secret = PREFIX + secrets.token_urlsafe(32)
    expires = now() + dt.timedelta(days=days) if days else None
    with db.transaction() as s:
        s.add(
            ApiToken(
                name=name,
                user_name=user_name,
                token_hash=digest(secret),
                prefix=secret[:10],
                created_by=author,
                expires_at=expires,
            )
        )
        log(s, author, "token_added", token=name, account=user_name, expires=str(expires or ""))
    return secret


def token_exists(db: Database, name: str) -> bool:
    with db.sessions() as s:
        return s.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None


def list_tokens(db: Database) -> pd.DataFrame:
    columns = ["name", "user_name", "prefix", "created_at", "created_by", "expires_at"]
    columns += ["revoked_at", "last_used_at"]
    with db.sessions() as s:
        rows = s.execute(
            select(*(getattr(ApiToken, c) for c in columns)).order_by(ApiToken.id)
        ).all()
    return pd.DataFrame(rows, columns=columns)


def revoke_token(db: Database, name: str, author: str) -> bool:
    """Revoke at once (the next call with it is refused); False when there is no such live
    token."""
    with db.transaction() as s:
        done = s.execute(
            update(ApiToken)
            .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now())
        ).rowcount
        if done:
            log(s, author, "token_revoked", token=name)
    return bool(done)


def token_account(db: Database, secret: str) -> tuple[str, str] | None:
    """(token name, account name) of a live token, or None (unknown, revoked or expired)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    with db.transaction() as s:
        row = s.scalars(select(ApiToken).where(ApiToken.token_hash == digest(secret))).first()
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and row.expires_at <= now():
            return None
        row.last_used_at = now()
        return row.name, row.user_name
