"""The app's database: the default local file is the demonstration (the sample district and
its demo accounts, 演示模式); a configured database (FIVECOLOR_DB) is a real deployment and
never gets demo accounts."""

from __future__ import annotations

import os

from sqlalchemy import select

from ..store import Database, open_database
from ..store.database import ENV_VAR, resolve_url
from ..store.schema import RegistryVersion
from ..store.users import accounts, count_accounts
from .roles import Role
from .seed import DEMO_PASSWORD, SEEDER, add_demo_accounts, seed_sample


def open_app_database() -> Database:
    configured = bool(os.environ.get(ENV_VAR))
    db = open_database()
    if not configured:
        seed_sample(db)
        if _is_sample(db):  # a sample database made before there were accounts
            add_demo_accounts(db)
    elif os.environ.get("FIVECOLOR_SEED_SAMPLE") == "1":
        seed_sample(db, accounts=False)
    return db


def app_database_url() -> str:
    """The URL the app opens (FIVECOLOR_DB, or the default local file)."""
    return resolve_url(None)


def _is_sample(db: Database) -> bool:
    with db.sessions() as s:
        first = s.scalar(select(RegistryVersion.author).order_by(RegistryVersion.id).limit(1))
    return first == SEEDER


def has_accounts(db: Database) -> bool:
    return count_accounts(db) > 0


def demo_logins(db: Database) -> list[dict]:
    """The demo accounts to list on the login page (empty: not a demonstration)."""
    if not count_accounts(db, demo=True):
        return []
    return [
        {
            "name": a.name,
            "display_name": a.display_name,
            "role": Role(a.role).label,
            "password": DEMO_PASSWORD,
        }
        for a in accounts(db)
        if a.demo and not a.disabled
    ]


def demo_mode(db: Database) -> bool:
    return count_accounts(db, demo=True) > 0
