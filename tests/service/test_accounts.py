"""Accounts and sign-in: argon2 hashes, back-off and the rare lock, disabled accounts, single
sign-on by user name, and the ``fivecolor users`` commands. Sessions: test_sessions.py."""

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
    next_try,
    refresh,
    set_password,
)
from assessment.store import Scope
from assessment.store.audit import audit_entries
from assessment.store.registry import import_registry
from assessment.store.schema import now
from assessment.store.sessions import Failures
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


def _fail(db, n: int, address: str, name: str = "org01", policy: Policy | None = None):
    for _ in range(n):
        with pytest.raises(SignInError):
            sign_in(db, name, "wrong-password", policy, address)


def _age_failures(db, seconds: float) -> None:
    """Move every recorded failure into the past, as the clock would."""
    from sqlalchemy import select

    from assessment.store.schema import SignInFailure

    with db.transaction() as s:
        for row in s.scalars(select(SignInFailure)):
            row.at -= dt.timedelta(seconds=seconds)


def test_failures_from_one_address_slow_down_and_say_when_to_retry(accounts):
    policy = Policy(free_failures=3, address_cap_seconds=60, account_cap_seconds=60)
    for _ in range(2):  # free: refused at once, nothing to wait for
        with pytest.raises(SignInError) as exc:
            sign_in(accounts, "org01", "wrong-password", policy, "10.0.0.7")
        assert "之后再试" not in exc.value.problems[0].message
    with pytest.raises(SignInError, match=r"请于 \d\d:\d\d:\d\d 之后再试"):
        sign_in(accounts, "org01", "wrong-password", policy, "10.0.0.7")  # the 3rd says when
    with pytest.raises(SignInError) as early:  # even the right password waits its turn
        sign_in(accounts, "org01", "street-secret-1", policy, "10.0.0.7")
    assert early.value.codes == ["sign_in_throttled"]
    assert "约 2 秒" in early.value.problems[0].message
    _age_failures(accounts, 3)
    assert sign_in(accounts, "org01", "street-secret-1", policy, "10.0.0.7").name == "org01"
    assert get_account(accounts, "org01").locked_until is None  # slowed, never locked


def test_the_back_off_doubles_from_two_seconds_up_to_its_cap():
    last = dt.datetime(2026, 12, 1, 9, 0)
    waits = [
        (next_try(Failures(n, last), 3, 60) - last).total_seconds()
        if n >= 3
        else next_try(Failures(n, last), 3, 60)
        for n in range(1, 11)
    ]
    assert waits[:2] == [dt.datetime.min, dt.datetime.min]  # the free ones
    assert waits[2:] == [2, 4, 8, 16, 32, 60, 60, 60]


def test_a_guesser_at_one_address_cannot_lock_the_owner_out(accounts):
    policy = Policy(free_failures=3, address_cap_seconds=900, account_cap_seconds=1)
    for _ in range(20):  # a stranger tries hard from one address, patiently
        _fail(accounts, 1, "203.0.113.5", policy=policy)
        _age_failures(accounts, 1000)
    _fail(accounts, 1, "203.0.113.5", policy=policy)
    with pytest.raises(SignInError, match="尝试过于频繁"):  # that address now waits long
        sign_in(accounts, "org01", "street-secret-1", policy, "203.0.113.5")
    with pytest.raises(SignInError, match="约 1 秒"):  # the owner elsewhere: one second at most
        sign_in(accounts, "org01", "street-secret-1", policy, "198.51.100.20")
    _age_failures(accounts, 1.5)
    assert sign_in(accounts, "org01", "street-secret-1", policy, "198.51.100.20").name == "org01"
    assert get_account(accounts, "org01").locked_until is None


def test_only_a_guess_from_many_addresses_locks_the_account(accounts):
    policy = Policy(
        free_failures=100,
        lock_failures=12,
        lock_addresses=4,
        lock_minutes=30,
        account_cap_seconds=1,
    )
    for k in range(11):
        _fail(accounts, 1, f"192.0.2.{k % 3}", policy=policy)  # three addresses: no lock
    assert get_account(accounts, "org01").locked_until is None
    with pytest.raises(SignInError, match=r"账户已锁定.*请于 \d{4}-\d\d-\d\d \d\d:\d\d 之后再试"):
        sign_in(accounts, "org01", "wrong-password", policy, "192.0.2.77")  # a 4th address
    with pytest.raises(SignInError, match="账户已锁定"):  # the right password does not help now
        sign_in(accounts, "org01", "street-secret-1", policy, "198.51.100.20")
    until = get_account(accounts, "org01").locked_until
    assert dt.timedelta(minutes=29) < until - now() <= dt.timedelta(minutes=30)
    update_account(accounts, "org01", "test", "clock", locked_until=now() - dt.timedelta(seconds=1))
    assert sign_in(accounts, "org01", "street-secret-1", policy, "198.51.100.20").name == "org01"
    log = audit_entries(accounts, who="org01")
    assert log["action"].iloc[0] == "signed_in"
    assert (log["action"] == "account_locked").sum() == 1


def test_a_success_clears_the_failures_of_the_account_and_the_address(accounts):
    policy = Policy(free_failures=3)
    _fail(accounts, 2, "10.0.0.8", policy=policy)
    sign_in(accounts, "org01", "street-secret-1", policy, "10.0.0.8")
    for _ in range(2):  # two free ones again: no wait
        with pytest.raises(SignInError) as exc:
            sign_in(accounts, "org01", "wrong-password", policy, "10.0.0.8")
        assert exc.value.codes == ["bad_credentials"]
        assert "之后再试" not in exc.value.problems[0].message


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
