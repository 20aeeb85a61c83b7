"""Accounts and sign-in: argon2 password hashes, lock-out after repeated failures, idle
sessions, single sign-on matched by user name, and the administrator's account commands."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..problems import Problem, ProblemsError
from ..store import Database
from ..store.audit import record
from ..store.registry import current_registry
from ..store.schema import now
from ..store.scope import Scope
from ..store.users import (
    Account,
    accounts,
    add_account,
    get_account,
    record_attempt,
    update_account,
)
from .roles import WHOLE_BY_DEFAULT, Action, Principal, Role, denied

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Policy:
    """Sign-in settings; ``Policy.from_env()`` reads them when called, never at import."""

    max_failures: int = 5
    lock_minutes: int = 15
    idle_minutes: int = 30

    @classmethod
    def from_env(cls) -> Policy:
        def number(name: str, default: int) -> int:
            raw = os.environ.get(name, "").strip()
            return int(raw) if raw.isdigit() and int(raw) > 0 else default

        return cls(
            max_failures=number("FIVECOLOR_MAX_FAILURES", cls.max_failures),
            lock_minutes=number("FIVECOLOR_LOCK_MINUTES", cls.lock_minutes),
            idle_minutes=number("FIVECOLOR_IDLE_MINUTES", cls.idle_minutes),
        )


class SignInError(ProblemsError):
    """Sign-in refused (wrong name or password, disabled, locked)."""


def _refuse(message: str, code: str) -> SignInError:
    return SignInError([Problem(code, message)])


def principal_of(account: Account) -> Principal:
    return Principal(
        name=account.name,
        role=Role(account.role),
        roots=None if account.scope is None else frozenset(account.scope),
        display_name=account.display_name,
    )


def sign_in(db: Database, name: str, password: str, policy: Policy | None = None) -> Principal:
    """The principal for ``name`` if ``password`` is right; otherwise a SignInError that never
    says whether the name exists. A locked account is refused without checking the password,
    and says until when."""
    policy = policy or Policy.from_env()
    at = now()
    name = name.replace("\x00", "").strip()[:64]  # no account name is longer; NUL never stored
    account = get_account(db, name)
    if account is not None and account.locked_until is not None and account.locked_until > at:
        record(db, account.name, "sign_in_failed", reason="locked")
        raise _locked(account.locked_until)
    stored = account.password_hash if account is not None else None
    try:  # an unknown name costs one hash too, so timing does not tell whether it exists
        ok = HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    after = record_attempt(
        db, name, ok, at, policy.max_failures, dt.timedelta(minutes=policy.lock_minutes)
    )
    if after is not None and not ok and after.locked_until is not None:
        raise _locked(after.locked_until)
    if not ok or after is None:
        raise _refuse(
            f"用户名或密码错误。连续输错 {policy.max_failures} 次账户将被锁定。", "bad_credentials"
        )
    if after.disabled:
        raise _refuse("该账户已停用,请联系管理员。", "account_disabled")
    if account.password_hash and HASHER.check_needs_rehash(account.password_hash):
        update_account(
            db, account.name, account.name, "password_rehashed", password_hash=HASHER.hash(password)
        )
    return principal_of(after)


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("no account has this password")


def _locked(until: dt.datetime) -> SignInError:
    local = until.replace(tzinfo=dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    return _refuse(f"账户已锁定(连续多次密码错误),请于 {local} 之后再试,或联系管理员。", "locked")


def sign_in_sso(db: Database, user_name: str | None) -> Principal:
    """Single sign-on: the identity provider vouched for ``user_name``; an active local
    account of that name decides role and scope."""
    account = get_account(db, (user_name or "").replace("\x00", "").strip()[:64])
    if account is None:
        raise _refuse(
            f"单点登录账户“{user_name}”没有对应的本系统账户,请联系管理员开通。", "sso_unknown"
        )
    if account.disabled:
        raise _refuse("该账户已停用,请联系管理员。", "account_disabled")
    record_attempt(db, account.name, True, now(), 1, dt.timedelta())
    return principal_of(account)


def refresh(db: Database, principal: Principal) -> Principal:
    """The principal as the database has it now: a disabled or changed account takes effect
    on the user's next page, not at their next sign-in."""
    account = get_account(db, principal.name)
    if account is None or account.disabled:
        raise _refuse("该账户已停用或删除,请重新登录。", "account_disabled")
    return principal_of(account)


def idle_expired(last_seen: dt.datetime | None, at: dt.datetime, policy: Policy) -> bool:
    return last_seen is not None and at - last_seen > dt.timedelta(minutes=policy.idle_minutes)


# -- what an administrator does with accounts ------------------------------------------------


def check_password(name: str, password: str) -> None:
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(Problem("weak_password", f"密码至少 {MIN_PASSWORD} 个字符"))
    if password.strip().lower() == name.lower():
        problems.append(Problem("weak_password", "密码不能与用户名相同"))
    if problems:
        raise ProblemsError(problems)


def add_user(
    db: Database,
    by: Principal,
    name: str,
    role: str,
    scope: list[str] | None,
    password: str | None,
    display_name: str = "",
    demo: bool = False,
) -> None:
    by.require(Action.MANAGE_USERS)
    problems = []
    if not NAME.match(name):
        problems.append(
            Problem("bad_user_name", "用户名须为 2-64 个字母、数字或 _ . @ -", value=name[:80])
        )
    if role not in set(Role):
        roles = "、".join(f"{r.value}({r.label})" for r in Role)
        problems.append(Problem("bad_role", f"角色 {role} 不存在,可选: {roles}", value=role[:80]))
    elif not scope and Role(role) not in WHOLE_BY_DEFAULT:
        problems.append(
            Problem("scope_required", f"{Role(role).label}须用 --scope 指定所辖单位代码")
        )
    if scope:
        known = set(current_registry(db, Scope.everything())["unit_code"])
        unknown = sorted(set(scope) - known)
        if unknown:
            problems.append(
                Problem(
                    "unknown_scope",
                    "单位代码不在单位名册中: " + "、".join(unknown[:10]),
                    value=unknown[0][:80],
                )
            )
    if get_account(db, name) is not None:
        problems.append(Problem("user_exists", f"用户名 {name} 已存在", value=name))
    if password is not None:
        try:
            check_password(name, password)
        except ProblemsError as exc:
            problems += exc.problems
    if problems:
        raise ProblemsError(problems)
    add_account(
        db,
        name,
        role,
        sorted(set(scope)) if scope else None,
        None if password is None else HASHER.hash(password),
        by.name,
        display_name,
        demo,
    )


def set_password(db: Database, by: Principal, name: str, password: str) -> None:
    if by.name != name:
        by.require(Action.MANAGE_USERS)
    _existing(db, name)
    check_password(name, password)
    update_account(
        db,
        name,
        by.name,
        "password_changed",
        password_hash=HASHER.hash(password),
        failed_attempts=0,
        locked_until=None,
    )


def disable_user(db: Database, by: Principal, name: str) -> None:
    by.require(Action.MANAGE_USERS)
    _existing(db, name)
    if name == by.name:
        raise denied("不能停用自己的账户")
    update_account(db, name, by.name, "user_disabled", disabled=True)


def unlock_user(db: Database, by: Principal, name: str) -> None:
    by.require(Action.MANAGE_USERS)
    _existing(db, name)
    update_account(db, name, by.name, "user_unlocked", failed_attempts=0, locked_until=None)


def list_users(db: Database, by: Principal) -> list[Account]:
    by.require(Action.MANAGE_USERS)
    return accounts(db)


def _existing(db: Database, name: str) -> Account:
    account = get_account(db, name)
    if account is None:
        raise ProblemsError([Problem("unknown_user", f"没有用户名为 {name} 的账户", value=name)])
    return account
