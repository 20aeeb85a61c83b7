"""Every level from the province to the village: levels named from the registry, roll-ups
at every level, the map's opening level, the path back up, and scope: a province's
administrator sees nothing of another province. On SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from five_levels import load_five_levels

from assessment.service import Principal, Service
from assessment.service.accounts import add_user, principal_named

NAMES = ["省", "市", "区县", "街道/乡镇", "村/社区"]


@pytest.fixture
def country(db):
    registry = load_five_levels(db)
    op = Principal.operator("setup")
    add_user(db, op, "gov61", "admin", ["610000000000"], "province-pw-1")
    add_user(db, op, "town", "organizer", ["620101001000"], "street-pw-1")
    return db, registry


def as_(db, name: str):
    return Service(db, principal_named(db, name)).view()


def test_the_levels_are_the_registry_s_named_from_its_types(country):
    db, _ = country
    view = Service(db, Principal.operator("t")).view()
    assert [lv.name for lv in view.levels()] == NAMES
    assert [lv.units for lv in view.levels()] == [2, 4, 8, 16, 48]
    assert [lv.units for lv in as_(db, "gov61").levels()] == [1, 2, 4, 8, 24]
    assert [lv.name for lv in as_(db, "town").levels()] == ["街道/乡镇", "村/社区"]


def test_every_level_rolls_up_from_the_level_below_by_the_rule_set_s_mean(country):
    db, registry = country
    view = Service(db, Principal.operator("t")).view()
    period = view.periods[-1]
    graded = view.table(period).set_index("unit_code")["score"]
    parent = registry.set_index("unit_code")["parent_code"]
    scores = graded
    for level in (3, 2, 1, 0):  # town = mean of its villages, county = mean of its towns …
        by_hand = scores.groupby(scores.index.map(parent)).mean()
        tiles = view.tiles(period, level).set_index("unit_code")
        assert set(tiles.index) == set(by_hand.index)
        assert tiles["score"].to_numpy() == pytest.approx(by_hand[tiles.index].to_numpy())
        assert (tiles["grade"] != "").all()
        scores = by_hand


def test_the_summary_of_any_level_counts_the_graded_units_below_each_unit(country):
    db, _ = country
    view = Service(db, Principal.operator("t")).view()
    period = view.periods[-1]
    table = view.table(period)
    for level, size in ((0, 24), (1, 12), (2, 6), (3, 3)):
        summary = view.level_summary(period, level, pd.DataFrame())
        assert summary["units"].tolist() == [size] * len(summary)
        colors = summary[["green", "blue", "yellow", "orange", "red"]].to_numpy().sum()
        assert colors == (table["grade"] != "").sum()


def test_the_map_opens_one_level_below_the_scope_and_the_path_leads_back_up(country):
    db, _ = country
    everyone = Service(db, Principal.operator("t")).view()
    assert everyone.opening_level(max_tiles=100) == 4  # a small store: every unit at once
    assert everyone.opening_level(max_tiles=3) == 0  # the country: its provinces
    province = as_(db, "gov61")
    assert province.opening_level(max_tiles=3) == 1  # its cities
    assert as_(db, "town").opening_level(max_tiles=10) == 4  # a street: its units
    # two tiles say little: the map opens a level further down while that fits a page, its
    # tiles grouped under those two (重庆市's 市辖区 and 县 open at their 区县)
    assert everyone.opening_level(max_tiles=10) == 1  # two provinces: their four cities
    assert province.opening_level(max_tiles=10) == 2  # two cities: their four counties
    assert province.opening_level(max_tiles=20) == 2  # four counties: enough to show
    village = "610102002003"
    assert province.path(village) == [
        "610000000000",
        "610100000000",
        "610102000000",
        "610102002000",
        village,
    ]
    tiles = province.tiles(province.periods[-1], 4, under="610102000000")
    assert len(tiles) == 6 and set(tiles["parent_code"]) == {"610102001000", "610102002000"}


def test_a_province_sees_nothing_of_another_province(country):
    db, registry = country
    view = as_(db, "gov61")
    period = view.periods[-1]
    other = registry[registry["unit_code"].str.startswith("62")]
    for level in range(5):
        codes = set(view.tiles(period, level)["unit_code"])
        assert codes and not codes & set(other["unit_code"])
        assert not set(view.units_at(level)) & set(other["unit_code"])
    assert view.level_of("620000000000") is None and view.path("620101001001") == []
    assert view.tiles(period, 4, under="620101001000").empty
    assert view.find_units("乙").empty and view.find_units("62").empty
    summary = view.level_summary(period, 1, pd.DataFrame())
    assert set(summary["unit_code"]) == {"610100000000", "610200000000"}
