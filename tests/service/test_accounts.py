"""Accounts and sign-in: argon2 hashes, lock-out, disabled accounts, idle sessions, single
sign-on by user name, and the ``fivecolor users`` commands."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app as cli
from assessment.problems import ProblemsError
from assessment.service import Principal, Role, SignInError, safe_url, sign_in, sign_in_sso
from assessment.service.accounts import (
    Policy,
    add_user,
    disable_user,
    idle_expired,
    refresh,
    set_password,
)
from assessment.store import Scope
from assessment.store.audit import audit_entries
from assessment.store.registry import import_registry
from assessment.store.schema import now
from assessment.store.users import get_account, update_account

OPERATOR = Principal.operator("setup")
STREET = "500188001000"


@pytest.fixture
def accounts(db):
    import_registry(
        db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "setup", Scope.everything()
    )
    add_user(db, OPERATOR, "chief", "admin", None, "chief-secret-1")
    add_user(db, OPERATOR, "org01", "organizer", [STREET], "street-secret-1", "龙溪街道组织委员")
    return db


def test_passwords_are_stored_as_argon2_hashes_and_sign_in_gives_role_and_scope(accounts):
    stored = get_account(accounts, "org01").password_hash
    assert stored.startswith("$argon2id$") and "street-secret-1" not in stored
    user = sign_in(accounts, "org01", "street-secret-1")
    assert (user.role, user.roots, user.display_name) == (
        Role.ORGANIZER,
        frozenset({STREET}),
        "龙溪街道组织委员",
    )
    assert sign_in(accounts, "chief", "chief-secret-1").roots is None  # admin: whole registry


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(accounts):
    with pytest.raises(SignInError) as wrong:
        sign_in(accounts, "org01", "nope-nope-nope")
    with pytest.raises(SignInError) as unknown:
        sign_in(accounts, "nobody", "nope-nope-nope")
    assert wrong.value.problems[0].message == unknown.value.problems[0].message
    assert "用户名或密码错误" in wrong.value.problems[0].message


def test_five_failures_in_a_row_lock_the_account_until_a_stated_time(accounts):
    policy = Policy(max_failures=5, lock_minutes=15)
    for _ in range(4):
        with pytest.raises(SignInError, match="用户名或密码错误"):
            sign_in(accounts, "org01", "wrong-password", policy)
    with pytest.raises(SignInError, match=r"账户已锁定.*请于 \d{4}-\d\d-\d\d \d\d:\d\d 之后再试"):
        sign_in(accounts, "org01", "wrong-password", policy)
    with pytest.raises(SignInError, match="账户已锁定"):  # the right password does not help now
        sign_in(accounts, "org01", "street-secret-1", policy)
    until = get_account(accounts, "org01").locked_until
    assert dt.timedelta(minutes=14) < until - now() <= dt.timedelta(minutes=15)
    update_account(accounts, "org01", "test", "clock", locked_until=now() - dt.timedelta(seconds=1))
    assert sign_in(accounts, "org01", "street-secret-1", policy).name == "org01"
    log = audit_entries(accounts, who="org01")
    assert log["action"].iloc[0] == "signed_in"
    assert (log["action"] == "account_locked").sum() == 1
    assert (log["action"] == "sign_in_failed").sum() == 5  # four wrong, one while locked


def test_a_success_resets_the_count_of_failures(accounts):
    policy = Policy(max_failures=3)
    for _ in range(2):
        with pytest.raises(SignInError):
            sign_in(accounts, "org01", "wrong-password", policy)
    sign_in(accounts, "org01", "street-secret-1", policy)
    for _ in range(2):
        with pytest.raises(SignInError, match="用户名或密码错误"):
            sign_in(accounts, "org01", "wrong-password", policy)


def test_a_disabled_account_cannot_sign_in_and_its_open_session_ends(accounts):
    chief = sign_in(accounts, "chief", "chief-secret-1")
    org = sign_in(accounts, "org01", "street-secret-1")
    disable_user(accounts, chief, "org01")
    with pytest.raises(SignInError, match="已停用"):
        sign_in(accounts, "org01", "street-secret-1")
    with pytest.raises(SignInError, match="已停用"):
        refresh(accounts, org)
    with pytest.raises(ProblemsError, match="组织员无权管理账户"):
        disable_user(accounts, org, "chief")


def test_sessions_end_after_the_configured_idle_time(monkeypatch):
    monkeypatch.setenv("FIVECOLOR_IDLE_MINUTES", "10")
    policy = Policy.from_env()
    at = dt.datetime(2026, 11, 22, 9, 0)
    assert not idle_expired(at - dt.timedelta(minutes=9), at, policy)
    assert idle_expired(at - dt.timedelta(minutes=11), at, policy)
    assert not idle_expired(None, at, policy)


def test_single_sign_on_matches_accounts_by_user_name(accounts):
    assert sign_in_sso(accounts, "org01").roots == frozenset({STREET})
    with pytest.raises(SignInError, match="没有对应的本系统账户"):
        sign_in_sso(accounts, "stranger")
    with pytest.raises(SignInError):
        sign_in_sso(accounts, None)


def test_new_accounts_are_checked_before_anything_is_stored(accounts):
    with pytest.raises(ProblemsError) as exc:
        add_user(accounts, OPERATOR, "x", "organizer", None, "short")
    assert set(exc.value.codes) == {"bad_user_name", "scope_required", "weak_password"}
    with pytest.raises(ProblemsError) as exc:
        add_user(accounts, OPERATOR, "bob", "chief", ["999999999999"], "long-enough-1")
    assert set(exc.value.codes) == {"bad_role", "unknown_scope"}
    with pytest.raises(ProblemsError, match="已存在"):
        add_user(accounts, OPERATOR, "org01", "organizer", [STREET], "long-enough-1")
    assert get_account(accounts, "bob") is None and get_account(accounts, "x") is None


def test_a_password_change_unlocks_and_the_old_password_stops_working(accounts):
    set_password(accounts, OPERATOR, "org01", "brand-new-secret")
    with pytest.raises(SignInError):
        sign_in(accounts, "org01", "street-secret-1")
    assert sign_in(accounts, "org01", "brand-new-secret").name == "org01"
    assert "password_hash" not in str(audit_entries(accounts)["detail"].tolist())


def test_the_users_commands_read_the_password_from_standard_input(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    units = str(SAMPLE / "units.csv")
    assert runner.invoke(cli, ["import", "registry", units, "--db", url]).exit_code == 0
    add = ["users", "add", "org01", "--role", "organizer", "--scope", STREET, "--db", url]
    result = runner.invoke(cli, add, input="piped-secret-1\n")
    assert result.exit_code == 0, result.output
    assert "已新增账户 org01" in result.output
    listed = runner.invoke(cli, ["users", "list", "--db", url]).output
    assert "org01\t组织员\t500188001000\t正常" in listed
    result = runner.invoke(cli, ["users", "passwd", "org01", "--db", url], input="next-secret-2\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli, ["users", "disable", "org01", "--db", url]).exit_code == 0
    assert "已停用" in runner.invoke(cli, ["users", "list", "--db", url]).output
    bad = runner.invoke(cli, ["users", "add", "x", "--role", "boss", "--db", url], input="a\n")
    assert bad.exit_code != 0


def test_no_password_is_ever_shown_with_the_database_location():
    url = "postgresql+psycopg://fivecolor:s3cret-pw@db.internal:5432/fivecolor"
    shown = safe_url(url)
    assert "s3cret-pw" not in shown and "db.internal" in shown


def test_a_hostile_user_name_is_refused_like_any_wrong_name(accounts):
    for name in ["x" * 5000, "adm\x00in", "'; DROP TABLE users; --"]:
        with pytest.raises(SignInError, match="用户名或密码错误"):
            sign_in(accounts, name, "whatever-password")
    assert get_account(accounts, "chief") is not None
