"""A server that starts again with the store as the last one graded it reads the map's months
from those it kept (``store.graded_months``): the same tables and roll-ups as grading gives,
and the engine runs only when something needs it. Any change to what the grades depend on
(the data, the rule sets, a publication, the code) is a new state: graded again."""

from __future__ import annotations

import io
import logging
import os
import sys
import threading

import pandas as pd
import pytest
import test_service
from conftest import RULES
from sqlalchemy.exc import OperationalError
from test_service import VERSION, as_user, month

from assessment.insight.explanation import explanation_json
from assessment.rules.loader import parse_rules
from assessment.service import Principal, Service, store_state, warm
from assessment.service import loading as loading_module
from assessment.service.loading import load_district
from assessment.service.view import View
from assessment.store import graded_months

district = test_service.district  # the sample store with October published (a fixture)


def restarted(db, monkeypatch):
    """The district a new server process reads: the last one's warm-up kept its months."""
    monkeypatch.setattr(loading_module, "_GRADED", {})
    monkeypatch.setattr(loading_module, "_PARTS", {})
    return loading_module.graded(db)


def warmed(db, monkeypatch):
    monkeypatch.delenv("FIVECOLOR_WARM_UP", raising=False)
    monkeypatch.setattr(loading_module, "_GRADED", {})
    warm.warm_up(db).join(120)
    return restarted(db, monkeypatch)


def test_the_engine_after_kept_months_runs_behind_the_sessions(district, monkeypatch):
    """A server that graded keeps its months and does not grade again; the next one reads
    them, then grades the store on its warm-up thread at a lower CPU priority (Linux) than the
    threads that answer sessions."""
    calls = []
    real = warm.yield_to_requests

    def recording():
        real()
        nice = None
        if sys.platform.startswith("linux"):
            nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        calls.append((threading.current_thread().name, nice))

    monkeypatch.setattr(warm, "yield_to_requests", recording)
    kept = warmed(district, monkeypatch)  # the first server: graded, so nothing to yield
    assert calls == [] and kept.kept is not None
    monkeypatch.setattr(loading_module, "_GRADED", {})
    warm.warm_up(district).join(120)  # the next server: kept months, then the engine
    assert [name for name, _ in calls] == ["fivecolor-warm-up"]
    assert loading_module.graded(district).graded_now
    if sys.platform.startswith("linux"):
        here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert calls[0][1] == min(here + 10, 19)  # that thread only: this one is as it was


def test_a_restarted_server_shows_the_map_from_the_kept_months_before_grading(
    district, monkeypatch
):
    graded = load_district(district)  # what the engine gives now
    kept = warmed(district, monkeypatch)
    assert kept.kept is not None and not kept.graded_now
    assert kept.periods == graded.periods == ["2026-09", "2026-10"]
    view = as_user(district, "chief").view()
    assert view.district is kept
    for period in kept.periods:  # October published, September a trial: both as shown
        pd.testing.assert_frame_equal(view.table(period), graded.table(period))
    pd.testing.assert_frame_equal(view.parents("2026-10"), graded.parents("2026-10"))
    assert [s.status for s in view.shown("2026-10")] == ["published", "published"]
    levels = view.levels()
    tiles = view.tiles("2026-10", levels[-2].index)
    assert tiles["grade"].ne("").all() and len(view.worklist("2026-10"))
    view.level_summary("2026-10", levels[-2].index, as_user(district, "chief").tasks())
    listed = list(view.worklist("2026-10").head(warm.LISTED)["unit_code"])
    sure = view.stability("2026-10", listed)  # the red and orange list's column, as kept
    assert not kept.graded_now  # the map's first page, and no grading
    fresh = View(graded, None).stability("2026-10", listed)
    assert len(sure) == len(listed) > 0
    pd.testing.assert_frame_equal(
        sure.sort_values("unit_code", ignore_index=True),
        fresh.sort_values("unit_code", ignore_index=True),
    )
    unit = view.worklist("2026-10")["unit_code"].iloc[0]
    explained = view.explain(unit, "2026-10")
    again = View(graded, None).explain(unit, "2026-10")
    assert kept.graded_now and explanation_json(explained) == explanation_json(again)
    for period in kept.periods:
        pd.testing.assert_frame_equal(view.table(period), graded.table(period))
    street = as_user(district, "org01").view()  # a part of the store: cut from the kept whole
    assert street.district is kept and len(street.table("2026-10"))


def few_kept(monkeypatch) -> None:
    """A warm-up that keeps the stability of three listed units only (as the country's keeps
    300 of its 620,000): the rest of the store's units are not among them."""
    monkeypatch.setattr(warm, "MAP_TILES", 5)
    monkeypatch.setattr(warm, "LISTED", 3)


def stabilities_of(view: View, period: str) -> pd.DataFrame:
    """Of every unit in the view's scope (as its map's tiles at the lowest level ask)."""
    codes = list(view.leaves()["unit_code"])
    return view.stability(period, codes).sort_values("unit_code", ignore_index=True)


def test_a_part_of_the_store_gets_its_lists_stability_before_the_whole_is_graded(
    district, monkeypatch
):
    few_kept(monkeypatch)
    graded = load_district(district)
    kept = warmed(district, monkeypatch)
    assert len(kept.stabilities["2026-10"]) == 3
    street = as_user(district, "org01").view()  # cut from the kept whole
    assert street.district is kept
    sure = stabilities_of(street, "2026-10")
    assert not kept.graded_now  # its own units graded alone, not the district
    assert len(sure) == len(street.leaves()) > 3
    mine = View(graded, street.allowed)
    pd.testing.assert_frame_equal(sure, stabilities_of(mine, "2026-10"))
    september = stabilities_of(street, "2026-09")  # a trial month, the same way
    assert not kept.graded_now
    pd.testing.assert_frame_equal(september, stabilities_of(mine, "2026-09"))


def test_with_a_relative_rule_set_a_parts_stability_waits_for_the_whole(district, monkeypatch):
    text = (RULES / "community.yaml").read_text("utf-8")
    relative = text.replace(
        "scoring: {method: linear, worst: 80, best: 95}", "scoring: {method: percentile}", 1
    )
    owner = as_user(district, "owner")
    owner.publish_month("2026-10", owner.save_rules(parse_rules(relative), "按排名计分"))
    few_kept(monkeypatch)
    graded = load_district(district)
    kept = warmed(district, monkeypatch)
    street = as_user(district, "org01").view()
    sure = stabilities_of(street, "2026-10")
    assert kept.graded_now  # ranked among every unit: only the whole grading can say
    pd.testing.assert_frame_equal(sure, stabilities_of(View(graded, street.allowed), "2026-10"))


def test_a_month_whose_table_was_too_large_to_keep_is_graded_when_asked(district, monkeypatch):
    monkeypatch.setattr(graded_months, "MAX_BYTES", 64)
    graded = load_district(district)
    kept = warmed(district, monkeypatch)
    assert kept.kept is not None and not any(m.units for m in kept.kept.months.values())
    pd.testing.assert_frame_equal(kept.table("2026-10"), graded.table("2026-10"))
    assert kept.graded_now


def upload_changed(db):
    """One unit's October value changed by a new upload."""
    frame = pd.read_csv(io.BytesIO(month("2026-10")), dtype=str, keep_default_na=False)
    column = next(c for c in frame.columns[3:] if frame[c].iloc[0] not in ("", "0"))
    frame.loc[0, column] = "0"
    admin = Service(db, Principal.operator("setup"))
    out = admin.upload(frame.to_csv(index=False).encode(), "again.csv", "2026-10")
    assert out.status == "imported", out.problems


def new_rules(db):
    text = (RULES / "village.yaml").read_text(encoding="utf-8")
    changed = parse_rules(text.replace(VERSION, VERSION[:-1] + '-b"', 1), "village.yaml")
    Service(db, Principal.operator("setup")).save_rules(changed, "next")


def publish_september(db):
    Service(db, Principal.operator("setup")).publish_month("2026-09")


def new_code(monkeypatch):
    monkeypatch.setattr(store_state, "code", lambda: "another release")


@pytest.mark.parametrize("change", [upload_changed, new_rules, publish_september, "code"])
def test_any_change_to_what_grades_depend_on_is_graded_again(district, monkeypatch, change):
    warmed(district, monkeypatch)
    if change == "code":
        new_code(monkeypatch)
    else:
        change(district)
    again = restarted(district, monkeypatch)
    assert again.kept is None and again.graded_now
    fresh = load_district(district)
    for period in fresh.periods:
        pd.testing.assert_frame_equal(again.table(period), fresh.table(period))


def test_a_busy_store_keeps_nothing_and_the_next_server_grades(district, monkeypatch, caplog):
    def busy(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(warm, "keep_months", busy)
    with caplog.at_level(logging.WARNING, logger=warm.__name__):
        again = warmed(district, monkeypatch)
    assert "not kept" in caplog.text
    assert again.kept is None and again.graded_now


def test_a_month_of_two_rule_sets_is_held_whole_graded_or_kept(district, monkeypatch):
    """The map's lookups by code take a month's text columns as they are: joined from the
    village and the community rule sets, they are made one piece once, not at each lookup."""
    for d in (load_district(district), warmed(district, monkeypatch)):
        table = d.table("2026-10")
        assert table["rules_id"].nunique() == 2
        text = [c for c in table.columns if table[c].dtype == "str"]
        assert "unit_code" in text
        assert all(table[c].array._pa_array.num_chunks == 1 for c in text), text
