"""Tokens for other systems (the HTTP API): an administrator makes one for an account, sees it
once, lists and revokes them; a call with a live token acts as that account (its role and
scope as they are now: a disabled account's tokens open nothing)."""

from __future__ import annotations

import re

import pandas as pd

from ..problems import Problem, ProblemsError
from ..problems.settings import setting_number
from ..store.audit import record
from ..store.tokens import list_tokens, make_token, revoke_token, token_account, token_exists
from ..store.users import get_account
from .accounts import SignInError, principal_named
from .actions import Service
from .roles import Action, Principal

NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


def calls_per_minute() -> int:
    """``FIVECOLOR_API_PER_MINUTE``: calls one token may make in any minute (120 unless set)."""
    return setting_number("FIVECOLOR_API_PER_MINUTE", 120)


def add_token(svc: Service, name: str, account: str, days: int | None = None) -> str:
    """A new token acting as ``account``; the secret is returned once."""
    svc._require(Action.MANAGE_USERS)
    problems = []
    if not NAME.match(name):
        problems.append(
            Problem("bad_user_name", "令牌名称须为 2-64 个字母、数字或 _ . @ -", value=name[:80])
        )
    elif token_exists(svc.db, name):
        problems.append(Problem("user_exists", f"令牌“{name}”已存在:请换一个名称", value=name))
    found = get_account(svc.db, account)
    if found is None or found.disabled:
        problems.append(
            Problem("unknown_user", f"账户“{account[:64]}”不存在或已停用", value=account[:64])
        )
    if days is not None and not 1 <= days <= 3650:
        problems.append(Problem("out_of_range", "有效期须为 1 到 3650 天", value=str(days)))
    if problems:
        raise ProblemsError(problems)
    return make_token(svc.db, name, account, svc.user.name, days)


def tokens(svc: Service) -> pd.DataFrame:
    svc._require(Action.MANAGE_USERS)
    return list_tokens(svc.db)


def revoke(svc: Service, name: str) -> None:
    svc._require(Action.MANAGE_USERS)
    if not revoke_token(svc.db, name, svc.user.name):
        raise ProblemsError([Problem("unknown_user", f"没有有效的令牌“{name[:64]}”")])


def principal_for(db, secret: str) -> tuple[Principal, str] | None:
    """The account a live token acts as, and the token's name; None for anything else."""
    found = token_account(db, secret)
    if found is None:
        return None
    token, account = found
    try:
        return principal_named(db, account), token
    except SignInError:
        return None


def audit_call(db, who: str, **detail: object) -> None:
    """One API call in the audit log (answered or refused)."""
    record(db, who, "api_call", **detail)
