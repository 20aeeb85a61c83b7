"""Accounts and sign-in: argon2 password hashes, back-off after failed sign-ins (a lock only on
a distributed guess), single sign-on matched by user name, and the administrator's account
commands. Sessions are ``sessions``."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..problems import Problem, ProblemsError
from ..problems.settings import setting_number
from ..store import Database
from ..store.audit import record
from ..store.registry import current_registry
from ..store.schema import now
from ..store.scope import Scope
from ..store.sessions import Failures, clear_failures, failures, record_failure, revoke_sessions
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
EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class Policy:
    """Sign-in settings; ``Policy.from_env()`` reads them when called, never at import.

    Failed sign-ins slow down, they do not lock: after ``free_failures`` failures in
    ``window_hours`` from one client address, each further attempt from it waits 2, 4, 8, …
    seconds, at most ``address_cap_seconds``; on one account name the same, at most
    ``account_cap_seconds`` (so a stranger guessing can slow an account's owner by a minute at
    worst). An account locks only after ``lock_failures`` failures from at least
    ``lock_addresses`` addresses in the window: a distributed guess, not a typo or one
    person's mischief (SECURITY.md)."""

    idle_minutes: int = 30
    session_hours: int = 12
    free_failures: int = 5
    address_cap_seconds: int = 900
    account_cap_seconds: int = 60
    lock_failures: int = 100
    lock_addresses: int = 10
    lock_minutes: int = 60
    window_hours: int = 24

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            idle_minutes=setting_number("FIVECOLOR_IDLE_MINUTES", cls.idle_minutes),
            session_hours=setting_number("FIVECOLOR_SESSION_HOURS", cls.session_hours),
            free_failures=setting_number("FIVECOLOR_FREE_FAILURES", cls.free_failures),
            address_cap_seconds=setting_number(
                "FIVECOLOR_BACKOFF_CAP_SECONDS", cls.address_cap_seconds
            ),
            account_cap_seconds=setting_number(
                "FIVECOLOR_ACCOUNT_BACKOFF_CAP_SECONDS", cls.account_cap_seconds
            ),
            lock_failures=setting_number("FIVECOLOR_LOCK_FAILURES", cls.lock_failures),
            lock_addresses=setting_number("FIVECOLOR_LOCK_ADDRESSES", cls.lock_addresses),
            lock_minutes=setting_number("FIVECOLOR_LOCK_MINUTES", cls.lock_minutes),
        )

    @property
    def idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.idle_minutes)

    @property
    def lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=self.session_hours)

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(hours=self.window_hours)


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
        must_change_password=account.must_change_password,
    )


def sign_in(
    db: Database,
    name: str,
    password: str,
    policy: Policy | None = None,
    client_address: str = "",
) -> Principal:
    """The principal for ``name`` if ``password`` is right; otherwise a SignInError that never
    says whether the name exists. An attempt made before the back-off of this address or
    account has passed is refused without checking the password, and says when to try again;
    so is a locked account."""
    policy = policy or Policy.from_env()
    at = now()
    name = name.replace("\x00", "").strip()[:64]  # no account name is longer; NUL never stored
    address = client_address[:64]
    by_address, by_account = failures(db, at - policy.window, address, name)
    wait_until = max(
        next_try(by_address, policy.free_failures, policy.address_cap_seconds),
        next_try(by_account, policy.free_failures, policy.account_cap_seconds),
    )
    if wait_until > at:
        record(db, name, "sign_in_failed", reason="throttled", address=address)
        raise _throttled(wait_until, at)
    account = get_account(db, name)
    if account is not None and account.locked_until is not None and account.locked_until > at:
        record(db, account.name, "sign_in_failed", reason="locked", address=address)
        raise _locked(account.locked_until)
    stored = account.password_hash if account is not None else None
    try:  # an unknown name costs one hash too, so timing does not tell whether it exists
        ok = HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        record_failure(db, at, address, name)
        by_address, by_account = failures(db, at - policy.window, address, name)
        lock = (
            by_account.count >= policy.lock_failures
            and by_account.addresses >= policy.lock_addresses
        )
        until = at + dt.timedelta(minutes=policy.lock_minutes) if lock else None
        after = record_attempt(db, name, False, at, until, address)
        if after is not None and after.locked_until is not None and after.locked_until > at:
            raise _locked(after.locked_until)
        retry_at = max(
            next_try(by_address, policy.free_failures, policy.address_cap_seconds),
            next_try(by_account, policy.free_failures, policy.account_cap_seconds),
        )
        later = f"请于 {_clock(retry_at)} 之后再试。" if retry_at > at else ""
        raise _refuse(f"用户名或密码错误。{later}", "bad_credentials")
    after = record_attempt(db, name, True, at, None, address)
    if after is None:
        raise _refuse("用户名或密码错误。", "bad_credentials")
    if after.disabled:
        raise _refuse("该账户已停用,请联系管理员。", "account_disabled")
    clear_failures(db, address, name, at - policy.window)
    if account.password_hash and HASHER.check_needs_rehash(account.password_hash):
        update_account(
            db, account.name, account.name, "password_rehashed", password_hash=HASHER.hash(password)
        )
    return principal_of(after)


def next_try(f: Failures, free: int, cap_seconds: int) -> dt.datetime:
    """When the next attempt may be made: at once for the first ``free`` failures, then after
    2, 4, 8, … seconds from the last, never more than ``cap_seconds``."""
    if f.count < free or f.last is None:
        return dt.datetime.min
    return f.last + dt.timedelta(seconds=min(2 ** (f.count - free + 1), cap_seconds))


def _clock(at: dt.datetime) -> str:
    return at.replace(tzinfo=dt.UTC).astimezone().strftime("%H:%M:%S")


def _throttled(until: dt.datetime, at: dt.datetime) -> SignInError:
    seconds = max(1, int((until - at).total_seconds() + 0.999))
    return _refuse(
        f"尝试过于频繁,请于 {_clock(until)} 之后再试(约 {seconds} 秒)。", "sign_in_throttled"
    )


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
    record_attempt(db, account.name, True, now(), None, "sso")
    return principal_of(account)


def refresh(db: Database, principal: Principal) -> Principal:
    """The principal as the database has it now: a disabled or changed account takes effect
    on the user's next page, not at their next sign-in."""
    return principal_named(db, principal.name)


def principal_named(db: Database, name: str) -> Principal:
    account = get_account(db, name)
    if account is None or account.disabled:
        raise _refuse("该账户已停用或删除,请重新登录。", "account_disabled")
    return principal_of(account)


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
    email: str = "",
    must_change_password: bool = False,
) -> None:
    by.require(Action.MANAGE_USERS)
    problems = [] if not email or EMAIL.match(email) else [_bad_email(email)]
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
        problems += scope_problems(current_registry(db, Scope.everything()), role, scope)
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
        email,
        must_change_password and password is not None,
    )


def scope_problems(registry, role: str, scope: list[str]) -> list[Problem]:
    """Unit codes not in the registry, and a reporter given anything but a village or
    community (a unit with none under it)."""
    known = set(registry["unit_code"])
    out = []
    unknown = sorted(set(scope) - known)
    if unknown:
        out.append(
            Problem(
                "unknown_scope",
                "单位代码不在单位名册中: " + "、".join(unknown[:10]),
                value=unknown[0][:80],
            )
        )
    wide = sorted(set(scope) & known & set(registry["parent_code"]))
    if role == Role.REPORTER and wide:
        out.append(
            Problem(
                "reporter_scope",
                "填报员只能管辖村/社区(没有下级的单位),以下代码不是: " + "、".join(wide[:10]),
                value=wide[0][:80],
            )
        )
    return out


def set_email(db: Database, by: Principal, name: str, email: str) -> None:
    """The address reminders are mailed to (empty: none, the in-app inbox only)."""
    if by.name != name:
        by.require(Action.MANAGE_USERS)
    existing_account(db, name)
    email = email.strip()
    if email and not EMAIL.match(email):
        raise ProblemsError([_bad_email(email)])
    update_account(db, name, by.name, "email_changed", email=email)


def _bad_email(email: str) -> Problem:
    return Problem("bad_email", "邮箱地址格式不对,例如 wang@example.gov.cn", value=email[:80])


def set_password(db: Database, by: Principal, name: str, password: str) -> None:
    if by.name != name:
        by.require(Action.MANAGE_USERS)
    existing_account(db, name)
    check_password(name, password)
    update_account(
        db,
        name,
        by.name,
        "password_changed",
        password_hash=HASHER.hash(password),
        failed_attempts=0,
        locked_until=None,
        must_change_password=by.name != name,  # set by someone else: an initial password again
    )
    revoke_sessions(db, name, now(), "password_changed")


def set_own_password(db: Database, user: Principal, current: str, new: str) -> Principal:
    """The signed-in user sets their own password (an initial one must be replaced before
    anything else); the session they are signed in with goes on."""
    account = existing_account(db, user.name)
    try:
        ok = account.password_hash is not None and HASHER.verify(account.password_hash, current)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise ProblemsError([Problem("bad_credentials", "当前密码不对,请重新输入")])
    if new == current:
        raise ProblemsError([Problem("weak_password", "新密码不能与当前密码相同")])
    check_password(user.name, new)
    update_account(
        db,
        user.name,
        user.name,
        "password_changed",
        password_hash=HASHER.hash(new),
        must_change_password=False,
    )
    return principal_named(db, user.name)


def disable_user(db: Database, by: Principal, name: str) -> None:
    by.require(Action.MANAGE_USERS)
    existing_account(db, name)
    if name == by.name:
        raise denied("不能停用自己的账户")
    update_account(db, name, by.name, "user_disabled", disabled=True)
    revoke_sessions(db, name, now(), "disabled")


def unlock_user(db: Database, by: Principal, name: str) -> None:
    by.require(Action.MANAGE_USERS)
    existing_account(db, name)
    update_account(db, name, by.name, "user_unlocked", failed_attempts=0, locked_until=None)


def list_users(db: Database, by: Principal) -> list[Account]:
    by.require(Action.MANAGE_USERS)
    return accounts(db)


def existing_account(db: Database, name: str) -> Account:
    account = get_account(db, name)
    if account is None:
        raise ProblemsError([Problem("unknown_user", f"没有用户名为 {name} 的账户", value=name)])
    return account
