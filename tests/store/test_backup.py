"""The SQLite file is the owner's alone, and the online backup restores what was there."""

from __future__ import annotations

import stat
import threading

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app as cli
from assessment.problems import ProblemsError
from assessment.store import Scope, open_database
from assessment.store.backup import backup
from assessment.store.registry import current_registry, import_registry

ALL = Scope.everything()


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_store_and_its_folder_are_readable_by_the_owner_only(tmp_path):
    folder = tmp_path / "data"
    db = open_database(f"sqlite:///{folder / 'fivecolor.db'}")
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "t", ALL)
    assert mode(folder) == 0o700
    for name in ("fivecolor.db", "fivecolor.db-wal", "fivecolor.db-shm"):
        if (folder / name).exists():
            assert mode(folder / name) == 0o600, name
    db.dispose()


def test_the_online_backup_restores_the_store_as_it_was(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    db = open_database(url)
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "t", ALL)
    writing = threading.Thread(  # the app goes on writing while the backup is taken
        target=lambda: import_registry(
            db, (SAMPLE / "units.csv").read_bytes(), "again.csv", "t", ALL
        )
    )
    writing.start()
    runner = CliRunner()
    copy = tmp_path / "backup.db"
    made = runner.invoke(cli, ["db", "backup", str(copy), "--db", url])
    writing.join()
    assert made.exit_code == 0, made.output
    assert mode(copy) == 0o600
    assert (
        runner.invoke(cli, ["db", "backup", str(copy), "--db", url]).exit_code != 0
    )  # no overwrite
    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    done = runner.invoke(cli, ["db", "restore", str(copy), "--db", restored_url, "--yes"])
    assert done.exit_code == 0, done.output
    again = open_database(restored_url)
    assert len(current_registry(again, ALL)) == len(current_registry(db, ALL)) == 183
    again.dispose()
    db.dispose()


def test_the_backup_command_says_what_to_use_for_postgresql():
    from assessment.store.database import Database

    fake = Database("postgresql+psycopg://u@h/db", None, None)
    with pytest.raises(ProblemsError, match="pg_dump"):
        backup(fake, "x.db")
