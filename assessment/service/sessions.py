"""Server-side sessions: a sign-in opens one, every page run resolves it to the signed-in user
(re-read from the database, so a disabled account stops at its next click), sign-out, a
password change, disabling and an administrator's "end all sessions" revoke it everywhere.
Every app server on one database sees the same sessions."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..problems import Problem
from ..store import Database
from ..store.audit import record
from ..store.schema import now
from ..store.sessions import (
    create_session,
    open_sessions,
    resolve_session,
    revoke_session,
    revoke_sessions,
)
from .accounts import Policy, SignInError, existing_account, principal_named, sign_in
from .roles import Action, Principal

ENDED = {
    "unknown": "请先登录。",
    "idle": "会话因长时间未操作已结束,请重新登录。",
    "expired": "会话已到最长时限,请重新登录。",
    "revoked:signed_out": "已退出登录。",
    "revoked:disabled": "该账户已停用,请联系管理员。",
    "revoked:password_changed": "密码已修改,请用新密码重新登录。",
    "revoked:ended_by_admin": "管理员已结束您的会话,请重新登录。",
}


@dataclass(frozen=True)
class Opened:
    user: Principal
    token: str  # the cookie value: handed to the browser once, never stored
    max_age: int  # seconds, the session's absolute lifetime


def open_session(
    db: Database,
    name: str,
    password: str,
    client_address: str,
    user_agent: str,
    policy: Policy | None = None,
) -> Opened:
    """Check the password (with back-off) and open a session for the account."""
    policy = policy or Policy.from_env()
    user = sign_in(db, name, password, policy, client_address)
    return _opened(db, user, client_address, user_agent, policy)


def _opened(
    db: Database, user: Principal, client_address: str, user_agent: str, policy: Policy
) -> Opened:
    token = create_session(
        db, user.name, now(), policy.idle, policy.lifetime, client_address, user_agent
    )
    return Opened(user, token, int(policy.lifetime.total_seconds()))


def current_user(db: Database, token: str, policy: Policy | None = None) -> Principal:
    """The user ``token`` signs in, as the database has the account now; otherwise a
    SignInError whose message says why the session ended."""
    policy = policy or Policy.from_env()
    found, why = resolve_session(db, token, now(), policy.idle)
    if found is None:
        raise SignInError([Problem("session_ended", ENDED.get(why, ENDED["unknown"]))])
    try:
        return principal_named(db, found.user_name)
    except SignInError:
        revoke_session(db, token, now(), "disabled")
        raise


def sign_out(db: Database, token: str) -> None:
    name = revoke_session(db, token, now(), "signed_out")
    if name is not None:
        record(db, name, "signed_out")


def end_all_sessions(db: Database, by: Principal, name: str) -> int:
    """An administrator ends every open session of an account (a lost phone, a departed
    colleague): each of its tabs stops at its next click."""
    by.require(Action.MANAGE_USERS)
    existing_account(db, name)
    ended = revoke_sessions(db, name, now(), "ended_by_admin")
    record(db, by.name, "sessions_ended", user=name, count=ended)
    return ended


def sessions_frame(db: Database, by: Principal) -> pd.DataFrame:
    """The open sessions, newest activity first (the audit page)."""
    by.require(Action.READ_AUDIT)
    rows = [
        {
            "user_name": s.user_name,
            "created_at": s.created_at,
            "last_seen": s.last_seen,
            "idle_expires_at": s.idle_expires_at,
            "expires_at": s.expires_at,
            "client_address": s.client_address,
            "user_agent": s.user_agent,
        }
        for s in open_sessions(db, now())
    ]
    columns = [
        "user_name",
        "created_at",
        "last_seen",
        "idle_expires_at",
        "expires_at",
        "client_address",
        "user_agent",
    ]
    return pd.DataFrame(rows, columns=columns)
