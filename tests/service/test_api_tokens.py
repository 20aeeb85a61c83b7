"""API tokens: shown once and kept only as a hash; each acts as its account (as the account is
now); revoked, expired or a disabled account's tokens open nothing; only an administrator
makes them."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import SAMPLE
from sqlalchemy import select, update

from assessment.problems import ProblemsError
from assessment.service import Denied, Principal, Role, Service
from assessment.service.accounts import add_user, disable_user
from assessment.service.api_tokens import add_token, principal_for, revoke, tokens
from assessment.store.schema import ApiToken


@pytest.fixture
def admin(db):
    svc = Service(db, Principal.operator("setup"))
    svc.import_registry((SAMPLE / "units.csv").read_bytes(), "units.csv")
    add_user(db, svc.user, "wang", "organizer", ["500188001000"], "wang-secret-1")
    return svc


def test_a_token_acts_as_its_account_and_only_its_hash_is_kept(admin):
    secret = add_token(admin, "bi", "wang")
    user, name = principal_for(admin.db, secret)
    assert (user.name, user.role, user.roots, name) == (
        "wang",
        Role.ORGANIZER,
        frozenset({"500188001000"}),
        "bi",
    )
    with admin.db.sessions() as s:
        row = s.scalars(select(ApiToken)).one()
    assert secret not in (row.token_hash, row.prefix) and len(row.token_hash) == 64
    assert principal_for(admin.db, secret + "x") is None
    assert principal_for(admin.db, "") is None
    listed = tokens(admin)
    assert list(listed["name"]) == ["bi"] and "token_hash" not in listed.columns


def test_revoked_expired_and_disabled_tokens_open_nothing(admin):
    revoked, expired, disabled = (add_token(admin, n, "wang") for n in ("rr", "ee", "dd"))
    revoke(admin, "rr")
    assert principal_for(admin.db, revoked) is None
    with admin.db.transaction() as s:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=1)
        s.execute(update(ApiToken).where(ApiToken.name == "ee").values(expires_at=past))
    assert principal_for(admin.db, expired) is None
    assert principal_for(admin.db, disabled) is not None
    disable_user(admin.db, admin.user, "wang")
    assert principal_for(admin.db, disabled) is None
    with pytest.raises(ProblemsError, match="没有有效的令牌"):
        revoke(admin, "rr")  # already revoked


def test_only_an_administrator_makes_tokens_and_names_are_checked(admin):
    organizer = Service(admin.db, Principal("wang", Role.ORGANIZER, frozenset({"500188001000"})))
    with pytest.raises(Denied):
        add_token(organizer, "mine", "wang")
    with pytest.raises(ProblemsError) as info:
        add_token(admin, "a b", "nobody", days=0)
    assert {p.code for p in info.value.problems} == {
        "bad_user_name",
        "unknown_user",
        "out_of_range",
    }
    add_token(admin, "bi", "wang", days=30)
    with pytest.raises(ProblemsError, match="已存在"):
        add_token(admin, "bi", "wang")
