"""Exports through the service: the role may upload or not, a street imports and reads only its
own units' events, and a unit outside the scope is refused as if it did not exist."""

from __future__ import annotations

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
