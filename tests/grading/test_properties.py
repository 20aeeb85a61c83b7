"""Hypothesis properties of the engine: invariants that hold for any data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import make_rules
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.grading.engine import assess
from assessment.rules.grades import GRADE_KEYS


def _extend(d):
    d["dimensions"][0]["floor"] = {"min_score": 40, "cap": "yellow"}
    d["dimensions"][1]["indicators"].append(
        {"id": "volunteer", "name": "志愿服务", "weight": 1, "scoring": {"method": "minmax"}}
    )
    d["dimensions"][1]["indicators"].append(
        {"id": "rank", "name": "排名", "weight": 1, "scoring": {"method": "percentile"}}
    )
    d["vetoes"] = [{"id": "v", "name": "否决", "column": "deaths", "op": ">=", "value": 2}]


RULES = make_rules(_extend)
HIGHER = ["attend", "held", "closed", "volunteer", "rank"]  # higher is better, all of them
maybe = st.one_of(st.none(), st.floats(0, 100, allow_nan=False))
unit = st.fixed_dictionaries(
    {
        "attend": maybe,
        "held": st.one_of(st.none(), st.sampled_from([0, 1])),
        "tickets": st.integers(0, 30),
        "closed": st.integers(0, 30),
        "vacancy": st.one_of(st.none(), st.integers(0, 5)),
        "volunteer": maybe,
        "rank": maybe,
        "deaths": st.integers(0, 2),
    }
)
units = st.lists(unit, min_size=1, max_size=25)


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows).astype(float)
    df["closed"] = np.minimum(df["closed"], df["tickets"])
    df.insert(0, "unit_code", [f"{i:03d}" for i in range(len(df))])
    df["period"] = "2026-10"
    return df


@settings(max_examples=80, deadline=None)
@given(units, st.data())
def test_a_higher_is_better_value_rising_never_lowers_score_or_grade(rows, data):
    df = frame(rows)
    k = data.draw(st.integers(0, len(df) - 1), label="unit")
    col = data.draw(st.sampled_from(HIGHER), label="indicator")
    if np.isnan(df.loc[k, col]):
        return
    up = data.draw(st.floats(0, 100, allow_nan=False), label="increase")
    raised = df.copy()
    raised.loc[k, col] = raised.loc[k, col] + up
    if col == "held":
        raised.loc[k, col] = min(raised.loc[k, col], 1.0)
    if col == "closed":
        raised.loc[k, "closed"] = min(raised.loc[k, "closed"], raised.loc[k, "tickets"])
    before = assess(RULES, df).table().iloc[k]
    after = assess(RULES, raised).table().iloc[k]
    assert after["score"] >= before["score"] - 1e-9
    rank = {g: i for i, g in enumerate(GRADE_KEYS)}
    if before["grade"]:
        assert rank[after["grade"]] <= rank[before["grade"]]


@settings(max_examples=60, deadline=None)
@given(units, st.floats(0.01, 1000))
def test_weights_scaled_by_a_constant_change_nothing(rows, factor):
    def scale(d):
        _extend(d)
        for dim in d["dimensions"]:
            dim["weight"] *= factor
            for ind in dim["indicators"]:
                ind["weight"] *= factor

    df = frame(rows)
    a = assess(RULES, df).table()
    b = assess(make_rules(scale), df).table()
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-12, atol=1e-9)
    # A grade may only differ where floating point sits on a band edge.
    edges = np.array([90, 80, 70, 60])
    clear = np.abs(a["score"].to_numpy()[:, None] - edges).min(axis=1) > 1e-6
    clear |= np.isnan(a["score"].to_numpy())
    assert (a["grade"][clear] == b["grade"][clear]).all()


@settings(max_examples=60, deadline=None)
@given(units)
def test_every_unit_gets_exactly_one_grade_or_data_incomplete(rows):
    df = frame(rows)
    table = assess(RULES, df).table()
    assert sorted(table["unit_code"]) == sorted(df["unit_code"])
    graded = table["grade"].isin(GRADE_KEYS)
    incomplete = table["grade"] == ""
    assert (graded ^ incomplete).all()
    assert (incomplete == (table["grade_label"] == "数据不全")).all()
    assert (incomplete == table["score"].isna()).all()


@settings(max_examples=60, deadline=None)
@given(units, st.randoms(use_true_random=False))
def test_row_order_changes_nothing(rows, rnd):
    df = frame(rows)
    order = list(range(len(df)))
    rnd.shuffle(order)
    a = assess(RULES, df).table()
    b = assess(RULES, df.iloc[order]).table()
    pd.testing.assert_frame_equal(a, b, check_exact=True)
