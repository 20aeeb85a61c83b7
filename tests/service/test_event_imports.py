"""Exports through the service: the role may upload or not, a street imports and reads only its
own units' events, and a unit outside the scope is refused as if it did not exist."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
from conftest import RULES, SAMPLE

from assessment.rules.loader import load_rules
from assessment.service import Denied, Principal, Role, Service
from assessment.service import event_imports as ev

STREET, OTHER = "500188001000", "500188002000"


@pytest.fixture
def svc(db):
    admin = Service(db, Principal.operator("setup"))
    admin.import_registry((SAMPLE / "units.csv").read_bytes(), "units.csv")
    for f in ("community.yaml", "village.yaml"):
        admin.save_rules(load_rules(RULES / f), "shipped")
    return admin


def user(admin: Service, role: Role, root: str | None) -> Service:
    return Service(admin.db, Principal("u", role, None if root is None else frozenset({root})))


def street_export(street_name: str) -> bytes:
    frame = pd.read_csv(SAMPLE / "hotline_2026-10.csv", dtype=str, keep_default_na=False)
    return frame[frame["所属街道"] == street_name].to_csv(index=False).encode()


def test_a_street_imports_its_export_and_reads_only_its_units_events(svc):
    units = pd.read_csv(SAMPLE / "units.csv", dtype=str)
    mine = units[units["parent_code"] == STREET]
    theirs = units[units["parent_code"] == OTHER]
    org = user(svc, Role.ORGANIZER, STREET)
    name = units.loc[units["unit_code"] == STREET, "unit_name"].iloc[0]
    [info] = ev.sources(org)
    assert info.source.id == "hotline" and "12345按时办结数" in info.columns.values()
    out = ev.import_export(org, street_export(name), "mine.csv", "hotline", "2026-10")
    assert out.status == "imported", out.problems[:3]
    code = mine["unit_code"].iloc[0]
    assert not ev.events_of(org, code, "2026-10", "hotline").empty
    with pytest.raises(Denied):
        ev.events_of(org, theirs["unit_code"].iloc[0], "2026-10", "hotline")
    supervisor = user(svc, Role.SUPERVISOR, None)
    with pytest.raises(Denied):
        ev.import_export(supervisor, street_export(name), "x.csv", "hotline", "2026-10")
    assert len(ev.events_of(supervisor, code, "2026-10", "hotline")) == len(
        ev.events_of(org, code, "2026-10", "hotline")
    )


def test_an_export_does_not_make_a_unit_reported(svc):
    """The 12345 export covers every unit: it must not tick off who has sent its table, nor
    close a missed month to late filling, nor silence the street's reminder."""
    from assessment.service import forms
    from assessment.service.reminders import due_reminders

    export = (SAMPLE / "hotline_2026-10.csv").read_bytes()
    assert ev.import_export(svc, export, "h.csv", "hotline", "2026-10").ok
    assert not svc.submissions("2026-10")["reported"].any()
    assert not forms.tracker(svc, "2026-10")["in_store"].any()
    table = (SAMPLE / "indicators_2026-10.csv").read_bytes()
    mine = pd.read_csv(io.BytesIO(table), dtype=str, keep_default_na=False)
    mine = mine[mine["unit_code"].str.startswith(STREET[:9])]
    assert svc.upload(mine.to_csv(index=False).encode(), "mine.csv", "2026-10").ok
    reported = svc.submissions("2026-10").set_index("unit_code")["reported"]
    assert reported[reported.index.str.startswith(STREET[:9])].all()
    assert not reported[~reported.index.str.startswith(STREET[:9])].any()
    import datetime as dt

    reminders = due_reminders(svc.db, dt.date(2026, 11, 20), days_before=3)
    streets = {r.unit_code for r in reminders if r.kind == "not_reported"}
    assert STREET not in streets and OTHER in streets
    code = (
        pd.read_csv(SAMPLE / "units.csv", dtype=str)
        .query("parent_code == @OTHER")["unit_code"]
        .iloc[0]
    )
    assert "2026-10" in forms.open_months(svc, code, dt.date(2026, 12, 3))


def test_the_forms_trial_counts_the_months_12345_figures_from_the_export(svc):
    from assessment.service import forms

    units = pd.read_csv(SAMPLE / "units.csv", dtype=str)
    table = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    code = table["unit_code"].iloc[0]
    values = table.iloc[0].to_dict()
    before = forms.trial(svc, code, "2026-10", values)
    rate = {x.id: x.raw for x in before.indicators}["hotline_ontime_close_rate"]
    assert math.isnan(rate)  # no export yet: not applicable
    export = (SAMPLE / "hotline_2026-10.csv").read_bytes()
    assert ev.import_export(svc, export, "h.csv", "hotline", "2026-10").ok
    after = forms.trial(svc, code, "2026-10", values)
    rate = {x.id: x.raw for x in after.indicators}["hotline_ontime_close_rate"]
    mine = pd.read_csv(io.BytesIO(export), dtype=str, keep_default_na=False)
    name = units.loc[units["unit_code"] == code, "unit_name"].iloc[0]
    mine = mine[mine["所属村社区"] == name]
    received = pd.to_datetime(mine["受理时间"])
    closed = pd.to_datetime(mine["办结时间"].replace("", None))
    on_time = ((closed - received).dt.total_seconds() <= 7 * 86400).sum()
    assert rate == pytest.approx(on_time * 100.0 / len(mine))
