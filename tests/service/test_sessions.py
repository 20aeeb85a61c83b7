"""Server-side sessions on SQLite and PostgreSQL: idle and absolute expiry, revocation by
sign-out, disabling, a password change and an administrator, and two app servers (two
database handles) seeing the same sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from assessment.service import Principal, SignInError
from assessment.service.accounts import Policy, add_user, disable_user, set_password
from assessment.service.sessions import (
    current_user,
    end_all_sessions,
    open_session,
    sessions_frame,
    sign_out,
)
from assessment.store import open_database
from assessment.store.schema import SignInSession
from assessment.store.sessions import digest

OPERATOR = Principal.operator("setup")


@pytest.fixture
def people(db):
    add_user(db, OPERATOR, "chief", "admin", None, "chief-secret-1")
    add_user(db, OPERATOR, "watch", "rules", None, "watch-secret-1")
    return db


def _open(db, name="watch", password="watch-secret-1", policy=None):
    return open_session(db, name, password, "10.0.0.1", "pytest", policy).token


def _shift(db, token: str, **deltas: dt.timedelta) -> None:
    with db.transaction() as s:
        row = s.get(SignInSession, digest(token))
        for field, delta in deltas.items():
            setattr(row, field, getattr(row, field) - delta)


def test_only_a_digest_of_the_cookie_is_stored(people):
    token = _open(people)
    with people.sessions() as s:
        ids = list(s.scalars(select(SignInSession.id)))
    assert ids == [digest(token)] and token not in ids


def test_a_session_resolves_to_the_account_as_it_is_now(people):
    token = _open(people)
    assert current_user(people, token).name == "watch"
    with pytest.raises(SignInError, match="请先登录"):
        current_user(people, "not-a-session")


def test_an_idle_session_ends_and_use_keeps_a_session_alive(people):
    policy = Policy(idle_minutes=10, session_hours=12)
    token = _open(people, policy=policy)
    _shift(people, token, last_seen=dt.timedelta(minutes=5))
    current_user(people, token, policy)  # used: the idle limit moves on
    with people.sessions() as s:
        row = s.get(SignInSession, digest(token))
        assert row.idle_expires_at - row.last_seen == dt.timedelta(minutes=10)
    _shift(people, token, idle_expires_at=dt.timedelta(minutes=11))
    with pytest.raises(SignInError, match="长时间未操作"):
        current_user(people, token, policy)


def test_a_session_ends_at_its_absolute_limit_however_busy(people):
    token = _open(people)
    _shift(people, token, expires_at=dt.timedelta(hours=13))
    with pytest.raises(SignInError, match="最长时限"):
        current_user(people, token)


@pytest.mark.parametrize(
    ("end", "said"),
    [
        (lambda db, t: sign_out(db, t), "已退出登录"),
        (lambda db, t: disable_user(db, _admin(db), "watch"), "已停用"),
        (lambda db, t: set_password(db, _admin(db), "watch", "a-new-secret-9"), "密码已修改"),
        (lambda db, t: end_all_sessions(db, _admin(db), "watch"), "管理员已结束"),
    ],
)
def test_every_way_of_ending_sessions_ends_them_in_every_tab(people, end, said):
    tabs = [_open(people), _open(people)]  # two browsers (a desk and a phone)
    end(people, tabs[0])
    for token in tabs[1:] if said == "已退出登录" else tabs:
        if said == "已退出登录":  # sign-out ends this browser's session only
            assert current_user(people, token).name == "watch"
        else:
            with pytest.raises(SignInError, match=said):
                current_user(people, token)
    if said == "已退出登录":
        with pytest.raises(SignInError, match=said):
            current_user(people, tabs[0])


def _admin(db):
    return current_user(db, _open(db, "chief", "chief-secret-1"))


def test_only_an_administrator_sees_or_ends_sessions(people):
    watch = current_user(people, _open(people))
    with pytest.raises(Exception, match="无权"):
        end_all_sessions(people, watch, "chief")
    with pytest.raises(Exception, match="无权"):
        sessions_frame(people, watch)
    shown = sessions_frame(people, _admin(people))
    assert set(shown["user_name"]) == {"watch", "chief"}
    assert not any(c for c in shown.columns if "token" in c or c == "id")


def test_two_app_servers_on_one_database_share_sessions(people):
    other = open_database(people.url)  # another server process's handle on the same database
    try:
        token = _open(people)
        assert current_user(other, token).name == "watch"
        sign_out(other, token)
        with pytest.raises(SignInError, match="已退出登录"):
            current_user(people, token)
    finally:
        other.dispose()
