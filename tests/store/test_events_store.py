"""A source's export in the store: its derived values are an upload like any other (history,
the month's current values, the grades), a corrected export replaces the source's month, a
refused one leaves everything as it was, and a unit's events are read back from the newest
export that covered it."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from conftest import RULES, SAMPLE
from sqlalchemy import select

from assessment.rules.loader import load_rules
from assessment.store import Scope
from assessment.store.events import check_events, import_events, unit_events
from assessment.store.registry import import_registry
from assessment.store.schema import EventFrame, Upload
from assessment.store.uploads import current_values, import_monthly, value_history

ALL = Scope.everything()
SETS = [load_rules(RULES / f).rules for f in ("community.yaml", "village.yaml")]
EXPORT = (SAMPLE / "hotline_2026-10.csv").read_bytes()


def seeded(db):
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "admin", ALL)
    oct_ = (SAMPLE / "indicators_2026-10.csv").read_bytes()
    assert import_monthly(db, oct_, "indicators_2026-10.csv", "o", ALL, SETS).ok
    return db


def export_frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(EXPORT), dtype=str, keep_default_na=False)


def by_hand(frame: pd.DataFrame, community: str) -> dict[str, float]:
    """The hotline figures of one community, counted in pandas from the export itself."""
    rows = frame[frame["所属村社区"] == community]
    received = pd.to_datetime(rows["受理时间"])
    hours = (pd.to_datetime(rows["签收时间"]) - received).dt.total_seconds() / 3600
    days_exact = (pd.to_datetime(rows["办结时间"].replace("", None)) - received).dt.total_seconds()
    rated = rows["回访结果"].isin(["满意", "基本满意", "不满意"])
    good = rows["回访结果"].isin(["满意", "基本满意"])
    return {
        "hotline_tickets": len(rows),
        "hotline_accepted_ontime": int((hours <= 24).sum()),
        "hotline_closed_ontime": int((days_exact <= 7 * 86400).sum()),
        "hotline_repeat": int((rows["是否重复诉求"] == "是").sum()),
        "hotline_satisfaction_rate": good.sum() * 100.0 / rated.sum(),
    }


def test_an_export_becomes_the_months_hotline_values(db):
    seeded(db)
    out = import_events(db, EXPORT, "hotline_2026-10.csv", "o", ALL, SETS, "hotline")
    assert out.status == "imported", out.problems[:3]
    values = current_values(db, ALL, ["2026-10"]).set_index("unit_code")
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str).set_index("unit_code")
    frame = export_frame()
    busy = values.index[values["hotline_tickets"] > 0]
    assert len(busy) > 100
    for code in busy[:: len(busy) // 8]:
        for column, want in by_hand(frame, units.loc[code, "unit_name"]).items():
            assert values.loc[code, column] == pytest.approx(want, abs=1e-12), (code, column)
    with db.sessions() as s:
        upload = s.get(Upload, out.upload_id)
        kept = s.get(EventFrame, out.upload_id)
    assert upload.source == "hotline" and upload.rows == len(frame)
    assert kept.rows == len(frame) and kept.period == "2026-10"


def test_a_corrected_export_replaces_the_month_and_never_adds_events(db):
    seeded(db)
    assert import_events(db, EXPORT, "a.csv", "o", ALL, SETS, "hotline").ok
    frame = export_frame()
    community = frame["所属村社区"].iloc[0]
    code = _code(community)
    first = unit_events(db, code, "2026-10", "hotline")
    assert len(first) == (frame["所属村社区"] == community).sum() > 1
    corrected = frame[frame["所属村社区"] != community]  # its tickets were someone else's
    out = import_events(
        db, corrected.to_csv(index=False).encode(), "b.csv", "o", ALL, SETS, "hotline"
    )
    assert out.status == "imported"
    now = current_values(db, ALL, ["2026-10"]).set_index("unit_code").loc[code]
    assert now["hotline_tickets"] == 0 and np.isnan(now["hotline_satisfaction_rate"])
    assert unit_events(db, code, "2026-10", "hotline").empty  # not the first export's events
    other = _code(frame["所属村社区"].iloc[-1])
    again = unit_events(db, other, "2026-10", "hotline")
    assert again["event_id"].is_unique  # two imports of its tickets, each listed once
    history = value_history(db, ALL, code, "2026-10")
    assert set(history.loc[history["column_id"] == "hotline_tickets", "upload_id"]) >= {
        out.upload_id
    }
    changed = out.changes[out.changes["unit_code"] == code]
    assert "hotline_tickets" in set(changed["column_id"])


def test_a_refused_export_changes_nothing(db):
    seeded(db)
    before = current_values(db, ALL, ["2026-10"])
    frame = export_frame()
    frame.loc[3, "受理时间"] = "2026-11-02 08:00"
    frame.loc[5, "工单编号"] = frame.loc[4, "工单编号"]
    data = frame.to_csv(index=False).encode()
    out = import_events(db, data, "x.csv", "o", ALL, SETS, "hotline", "2026-10")
    assert out.status == "rejected"
    assert {p.code for p in out.problems} >= {"event_outside_month", "duplicate_event"}
    pd.testing.assert_frame_equal(current_values(db, ALL, ["2026-10"]), before)
    with db.sessions() as s:
        assert s.scalars(select(EventFrame)).all() == []
        assert s.get(Upload, out.upload_id).problems  # the attempt is on record


def test_the_preview_gives_each_unit_its_values_before_anything_is_stored(db):
    seeded(db)
    checked = check_events(db, EXPORT, "a.csv", ALL, SETS, "hotline")
    assert checked.period == "2026-10" and checked.derived is not None
    assert len(checked.derived) == 170 and len(checked.events) == len(export_frame())
    with db.sessions() as s:
        assert s.scalars(select(EventFrame)).all() == []


def test_a_street_imports_only_its_own_units(db):
    seeded(db)
    street = Scope(roots=frozenset({"500188001000"}))
    out = import_events(db, EXPORT, "a.csv", "org01", street, SETS, "hotline")
    assert out.status == "rejected"
    unknown = [p for p in out.problems if p.code == "unknown_unit_name"]
    assert unknown and "管辖范围" in unknown[0].message
    mine = export_frame()
    mine = mine[mine["所属街道"] == "龙溪街道"]
    out = import_events(
        db, mine.to_csv(index=False).encode(), "b.csv", "org01", street, SETS, "hotline"
    )
    assert out.status == "imported", out.problems[:3]
    with db.sessions() as s:
        assert (
            s.get(Upload, out.upload_id).units
            == (pd.read_csv(SAMPLE / "units.csv", dtype=str)["parent_code"] == "500188001000").sum()
        )


def test_an_unknown_source_is_named_with_the_declared_ones(db):
    seeded(db)
    out = import_events(db, EXPORT, "a.csv", "o", ALL, SETS, "grid")
    assert out.status == "rejected"
    assert "hotline(12345热线工单)" in out.problems[0].message


def _code(name: str) -> str:
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str)
    return units.loc[units["unit_name"] == name, "unit_code"].iloc[0]


def test_a_derived_value_far_from_last_month_is_a_warning_naming_its_unit(db):
    seeded(db)
    sept = (SAMPLE / "indicators_2026-09.csv").read_bytes()
    assert import_monthly(db, sept, "indicators_2026-09.csv", "o", ALL, SETS).ok
    sept_export = (SAMPLE / "hotline_2026-09.csv").read_bytes()
    assert import_events(db, sept_export, "h9.csv", "o", ALL, SETS, "hotline").ok
    frame = export_frame()
    busiest = frame["所属村社区"].value_counts().index[0]
    extra = frame[frame["所属村社区"] == busiest]
    copies = [extra.assign(工单编号=extra["工单编号"] + f"-{k}") for k in range(12)]
    grown = pd.concat([frame, *copies], ignore_index=True)
    checked = check_events(db, grown.to_csv(index=False).encode(), "h.csv", ALL, SETS, "hotline")
    jumps = [p for p in checked.problems if p.code == "large_change"]
    assert jumps and all(p.row is None for p in jumps)
    assert any(busiest in p.message and "12345工单总数" in p.message for p in jumps)
