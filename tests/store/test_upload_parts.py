"""Uploads stored as Arrow parts: the fold gives the newest upload's cell, and a read of some
units touches only the parts that may hold them."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE
from sqlalchemy import func, select
from test_store import ALL, SETS, STREET, seeded

from assessment.store import Scope, upload_parts
from assessment.store.month_frames import as_frame
from assessment.store.schema import UploadPart
from assessment.store.upload_parts import _holding, fold, month_table
from assessment.store.uploads import current_values, import_monthly, value_history

COLUMNS = ["a", "b", "c", "d"]


def random_upload(rnd: random.Random, pool: list[str]) -> pd.DataFrame:
    codes = rnd.sample(pool, rnd.randint(1, len(pool)))  # any order: the table sorts
    columns = rnd.sample(COLUMNS, rnd.randint(1, len(COLUMNS)))
    return pd.DataFrame(
        {
            "unit_code": codes,
            "period": "2026-10",
            **{c: [rnd.choice([np.nan, rnd.randint(0, 100) / 7]) for _ in codes] for c in columns},
        }
    )


@pytest.mark.parametrize("seed", range(30))
def test_the_fold_of_uploads_is_the_newest_cell_of_each(seed):
    rnd = random.Random(seed)
    pool = [f"{rnd.randint(0, 10**6):07d}" for _ in range(40)]
    uploads = [random_upload(rnd, pool) for _ in range(rnd.randint(1, 6))]
    newest: dict[tuple[str, str], float] = {}
    for frame in uploads:  # replay cell by cell
        for row in frame.to_dict("records"):
            for c in COLUMNS:
                if c in row:
                    newest[(row["unit_code"], c)] = row[c]
                else:
                    newest.setdefault((row["unit_code"], c), np.nan)
    got = as_frame(fold(month_table(f, [c for c in COLUMNS if c in f]) for f in uploads))
    assert list(got["unit_code"]) == sorted({code for code, _ in newest})
    for row in got.to_dict("records"):
        for c in COLUMNS:
            want = newest[(row["unit_code"], c)]
            value = row.get(c, np.nan)
            assert (np.isnan(want) and np.isnan(value)) or want == value, (row, c)


@pytest.mark.parametrize("seed", range(20))
def test_the_parts_holding_codes_are_those_whose_range_has_one(seed):
    rnd = random.Random(seed)
    ranges = sorted(tuple(sorted(rnd.sample(range(100), 2))) for _ in range(rnd.randint(1, 8)))
    parts = pd.DataFrame(
        {"first": [f"{a:03d}" for a, _ in ranges], "last": [f"{b:03d}" for _, b in ranges]}
    )
    codes = np.unique([f"{rnd.randint(0, 99):03d}" for _ in range(rnd.randint(1, 10))])
    want = [any(a <= int(c) <= b for c in codes) for a, b in ranges]
    assert _holding(parts, codes).tolist() == want


def test_a_street_reads_only_the_parts_holding_its_units(db, monkeypatch):
    monkeypatch.setattr(upload_parts, "PART_ROWS", 16)  # the sample's 170 units: 11 parts
    seeded(db, "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    fix = frame.sample(frac=0.3, random_state=1)[["unit_code", "period", "dues_paid_rate"]]
    fix["dues_paid_rate"] = "12.5"
    out = import_monthly(
        db, fix.to_csv(index=False).encode(), "fix.csv", "o", ALL, SETS, require_columns=False
    )
    assert out.status == "imported", out.problems
    fetched: list[int] = []
    real = upload_parts._read_parts

    def spy(session, period, upload_id, parts):
        fetched.extend(parts)
        return real(session, period, upload_id, parts)

    monkeypatch.setattr(upload_parts, "_read_parts", spy)
    street = current_values(db, Scope.of(STREET))  # read first: a whole read would be cut
    whole = current_values(db, ALL)
    with db.sessions() as s:
        stored = s.scalar(select(func.count()).select_from(UploadPart))
    read_for_street = fetched[: len(fetched) - stored]  # then every part, for the whole
    assert 0 < len(read_for_street) <= 4 < stored  # a part or two of each upload
    assert 0 < len(street) < len(whole)
    want = whole[whole["unit_code"].isin(set(street["unit_code"]))].reset_index(drop=True)
    pd.testing.assert_frame_equal(street, want)
    fixed = street[street["unit_code"].isin(set(fix["unit_code"]))]
    assert len(fixed) and (fixed["dues_paid_rate"] == 12.5).all()


def test_every_version_of_a_unit_reads_back_from_its_part(db, monkeypatch):
    monkeypatch.setattr(upload_parts, "PART_ROWS", 16)
    seeded(db, "2026-10")
    frame = pd.read_csv(SAMPLE / "indicators_2026-10.csv", dtype=str, keep_default_na=False)
    code = frame.loc[100, "unit_code"]
    frame.loc[100, "households"] = "4321"
    import_monthly(db, frame.to_csv(index=False).encode(), "fix.csv", "o", ALL, SETS)
    versions = value_history(db, ALL, code, "2026-10")
    households = versions[versions["column_id"] == "households"]["value"].tolist()
    assert households[0] == 4321 and len(households) == 2
