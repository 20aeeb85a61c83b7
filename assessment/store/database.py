"""The database: URL, engine, sessions and migrations.

The URL comes from ``--db URL`` or ``FIVECOLOR_DB``; the default is a SQLite file under
``./data/``. SQLite runs in WAL mode with immediate write transactions and a busy timeout, so two
uploads at the same time both land (one waits for the other) and a killed process leaves the
database as it was before its transaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ENV_VAR = "FIVECOLOR_DB"


def head_revision() -> str:
    """The newest migration: revisions are numbered, one file each (``0005_upload_rows.py``)."""
    return max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def default_url(cwd: Path | None = None) -> str:
    path = (cwd or Path.cwd()) / "data" / "fivecolor.db"
    return f"sqlite:///{path}"


def resolve_url(url: str | None) -> str:
    return url or os.environ.get(ENV_VAR) or default_url()


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write: committed whole, or rolled back whole on any exception. On SQLite it takes
        the write lock at BEGIN, so concurrent writers queue instead of failing mid-way. Never
        open another session inside it (checks that read belong before it)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(fivecolor_write=True)
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def upgrade(self, revision: str = "head") -> None:
        """Apply every migration not yet applied (``fivecolor db upgrade``). A database already
        at the newest revision is told by one query, without loading Alembic."""
        if revision == "head" and self.revision() == head_revision():
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            # SQLite rebuilds a table to change a column: with foreign keys on, dropping the old
            # table would fail. They are off for the migration (only possible outside a
            # transaction) and checked whole before it commits.
            raw = connection.connection.driver_connection if _sqlite(connection) else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with connection.begin():
                    cfg.attributes["connection"] = connection
                    command.upgrade(cfg, revision)
                    if raw is not None:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration left broken references: {broken[:5]}")
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")

    def revision(self) -> str | None:
        try:
            with self.engine.connect() as connection:
                return connection.exec_driver_sql(
                    "SELECT version_num FROM alembic_version"
                ).scalar()
        except Exception:  # no such table yet: a new database
            return None

    def dispose(self) -> None:
        self.engine.dispose()


def private_file(path: Path) -> None:
    """A SQLite file (and its -wal and -shm companions) readable by its owner only, in a folder
    created owner-only: unit data and password hashes are not for other users of the server."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():  # SQLite gives -wal and -shm the database file's permissions
        old = os.umask(0o077)
        try:
            path.touch(mode=0o600)
        finally:
            os.umask(old)
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists():
            companion.chmod(0o600)


def _sqlite(connection) -> bool:
    return connection.dialect.name == "sqlite"


def open_database(url: str | None = None, upgrade: bool = True) -> Database:
    url = resolve_url(url)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        private_file(Path(url.removeprefix("sqlite:///")))
    engine = _engine(url)
    db = Database(url, engine, sessionmaker(engine, expire_on_commit=False))
    if upgrade:
        db.upgrade()
    return db


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below drive transactions
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # Writes take the write lock at the start (two writers queue instead of deadlocking on
        # a lock upgrade); reads stay deferred, so in WAL mode they never wait for a writer.
        write = connection.get_execution_options().get("fivecolor_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
