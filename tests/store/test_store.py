"""The store's guarantees, each with a test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import ROOT, RULES, SAMPLE
from sqlalchemy import select, text
from store_fixtures import PG_URL, fresh_pg_url

from assessment.grading.graded import grade_inputs
from assessment.intake.inputs import load_inputs
from assessment.rules.loader import load_rules
from assessment.store import Scope, month_frames, open_database
from assessment.store import uploads as uploads_module
from assessment.store.assessments import (
    PublishedIsFinal,
    assessments,
    results,
    run_assessment,
    save_rule_set,
)
from assessment.store.registry import current_registry, import_registry
from assessment.store.schema import AssessmentRun, Base, UploadPart
from assessment.store.tasks import create_tasks, list_tasks, move_task, task_events
from assessment.store.upload_parts import fold, upload_tables
from assessment.store.uploads import (
    current_values,
    import_monthly,
    periods_available,
    upload_history,
    value_history,
)

ALL = Scope.everything()
LOADED = [load_rules(RULES / "community.yaml"), load_rules(RULES / "village.yaml")]
SETS = [x.rules for x in LOADED]
STREET = "500188001000"  # 龙溪街道


def month(period: str) -> bytes:
    name = f"indicators_{period}.csv"
    return (SAMPLE / name).read_bytes()


def seeded(db, *periods: str):
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "admin", ALL)
    for p in periods:
        out = import_monthly(db, month(p), f"indicators_{p}.csv", "organizer", ALL, SETS)
        assert out.status == "imported", out.problems
    return db


def snapshot(db) -> dict[str, list[tuple]]:
    with db.sessions() as s:
        return {
            t.name: sorted(map(tuple, s.execute(select(t)).all()), key=repr)
            for t in Base.metadata.sorted_tables
        }


def test_migrations_run_twice_and_match_the_models(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db.upgrade()  # a second run changes nothing
    with db.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
    assert diff == []


def test_an_upload_is_all_or_nothing_when_a_fault_strikes_mid_import(db, monkeypatch):
    seeded(db, "2026-09")
    before = snapshot(db)
    real = uploads_module._insert_values

    def half_then_fail(session, upload_id, frame):
        real(session, upload_id, frame.iloc[: len(frame) // 2])  # half the values are written...
        raise OSError("disk unplugged")  # ...then the import dies

    monkeypatch.setattr(uploads_module, "_insert_values", half_then_fail)
    with pytest.raises(OSError, match="disk unplugged"):
        import_monthly(db, month("2026-10"), "indicators_2026-10.csv", "organizer", ALL, SETS)
    assert snapshot(db) == before


def test_a_rejected_upload_is_recorded_but_imports_nothing(db):
    seeded(db, "2026-10")
    values_before = current_values(db, ALL)
    bad = (ROOT / "tests" / "bad_uploads" / "values_out_of_range.csv").read_bytes()
    out = import_monthly(db, bad, "values_out_of_range.csv", "organizer", ALL, SETS)
    assert out.status == "rejected"
    assert {"out_of_range", "negative_value", "numerator_gt_denominator"} <= {
        p.code for p in out.problems
    }
    pd.testing.assert_frame_equal(current_values(db, ALL), values_before)
    history = upload_history(db, ALL)
    assert history.iloc[0]["status"] == "rejected" and history.iloc[0]["errors"] == 3


def test_a_rejected_upload_counts_the_rows_beyond_the_listed_ones(db):
    seeded(db, "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    frame["dues_paid_rate"] = "很高"  # every row: more than the first PER_CODE are listed
    out = import_monthly(db, frame.to_csv(index=False).encode(), "x.csv", "organizer", ALL, SETS)
    assert out.status == "rejected" and len(out.problems) < len(frame)
    history = upload_history(db, ALL)
    assert history.iloc[0]["errors"] == len(frame) and history.iloc[0]["warnings"] == 0


def test_reuploading_a_month_keeps_the_earlier_version_and_shows_what_changed(db):
    seeded(db, "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    code = frame.loc[0, "unit_code"]
    old_value = float(frame.loc[0, "theme_day_attendance_rate"])
    frame.loc[0, "theme_day_attendance_rate"] = "99.5"
    out = import_monthly(
        db, frame.to_csv(index=False).encode(), "fixed.csv", "organizer", ALL, SETS
    )
    assert out.status == "imported"
    assert out.changes.to_dict("records") == [
        {
            "unit_code": code,
            "period": "2026-10",
            "column_id": "theme_day_attendance_rate",
            "old": old_value,
            "new": 99.5,
        }
    ]
    now = current_values(db, ALL).set_index("unit_code")
    assert now.loc[code, "theme_day_attendance_rate"] == 99.5
    versions = value_history(db, ALL, code, "2026-10")
    attendance = versions[versions["column_id"] == "theme_day_attendance_rate"]
    assert list(attendance["value"]) == [99.5, old_value]  # newest first, the old one kept


def test_the_same_file_twice_is_not_imported_twice(db):
    seeded(db, "2026-10")
    again = import_monthly(db, month("2026-10"), "again.csv", "organizer", ALL, SETS)
    assert again.status == "unchanged"
    assert "same_file" in {p.code for p in again.problems}
    assert len(upload_history(db, ALL)) == 1


def test_a_published_assessment_never_changes(db):
    seeded(db, "2026-09", "2026-10")
    versions = [save_rule_set(db, x, "admin") for x in LOADED]
    published = run_assessment(db, ALL, "2026-10", versions, "admin", publish=True)
    before = {i: results(db, ALL, i) for i in published}
    with pytest.raises(PublishedIsFinal), db.transaction() as s:
        s.get(AssessmentRun, published[0]).results = b"anything else"
    with pytest.raises(PublishedIsFinal), db.transaction() as s:
        s.delete(s.get(AssessmentRun, published[0]))
    # New data for the month: grading again makes drafts beside the published ones.
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    frame["theme_day_attendance_rate"] = "99"
    import_monthly(db, frame.to_csv(index=False).encode(), "fix.csv", "organizer", ALL, SETS)
    drafts = run_assessment(db, ALL, "2026-10", versions, "admin")
    assert set(drafts).isdisjoint(published)
    runs = assessments(db, "2026-10").set_index("id")
    assert list(runs.loc[published, "status"]) == ["published"] * 2
    assert list(runs.loc[drafts, "status"]) == ["draft"] * 2
    for i in published:
        pd.testing.assert_frame_equal(results(db, ALL, i), before[i])


def test_regrading_under_a_new_rule_set_version_creates_a_draft_beside(db):
    seeded(db, "2026-10")
    v1 = save_rule_set(db, LOADED[0], "admin")
    [pub] = run_assessment(db, ALL, "2026-10", [v1], "admin", publish=True)
    from assessment.rules.loader import parse_rules

    tweaked = parse_rules(
        LOADED[0].text.replace("weight: 25\n    indicators:", "weight: 35\n    indicators:", 1)
    )
    v2 = save_rule_set(db, tweaked, "admin", note="服务群众权重 25 → 35")
    assert v2 != v1
    [draft] = run_assessment(db, ALL, "2026-10", [v2], "admin")
    runs = assessments(db, "2026-10").set_index("id")
    assert runs.loc[pub, "status"] == "published" and runs.loc[draft, "status"] == "draft"
    assert not results(db, ALL, pub)["score"].equals(results(db, ALL, draft)["score"])


def test_two_uploads_at_the_same_time_both_land(db):
    seeded(db)
    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def upload(period: str) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[period] = import_monthly(
                db, month(period), f"{period}.csv", f"organizer-{period}", ALL, SETS
            )
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(p,)) for p in ("2026-09", "2026-10")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert {o.status for o in outcomes.values()} == {"imported"}
    assert set(current_values(db, ALL)["period"]) == {"2026-09", "2026-10"}


KILLED_IMPORT = """
import pathlib, sys, time
from assessment.rules.loader import load_rules
from assessment.store import Scope, open_database
from assessment.store import uploads
real = uploads._insert_values
def stall(session, upload_id, frame):
    real(session, upload_id, frame.iloc[: len(frame) // 2])
    pathlib.Path(sys.argv[2]).write_text("inside the transaction")
    time.sleep(120)
uploads._insert_values = stall
db = open_database(sys.argv[1])
sets = [load_rules(p).rules for p in sys.argv[4:]]
uploads.import_monthly(db, pathlib.Path(sys.argv[3]).read_bytes(), "m.csv", "x", Scope.everything(), sets)
"""


def test_a_process_killed_during_an_import_leaves_a_consistent_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    db = seeded(open_database(url), "2026-09")
    before = snapshot(db)
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_IMPORT,
            url,
            str(marker),
            str(SAMPLE / "indicators_2026-10.csv"),
            str(RULES / "community.yaml"),
            str(RULES / "village.yaml"),
        ],
        cwd=ROOT,
    )
    deadline = time.time() + 60
    while not marker.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the import never reached its transaction"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db.dispose()
    reopened = open_database(url)
    with reopened.engine.connect() as c:
        assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert snapshot(reopened) == before
    out = import_monthly(reopened, month("2026-10"), "m.csv", "x", ALL, SETS)
    assert out.status == "imported"


def test_scope_limits_what_a_street_sees_and_uploads(db):
    seeded(db, "2026-10")
    street = Scope.of(STREET)
    registry = current_registry(db, street)
    assert set(registry["parent_code"]) <= {STREET, "500188000000"}
    codes = set(current_values(db, street)["unit_code"])
    assert codes and all(c.startswith(STREET[:9]) for c in codes)
    out = import_monthly(db, month("2026-10"), "all.csv", "street-organizer", street, SETS)
    assert out.status == "rejected"
    errors = [p for p in out.problems if p.severity == "error" and p.row is not None]
    assert {p.code for p in errors} == {"unknown_unit"}  # other streets do not exist for it
    assert {p.value for p in errors}.isdisjoint(codes)
    assert all("管辖范围" in p.message for p in errors)
    versions = [save_rule_set(db, x, "admin") for x in LOADED]
    [a, _] = run_assessment(db, ALL, "2026-10", versions, "admin")
    assert set(results(db, street, a)["unit_code"]) <= codes


def test_grades_from_the_store_equal_grades_from_the_files(db):
    seeded(db, "2026-09", "2026-10")
    versions = [save_rule_set(db, x, "admin") for x in LOADED]
    ids = run_assessment(db, ALL, "2026-10", versions, "admin")
    stored = pd.concat([results(db, ALL, i) for i in ids]).set_index("unit_code").sort_index()
    files = [SAMPLE / "indicators_2026-09.csv", SAMPLE / "indicators_2026-10.csv"]
    inputs = load_inputs(
        [RULES / "community.yaml", RULES / "village.yaml"], SAMPLE / "units.csv", files
    )
    direct = pd.concat([a.table(["2026-10"]) for a in grade_inputs(inputs)])
    direct = direct.set_index("unit_code").sort_index()
    assert (stored["grade"] == direct["grade"].astype(str)).all()
    pd.testing.assert_series_equal(
        stored["score"], direct["score"], check_exact=True, check_names=False
    )


def test_follow_up_tasks_move_through_their_statuses_with_history(db):
    seeded(db, "2026-10")
    suggestions = pd.DataFrame(
        [
            {
                "unit_code": "500188001001",
                "period": "2026-10",
                "source": "grade:red",
                "action": "约谈主要负责人",
                "owner": "街道党工委",
                "due_date": "2026-11-30",
            },
            {
                "unit_code": "500188001002",
                "period": "2026-10",
                "source": "grade:orange",
                "action": "提醒谈话",
                "owner": "街道组织委员",
                "due_date": "2026-11-10",
            },
        ]
    )
    a, b = create_tasks(db, ALL, suggestions, "supervisor")
    listed = list_tasks(db, ALL, today=pd.Timestamp("2026-11-20").date())
    assert list(listed["id"]) == [b, a]  # the overdue one first
    assert list(listed["overdue"]) == [True, False]
    move_task(db, ALL, a, "整改中", "secretary")
    move_task(db, ALL, a, "待验收", "secretary", "已整改")
    from assessment.problems import ProblemsError

    with pytest.raises(ProblemsError, match="退回整改须写明原因"):
        move_task(db, ALL, a, "整改中", "supervisor")
    with pytest.raises(ProblemsError, match="不能改为“已销号”"):
        move_task(db, ALL, b, "已销号", "supervisor")
    move_task(db, ALL, a, "已销号", "supervisor", "验收通过")
    assert list(task_events(db, ALL, a)["to"]) == ["待签收", "整改中", "待验收", "已销号"]
    with pytest.raises(ProblemsError, match="不在您的管辖范围内"):
        move_task(db, Scope.of("500188002000"), b, "整改中", "someone")


def test_registry_versions_retire_and_merge_units_and_keep_history(db):
    from assessment.store.registry import merges

    seeded(db)
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    units["并入单位代码"] = ""
    units.loc[units["unit_code"] == "500188001015", "并入单位代码"] = "500188001001"  # merged
    nxt = units[units["unit_code"] != "500188001016"].copy()  # retired outright
    nxt.loc[nxt["unit_code"] == "500188001001", "unit_name"] = "银杏苑社区(合并后)"
    out = import_registry(db, nxt.to_csv(index=False).encode(), "units-2027.csv", "admin", ALL)
    assert out.retired == ["500188001015", "500188001016"] and out.changed == ["500188001001"]
    assert out.merged == {"500188001015": "500188001001"}
    active = set(current_registry(db, ALL)["unit_code"])
    assert {"500188001015", "500188001016"}.isdisjoint(active)
    assert {"500188001015", "500188001016"} <= set(
        current_registry(db, ALL, version_id=1)["unit_code"]
    )
    assert merges(db) == {"500188001015": "500188001001"}
    bad = nxt.copy()
    bad.loc[bad["unit_code"] == "500188001014", "并入单位代码"] = "999"
    from assessment.problems import ProblemsError

    with pytest.raises(ProblemsError) as info:
        import_registry(db, bad.to_csv(index=False).encode(), "bad.csv", "admin", ALL)
    assert [p.code for p in info.value.problems] == ["unknown_merge_target"]


def expected_from_history(db) -> pd.DataFrame:
    """The current values recomputed from the full history, read straight from the stored
    parts: the latest upload per cell."""
    with db.engine.connect() as c:
        parts = c.execute(text("SELECT upload_id, frame FROM upload_parts")).all()
    long = pd.concat(
        [
            pa.ipc.open_stream(bytes(blob))
            .read_all()
            .to_pandas()
            .melt(["unit_code", "period"], var_name="column_id")
            .assign(upload_id=uid)
            for uid, blob in parts
        ]
    )
    long = long.sort_values("upload_id", kind="stable").drop_duplicates(
        ["unit_code", "period", "column_id"], keep="last"
    )
    wide = long.pivot(index=["unit_code", "period"], columns="column_id", values="value")
    return wide.astype(float).sort_index(axis=1)


def as_wide(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["unit_code", "period"]).sort_index().sort_index(axis=1)


def test_the_current_values_snapshot_equals_the_history(db):
    seeded(db, "2026-09", "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    frame.loc[3, "dues_paid_rate"] = "97"
    import_monthly(db, frame.to_csv(index=False).encode(), "fix.csv", "o", ALL, SETS)
    partial = frame.loc[[5], ["unit_code", "period", "grid_events", "grid_events_ontime"]]
    partial["grid_events_ontime"] = "0"
    out = import_monthly(
        db, partial.to_csv(index=False).encode(), "grid.csv", "o", ALL, SETS, require_columns=False
    )
    assert out.status == "imported"
    got = as_wide(current_values(db, ALL))
    want = expected_from_history(db).reindex(got.index)
    pd.testing.assert_frame_equal(
        got[want.columns], want, check_names=False, check_index_type=False
    )
    assert got.loc[(frame.loc[5, "unit_code"], "2026-10"), "grid_events_ontime"] == 0
    assert got.loc[(frame.loc[5, "unit_code"], "2026-10"), "dues_paid_rate"] == float(
        frame.loc[5, "dues_paid_rate"]
    )


def old_history(db) -> None:
    """Two uploads in the per-cell table of migrations 0001-0004."""
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO uploads (id, created_at, author, filename, sha256, period, status, rows, units, errors, warnings, problems) "
                "VALUES (1, '2026-10-01', 'a', 'a.csv', 'x', '2026-10', 'imported', 1, 1, 0, 0, '[]'),"
                "       (2, '2026-10-02', 'a', 'b.csv', 'y', '2026-10', 'imported', 1, 1, 0, 0, '[]')"
            )
        )
        c.execute(
            text(
                "INSERT INTO indicator_values (upload_id, unit_code, period, column_id, value) VALUES "
                "(1, 'u1', '2026-10', 'a', 1.5), (1, 'u1', '2026-10', 'b', 2.0), (2, 'u1', '2026-10', 'b', 3.0),"
                "(2, 'u2', '2026-10', 'a', NULL)"
            )
        )


def test_migration_0002_backfills_the_snapshot_from_existing_history(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = open_database(url, upgrade=False)
    old.upgrade("0001")  # a database from before the snapshot existed
    old_history(old)
    old.upgrade("0002")
    with old.engine.connect() as c:
        rows = {
            (u, p): (k, json.loads(v))
            for u, p, k, v in c.execute(
                text('SELECT unit_code, period, upload_id, "values" FROM current_values')
            )
        }
    assert rows == {
        ("u1", "2026-10"): (2, {"a": 1.5, "b": 3.0}),
        ("u2", "2026-10"): (2, {"a": None}),
    }


def test_every_change_is_in_the_audit_log_with_who_and_when(db):
    from assessment.store.audit import audit_entries

    seeded(db, "2026-10")
    version = save_rule_set(db, LOADED[0], "rule-owner", note="初版")
    [run] = run_assessment(db, ALL, "2026-10", [version], "admin", publish=True)
    log = audit_entries(db)
    assert list(log["action"])[::-1] == [
        "registry_imported",
        "upload_imported",
        "rules_saved",
        "assessment_created",
        "assessment_published",
    ]
    saved = log[log["action"] == "rules_saved"].iloc[0]
    assert saved["who"] == "rule-owner" and saved["detail"]["note"] == "初版"
    assert log[log["action"] == "assessment_published"].iloc[0]["detail"]["assessment"] == run
    assert log["at"].notna().all()


def test_records_of_a_unit_retired_later_stay_visible_to_the_district_but_not_outside_scope(db):
    seeded(db, "2026-10")
    versions = [save_rule_set(db, x, "admin") for x in LOADED]
    [a, _] = run_assessment(db, ALL, "2026-10", versions, "admin", publish=True)
    code = "500188001016"
    suggestions = pd.DataFrame(
        [
            {
                "unit_code": code,
                "period": "2026-10",
                "source": "grade:red",
                "action": "约谈",
                "owner": "街道党工委",
                "due_date": "2026-11-30",
            }
        ]
    )
    [task] = create_tasks(db, ALL, suggestions, "supervisor")
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    import_registry(
        db, units[units["unit_code"] != code].to_csv(index=False).encode(), "u2.csv", "admin", ALL
    )
    assert code in set(results(db, ALL, a)["unit_code"])  # a published result never vanishes
    assert task in set(list_tasks(db, ALL)["id"])
    assert not value_history(db, ALL, code, "2026-10").empty
    street = Scope.of(STREET)  # the street no longer has the unit in its registry subtree
    assert code not in set(results(db, street, a)["unit_code"])
    assert task not in set(list_tasks(db, street)["id"])


def test_re_uploading_an_older_file_after_a_correction_imports_it_again_in_a_large_district(db):
    """Only the first 500 unit codes were compared: in a larger district the older file was
    reported "完全相同,未重复导入" and the later correction silently stayed current."""
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str, keep_default_na=False)
    data = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)

    def copy(frame: pd.DataFrame, k: int) -> pd.DataFrame:
        out = frame.copy()
        for col in ("unit_code", "parent_code"):
            if col in out:
                out[col] = out[col].str.replace("500188", f"50018{8 + k}", n=1, regex=False)
        return out

    big_units = pd.concat([copy(units, k) for k in range(4)], ignore_index=True)
    big_data = pd.concat([copy(data, k) for k in range(4)], ignore_index=True)
    assert len(big_data) > 500
    import_registry(db, big_units.to_csv(index=False).encode(), "units.csv", "admin", ALL)
    original = big_data.to_csv(index=False).encode()
    assert import_monthly(db, original, "m.csv", "x", ALL, SETS).status == "imported"
    last = big_data.iloc[[-1]].copy()
    last["theme_day_attendance_rate"] = "12.5"
    fix = import_monthly(
        db, last.to_csv(index=False).encode(), "fix.csv", "x", ALL, SETS, require_columns=False
    )
    assert fix.status == "imported", fix.problems
    again = import_monthly(db, original, "m.csv", "x", ALL, SETS)
    assert again.status == "imported"
    current = current_values(db, ALL).set_index("unit_code")
    original_value = float(big_data.iloc[-1]["theme_day_attendance_rate"])
    assert (
        current.loc[big_data.iloc[-1]["unit_code"], "theme_day_attendance_rate"] == original_value
    )


def test_assess_with_a_rule_set_that_has_no_units_warns_and_stores_the_rest_at_once(db, tmp_path):
    """It failed with IntegrityError after the other rule set's assessment was committed."""
    from typer.testing import CliRunner

    from assessment.cli.main import app

    seeded(db, "2026-10")
    text = (RULES / "community.yaml").read_text(encoding="utf-8")
    nowhere = tmp_path / "nowhere.yaml"
    nowhere.write_text(
        text.replace("applies_to: [社区]", "applies_to: [牧区]", 1).replace(
            "id: community", "id: nowhere", 1
        ),
        encoding="utf-8",
    )
    args = ["assess", "--period", "2026-10", "-r", str(nowhere), "-r", str(RULES / "village.yaml")]
    result = CliRunner().invoke(app, [*args, "--publish", "--db", db.url])
    assert result.exit_code == 0, result.output
    assert "没有适用的单位" in result.output
    runs = assessments(db, "2026-10")
    assert list(runs["rules_id"]) == ["village"] and list(runs["status"]) == ["published"]


def test_one_assess_is_one_transaction(db, monkeypatch):
    from assessment.store import assessments as module

    seeded(db, "2026-10")
    versions = [save_rule_set(db, x, "admin") for x in LOADED]
    real, calls = module._store_run, []

    def fail_on_second(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(module, "_store_run", fail_on_second)
    with pytest.raises(RuntimeError):
        run_assessment(db, ALL, "2026-10", versions, "admin", publish=True)
    assert assessments(db, "2026-10").empty  # the first rule set's run was not kept either


def test_stored_numbers_read_back_exactly(db):
    """The history rows are written by Arrow (shortest round-trip form): every double the
    upload held is the double read back, to the last bit."""
    seeded(db, "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    awkward = ["0.30000000000000004", "1e-300", "12345.678901234567", "99.99999999999999"]
    for k, value in enumerate(awkward):
        frame.loc[k, "households"] = value
    out = import_monthly(db, frame.to_csv(index=False).encode(), "x.csv", "o", ALL, SETS)
    assert out.status == "imported", out.problems
    now = current_values(db, ALL, ["2026-10"]).set_index("unit_code")
    got = [now.loc[frame.loc[k, "unit_code"], "households"] for k in range(len(awkward))]
    assert got == [float(v) for v in awkward]
    assert {
        (c, float(v)) for c, v in zip(out.changes["column_id"], out.changes["new"], strict=True)
    } >= {("households", float(v)) for v in awkward}


def test_migration_0005_carries_every_version_of_every_cell_over(tmp_path):
    url = f"sqlite:///{tmp_path / 'v4.db'}"
    old = open_database(url, upgrade=False)
    old.upgrade("0004")
    old_history(old)
    old.upgrade("0005")
    with old.engine.connect() as c:
        rows = {
            (u, p, k): json.loads(v)
            for k, u, p, v in c.execute(
                text('SELECT upload_id, unit_code, period, "values" FROM upload_rows')
            )
        }
        tables = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master"))}
    assert rows == {
        ("u1", "2026-10", 1): {"a": 1.5, "b": 2.0},
        ("u1", "2026-10", 2): {"b": 3.0},
        ("u2", "2026-10", 2): {"a": None},
    }
    assert "indicator_values" not in tables


def test_a_caller_writing_to_the_values_it_read_changes_nothing_for_the_next(db):
    seeded(db, "2026-10")
    first = current_values(db, ALL)
    want = first.copy()
    first["dues_paid_rate"] = -1.0
    first.loc[0, "households"] = -2.0
    pd.testing.assert_frame_equal(current_values(db, ALL), want)


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server configured")
def test_arrow_blobs_are_stored_uncompressed_on_postgresql():
    """PostgreSQL's attempt to compress an Arrow blob cost four times the write, for nothing."""
    with fresh_pg_url() as url:
        db = open_database(url)
        storage = _bytea_storage(db)
        db.dispose()
    assert storage == {
        "upload_parts.frame": "e",
        "month_frames.frame": "e",
        "assessments.results": "e",
        "registry_versions.frame": "e",
    }


def _bytea_storage(db) -> dict[str, str]:
    with db.engine.connect() as c:
        return dict(
            c.execute(
                text(
                    "SELECT attrelid::regclass::text || '.' || attname, attstorage "
                    "FROM pg_attribute WHERE atttypid = 'bytea'::regtype AND attnum > 0 "
                    "AND attrelid::regclass::text IN "
                    "('upload_parts', 'month_frames', 'assessments', 'registry_versions')"
                )
            ).all()
        )


def test_migration_0011_carries_every_version_and_the_current_values_over(tmp_path):
    """From the oldest layout to the parts: upload 2 carried column b for u1 and column a for
    u2 only, so u1's a stays 1.5 (a column a row did not carry is still not carried)."""
    url = f"sqlite:///{tmp_path / 'v1.db'}"
    old = open_database(url, upgrade=False)
    old.upgrade("0001")
    old_history(old)
    old.upgrade()
    got = as_wide(current_values(old, ALL))
    assert got.loc[("u1", "2026-10")].to_dict() == {"a": 1.5, "b": 3.0}
    assert got.loc[("u2", "2026-10")].isna().all()
    versions = value_history(old, ALL, "u1", "2026-10")
    rows = versions[["upload_id", "column_id", "value"]].itertuples(index=False, name=None)
    assert list(rows) == [
        (2, "b", 3.0),
        (1, "a", 1.5),
        (1, "b", 2.0),
    ]
    with old.engine.connect() as c:
        tables = {r[0] for r in c.execute(text("SELECT name FROM sqlite_master"))}
    assert {"upload_rows", "current_values"}.isdisjoint(tables)
    old.dispose()


def test_a_registry_version_reads_the_same_from_its_arrow_copy_and_its_rows(db):
    from assessment.store import registry as registry_module
    from assessment.store.schema import RegistryVersion

    seeded(db)
    fast = current_registry(db, ALL)
    with db.transaction() as s:
        s.query(RegistryVersion).update({"frame": None})  # as a version from before 0006
    registry_module._VERSIONS.clear()
    slow = current_registry(db, ALL)
    pd.testing.assert_frame_equal(fast, slow)
    assert len(fast) == 183 and fast["unit_code"].is_monotonic_increasing


def test_units_whose_text_carries_csv_quotes_commas_and_backslashes_are_stored_as_they_are(db):
    """PostgreSQL takes the units table as one COPY in CSV: a name with the format's own
    characters, and a type or parent left empty, come back from the rows exactly."""
    from assessment.store import registry as registry_module
    from assessment.store.schema import RegistryVersion

    names = ['城关镇"老街"社区', "东风村,二组", r"C:\N 村", "\\N", "新村 · 一社", "'=1+1"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["unit_code", "unit_name", "unit_type", "parent_code"])
    writer.writerow(["500101", "某区", "区县", ""])
    writer.writerows([f"50010100{i}", name, "社区", "500101"] for i, name in enumerate(names))
    out = import_registry(db, buffer.getvalue().encode(), "r.csv", "admin", ALL)
    assert not [p for p in out.problems if p.severity == "error"], out.problems
    fast = current_registry(db, ALL)
    with db.transaction() as s:
        s.query(RegistryVersion).update({"frame": None})  # read back from the units table
    registry_module._VERSIONS.clear()
    slow = current_registry(db, ALL)
    pd.testing.assert_frame_equal(fast, slow)
    assert list(slow["unit_name"].iloc[1:]) == names
    assert slow["parent_code"].iloc[0] == "" and not slow["parent_code"].isna().any()


def test_the_command_line_knows_the_task_states_of_the_store():
    from assessment.cli.store_commands import STATUSES as shown
    from assessment.store.tasks import STATUSES

    assert shown == STATUSES


def folded(db, period: str) -> pd.DataFrame:
    """A month folded from its uploads' parts, without the kept copy."""
    with db.sessions() as s:
        return month_frames.as_frame(fold(t for _, t in upload_tables(s, period)))


def kept_month(db, period: str) -> pd.DataFrame | None:
    with db.sessions() as s:
        table = month_frames.kept(s, period)
    return None if table is None else month_frames.as_frame(table)


def test_a_month_of_several_uploads_is_kept_as_its_fold_and_follows_every_upload(db):
    """A month of one upload is read from its parts; once a later upload corrects it, the next
    read folds it and keeps the result, which the upload after that makes stale again."""
    seeded(db, "2026-09", "2026-10")
    assert kept_month(db, "2026-09") is None and kept_month(db, "2026-10") is None
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    frame.loc[3, "dues_paid_rate"] = "0.30000000000000004"
    frame.loc[4, "dues_paid_rate"] = ""
    out = import_monthly(db, frame.to_csv(index=False).encode(), "fix.csv", "o", ALL, SETS)
    assert out.status == "imported", out.problems
    read = current_values(db, ALL)  # folds October from two uploads, and keeps it
    october = read[read["period"] == "2026-10"].reset_index(drop=True)
    pd.testing.assert_frame_equal(october, folded(db, "2026-10"))
    pd.testing.assert_frame_equal(kept_month(db, "2026-10"), october)
    assert kept_month(db, "2026-09") is None  # one upload: nothing to keep
    at = october.set_index("unit_code")["dues_paid_rate"]
    assert at[frame.loc[3, "unit_code"]] == 0.30000000000000004
    assert np.isnan(at[frame.loc[4, "unit_code"]])
    frame.loc[3, "dues_paid_rate"] = "55"
    out = import_monthly(db, frame.to_csv(index=False).encode(), "fix2.csv", "o", ALL, SETS)
    assert kept_month(db, "2026-10") is None  # stale
    again = current_values(db, ALL, ["2026-10"]).set_index("unit_code")["dues_paid_rate"]
    assert again[frame.loc[3, "unit_code"]] == 55


def test_a_month_too_large_to_keep_is_folded_on_every_read(db, monkeypatch):
    monkeypatch.setattr(month_frames, "MAX_KEPT_BYTES", 1_000)
    seeded(db, "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    frame.loc[3, "dues_paid_rate"] = "12"
    import_monthly(db, frame.to_csv(index=False).encode(), "fix.csv", "o", ALL, SETS)
    got = current_values(db, ALL, ["2026-10"])
    assert kept_month(db, "2026-10") is None
    pd.testing.assert_frame_equal(got, folded(db, "2026-10"))
    assert got.set_index("unit_code").loc[frame.loc[3, "unit_code"], "dues_paid_rate"] == 12


def test_the_stored_months_are_those_with_values(db):
    seeded(db, "2026-09", "2026-10")
    both = pd.concat(
        [
            pd.read_csv(io.BytesIO(month(p)), dtype=str, keep_default_na=False)
            for p in ("2026-07", "2026-08")
        ]
    )
    out = import_monthly(db, both.to_csv(index=False).encode(), "two.csv", "o", ALL, SETS)
    assert out.status == "imported", out.problems

    def distinct() -> list[str]:
        with db.sessions() as s:
            return sorted(s.scalars(select(UploadPart.period).distinct()))

    assert periods_available(db, ALL) == distinct() == ["2026-07", "2026-08", "2026-09", "2026-10"]
    with db.transaction() as s:  # an upload that did not record its months
        s.execute(text("UPDATE uploads SET period = '' WHERE filename = 'two.csv'"))
    assert periods_available(db, ALL) == distinct()


def test_migration_0009_carries_every_result_over(tmp_path):
    url = f"sqlite:///{tmp_path / 'v8.db'}"
    old = open_database(url, upgrade=False)
    old.upgrade("0008")
    with old.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO rule_set_versions (id, rules_id, version, name, text, sha256, author,"
                " note, created_at, published) VALUES (1, 'r', '1', 'r', '', 'x', 'a', '',"
                " '2026-10-01', 1)"
            )
        )
        c.execute(
            text(
                "INSERT INTO assessments (id, rule_set_version_id, period, status, created_at,"
                " author, data_sha256, engine_version) VALUES"
                " (1, 1, '2026-10', 'published', '2026-10-01', 'a', 'x', '0'),"
                " (2, 1, '2026-09', 'draft', '2026-10-01', 'a', 'x', '0')"
            )
        )
        c.execute(
            text(
                "INSERT INTO assessment_results (assessment_id, unit_code, score, grade,"
                " grade_label, score_grade, reasons, vetoes, dimensions) VALUES"
                " (1, 'u2', 71.25, 'yellow', '合格', 'blue', '一票否决“x” → 至多合格', 'x',"
                ' \'{"org": 80.5, "service": 60.0}\'),'
                " (1, 'u1', NULL, '', '数据不全', '', '数据不全:本月未上报', '',"
                ' \'{"org": null, "service": null}\')'
            )
        )
    old.upgrade()
    got = results(old, ALL, 1)
    assert list(got.columns) == [
        "unit_code",
        "score",
        "grade",
        "grade_label",
        "score_grade",
        "reasons",
        "vetoes",
        "score.org",
        "score.service",
    ]
    assert list(got["unit_code"]) == ["u1", "u2"]
    assert np.isnan(got.loc[0, "score"]) and np.isnan(got.loc[0, "score.org"])
    assert got.loc[1, ["score", "grade", "score.org", "score.service"]].tolist() == [
        71.25,
        "yellow",
        80.5,
        60.0,
    ]
    assert (
        got.loc[1, "reasons"] == "一票否决“x” → 至多合格"
        and got.loc[0, "grade_label"] == "数据不全"
    )
    assert results(old, ALL, 2).empty  # an assessment without results stays without
    old.dispose()
