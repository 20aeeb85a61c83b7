"""Databases for the store tests: a fresh SQLite file always, and a fresh PostgreSQL database
when ``FIVECOLOR_TEST_PG_URL`` names a server (``.ci/run`` starts one on 127.0.0.1)."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from assessment.store import open_database

PG_URL = os.environ.get("FIVECOLOR_TEST_PG_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL,
            reason="no PostgreSQL server configured (set FIVECOLOR_TEST_PG_URL; .ci/run does)",
        ),
    ),
]


@contextmanager
def fresh_pg_url():
    """A new, empty PostgreSQL database on the configured server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    if request.param == "sqlite":
        database = open_database(f"sqlite:///{tmp_path / 'store.db'}")
        yield database
        database.dispose()
        return
    with fresh_pg_url() as url:
        database = open_database(url)
        yield database
        database.dispose()
