"""The SQLite online backup (consistent while the app writes, through SQLite's backup API) and
its restore. PostgreSQL is backed up with pg_dump (docs/DEPLOY.md)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..problems import Problem, ProblemsError
from .database import Database, private_file


def _sqlite_path(url: str) -> Path:
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        raise ProblemsError(
            [
                Problem(
                    "backup_not_sqlite",
                    "在线备份命令只用于 SQLite 数据库;PostgreSQL 请用 pg_dump(见 docs/DEPLOY.md)",
                )
            ]
        )
    return Path(url.removeprefix("sqlite:///"))


def backup(db: Database, target: Path) -> None:
    """Copy the live database to ``target`` (a new file, owner-only), page by page, while the
    app goes on reading and writing."""
    source_path = _sqlite_path(db.url)
    target = Path(target)
    if target.exists():
        raise ProblemsError(
            [Problem("backup_exists", f"{target} 已存在:请换一个文件名,备份不覆盖已有文件")]
        )
    private_file(target)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest)
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise RuntimeError(f"backup failed its integrity check: {check}")
    finally:
        dest.close()
        source.close()


def restore(source: Path, url: str) -> None:
    """Replace the database at ``url`` by the backup ``source`` (stop the app first)."""
    target = _sqlite_path(url)
    probe = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    try:
        if probe.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise ProblemsError([Problem("backup_broken", f"{source} 不是完好的数据库备份")])
        private_file(target)
        dest = sqlite3.connect(target)
        try:
            with dest:
                probe.backup(dest)
        finally:
            dest.close()
    finally:
        probe.close()
    os.chmod(target, 0o600)
