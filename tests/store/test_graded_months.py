"""Graded months kept in the store: each frame reads back exactly as kept (columns, dtypes,
values, index), only for the state it was kept for, and keeping a state replaces the last."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment.store import graded_months
from assessment.store.graded_months import MonthToKeep, keep_months, kept_months, read_month


def units_frame(n: int = 7) -> pd.DataFrame:
    """Every kind of column a month's table holds: codes and names as text (one missing),
    floats with NaN, ints, categories, and an object column of ints and None (run_id)."""
    return pd.DataFrame(
        {
            "unit_code": [f"5001{k:08d}" for k in range(n)],
            "unit_name": ["一村", None, *[f"第{k}社区居民委员会" for k in range(n - 2)]],
            "score": np.r_[np.nan, np.linspace(55.5, 98.25, n - 1)],
            "grade": ["", *["green", "red"] * ((n - 1) // 2), *["blue"] * ((n - 1) % 2)],
            "rule_version_id": np.arange(n, dtype=np.int64),
            "rules_id": pd.Categorical(["village", "community"] * (n // 2) + ["village"] * (n % 2)),
            "run_id": pd.Series([3, None] * (n // 2) + [None] * (n % 2), dtype=object),
            "published": [True, False] * (n // 2) + [True] * (n % 2),
        }
    )


def test_a_kept_month_reads_back_exactly_as_it_was_kept(db):
    units = units_frame()
    parents = units.iloc[:2].drop(columns=["run_id"]).set_index("unit_code")  # an index too
    only_ints = units.assign(run_id=pd.Series(range(len(units)), dtype=object))
    sure = pd.DataFrame(
        {"unit_code": ["a", "b"], "stability": [0.75, 1.0], "borderline": [True, False]}
    )
    keep_months(
        db,
        "state-a",
        {
            "2026-09": MonthToKeep("f" * 64, only_ints, None),
            "2026-10": MonthToKeep(None, units, parents, sure),
        },
    )
    kept = kept_months(db, "state-a")
    assert set(kept) == {"2026-09", "2026-10"}
    assert (kept["2026-09"].fingerprint, kept["2026-09"].units, kept["2026-09"].parents) == (
        "f" * 64,
        True,
        False,
    )
    assert kept["2026-10"].fingerprint is None and kept["2026-10"].parents
    pd.testing.assert_frame_equal(read_month(db, "state-a", "2026-10", "units"), units)
    pd.testing.assert_frame_equal(read_month(db, "state-a", "2026-10", "parents"), parents)
    back = read_month(db, "state-a", "2026-09", "units")
    pd.testing.assert_frame_equal(back, only_ints)  # still Python ints in an object column
    assert read_month(db, "state-a", "2026-09", "parents") is None
    assert kept["2026-10"].stabilities and not kept["2026-09"].stabilities
    pd.testing.assert_frame_equal(read_month(db, "state-a", "2026-10", "stabilities"), sure)
    assert read_month(db, "state-a", "2026-09", "stabilities") is None
    with pytest.raises(ValueError):
        read_month(db, "state-a", "2026-10", "units FROM graded_months --")


def test_only_the_state_kept_is_read_and_keeping_another_replaces_it(db):
    keep_months(db, "state-a", {"2026-10": MonthToKeep(None, units_frame(), None)})
    assert kept_months(db, "state-b") == {}
    assert read_month(db, "state-b", "2026-10", "units") is None
    keep_months(db, "state-b", {"2026-11": MonthToKeep(None, units_frame(3), None)})
    assert kept_months(db, "state-a") == {}
    assert set(kept_months(db, "state-b")) == {"2026-11"}
    graded_months.forget(db)
    assert kept_months(db, "state-b") == {}


def test_a_frame_too_large_for_one_blob_is_not_kept_but_its_month_is_listed(db, monkeypatch):
    monkeypatch.setattr(graded_months, "MAX_BYTES", 64)
    keep_months(db, "s", {"2026-10": MonthToKeep("f" * 64, units_frame(), None)})
    assert kept_months(db, "s")["2026-10"].units is False
    assert read_month(db, "s", "2026-10", "units") is None
