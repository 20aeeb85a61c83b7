"""Accounts in the store: who they are, their role and scope roots, the password hash, and the
lock-out state. Policy (hashing, roles, how many failures lock) lives in the service; this
module only keeps the records, each change in one transaction with its audit entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select

from .audit import log
from .database import Database
from .schema import User


@dataclass(frozen=True)
class Account:
    name: str
    display_name: str
    role: str
    scope: tuple[str, ...] | None  # root unit codes; None: every unit
    password_hash: str | None
    disabled: bool
    demo: bool
    failed_attempts: int
    locked_until: dt.datetime | None
    last_sign_in: dt.datetime | None
    email: str = ""
    must_change_password: bool = False


def _account(u: User) -> Account:
    return Account(
        name=u.name,
        display_name=u.display_name or u.name,
        role=u.role,
        scope=None if u.scope is None else tuple(u.scope),
        password_hash=u.password_hash,
        disabled=u.disabled,
        demo=u.demo,
        failed_attempts=u.failed_attempts,
        locked_until=u.locked_until,
        last_sign_in=u.last_sign_in,
        email=u.email or "",
        must_change_password=bool(u.must_change_password),
    )


def get_account(db: Database, name: str) -> Account | None:
    with db.sessions() as s:
        u = s.scalar(select(User).where(User.name == name))
        return None if u is None else _account(u)


def count_accounts(db: Database, demo: bool | None = None) -> int:
    with db.sessions() as s:
        q = select(func.count()).select_from(User)
        if demo is not None:
            q = q.where(User.demo == demo)
        return int(s.scalar(q) or 0)


def accounts(db: Database) -> list[Account]:
    with db.sessions() as s:
        return [_account(u) for u in s.scalars(select(User).order_by(User.id))]


def add_account(
    db: Database,
    name: str,
    role: str,
    scope: list[str] | None,
    password_hash: str | None,
    who: str,
    display_name: str = "",
    demo: bool = False,
    email: str = "",
    must_change_password: bool = False,
) -> None:
    with db.transaction() as s:
        s.add(
            User(
                email=email,
                must_change_password=must_change_password,
                name=name,
                display_name=display_name or name,
                role=role,
                scope=scope,
                password_hash=password_hash,
                disabled=False,
                demo=demo,
                failed_attempts=0,
            )
        )
        log(s, who, "user_added", user=name, role=role, scope=scope)


def update_account(db: Database, name: str, who: str, action: str, **fields: object) -> None:
    """Change some fields of an account and record ``action`` (no secret goes to the log)."""
    with db.transaction() as s:
        u = s.scalar(select(User).where(User.name == name))
        if u is None:
            raise KeyError(name)
        for key, value in fields.items():
            setattr(u, key, value)
        shown = {k: v for k, v in fields.items() if k != "password_hash"}
        log(s, who, action, user=name, **{k: str(v) for k, v in shown.items()})


def record_attempt(
    db: Database,
    name: str,
    ok: bool,
    at: dt.datetime,
    lock_until: dt.datetime | None = None,
    address: str = "",
) -> Account | None:
    """Record a sign-in attempt with its audit entry, the row locked (attempts made at once on
    two servers all count): a success resets the count; a failure counts, and locks the
    account until ``lock_until`` when the service says so."""
    where = {"address": address} if address else {}
    with db.transaction() as s:
        u = s.scalar(select(User).where(User.name == name).with_for_update())
        if u is None:
            log(s, name, "sign_in_failed", reason="unknown_user", **where)
            return None
        if ok:
            u.failed_attempts, u.locked_until, u.last_sign_in = 0, None, at
            log(s, name, "signed_in", **where)
        else:
            u.failed_attempts += 1
            if lock_until is not None:
                u.locked_until, u.failed_attempts = lock_until, 0
            log(
                s,
                name,
                "account_locked" if lock_until is not None else "sign_in_failed",
                reason="bad_password",
                **where,
                **({"until": str(lock_until)} if lock_until is not None else {}),
            )
        s.flush()
        return _account(u)


def users_frame(db: Database) -> pd.DataFrame:
    rows = [
        {
            "name": a.name,
            "display_name": a.display_name,
            "role": a.role,
            "scope": "" if a.scope is None else ",".join(a.scope),
            "disabled": a.disabled,
            "locked_until": a.locked_until,
            "last_sign_in": a.last_sign_in,
        }
        for a in accounts(db)
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "name",
            "display_name",
            "role",
            "scope",
            "disabled",
            "locked_until",
            "last_sign_in",
        ],
    )
