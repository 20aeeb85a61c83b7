"""Deriving a column from events and grading it is grading the same numbers uploaded: for any
export (hypothesis), the scores and grades are the same to the last bit. A unit that sent
nothing of its own is 数据不全 (未上报), not graded on its derived figures alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment.grading.engine import assess
from assessment.intake.derive import derive, source_of, source_units
from assessment.rules.loader import LoadedRules
from assessment.rules.models import RuleSet
from tests.intake.event_rules import event_rules

REGISTRY = pd.DataFrame(
    {
        "unit_code": ["S", "A", "B", "C", "D"],
        "unit_name": ["街道", "甲社区", "乙社区", "丙社区", "丁社区"],
        "unit_type": ["街道", "社区", "社区", "社区", "社区"],
        "parent_code": ["", "S", "S", "S", "S"],
    }
)
RULES = event_rules()
SOURCE = source_of([RULES], "tickets")
UNITS = source_units(REGISTRY, [RULES], "tickets")
RATINGS = ["满意", "基本满意", "不满意", ""]


def uploaded_instead(rules: RuleSet) -> RuleSet:
    """The same rule set with every derived column an ordinary uploaded column."""

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("derive", "sources")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return RuleSet.model_validate(strip(rules.model_dump(by_alias=True, exclude_none=True)))


PLAIN = uploaded_instead(RULES)

events = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),  # D never has an event
        st.integers(0, 30 * 24 - 1),  # hour of the month it was received
        st.one_of(st.none(), st.integers(0, 24 * 20)),  # hours to closing (None: open)
        st.sampled_from(RATINGS),
        st.sampled_from(["供水", "道路", "停水"]),
    ),
    max_size=40,
)


def as_events(rows) -> pd.DataFrame:
    start = np.datetime64("2026-10-01T00:00", "s")
    received = [start + np.timedelta64(h * 3600, "s") for _, h, _, _, _ in rows]
    closed = [
        np.datetime64("NaT", "s") if c is None else r + np.timedelta64(c * 3600, "s")
        for r, (_, _, c, _, _) in zip(received, rows, strict=True)
    ]
    return pd.DataFrame(
        {
            "event_id": [str(i) for i in range(len(rows))],
            "unit_code": [u for u, *_ in rows],
            "received": np.array(received, dtype="datetime64[s]"),
            "closed": np.array(closed, dtype="datetime64[s]"),
            "kind": [k for *_, k in rows],
            "urgent": np.zeros(len(rows)),
            "cost": np.full(len(rows), np.nan),
            "rating": [r for _, _, _, r, _ in rows],
        }
    )


@settings(max_examples=60, deadline=None)
@given(events, st.lists(st.integers(0, 4), min_size=4, max_size=4))
def test_deriving_then_grading_equals_uploading_the_same_numbers(rows, meetings):
    derived = derive(as_events(rows), [RULES], SOURCE, UNITS, "2026-10")
    own = pd.DataFrame(
        {"unit_code": ["A", "B", "C", "D"], "period": "2026-10", "meetings": meetings}
    ).astype({"meetings": float})
    data = own.merge(derived, on=["unit_code", "period"], how="outer")
    typed = data.copy()  # the same numbers, as an organizer would have typed them
    from_events = assess(LoadedRules(RULES, "", ""), data, REGISTRY).table()
    from_table = assess(LoadedRules(PLAIN, "", ""), typed, REGISTRY).table()
    columns = ["unit_code", "score", "grade", "reasons"]
    pd.testing.assert_frame_equal(from_events[columns], from_table[columns])


def test_a_unit_with_derived_figures_alone_has_not_reported():
    rows = [("A", 5, 10, "满意", "供水"), ("B", 6, 30, "不满意", "道路")]
    derived = derive(as_events(rows), [RULES], SOURCE, UNITS, "2026-10")
    own = pd.DataFrame({"unit_code": ["A"], "period": "2026-10", "meetings": [3.0]})
    data = own.merge(derived, on=["unit_code", "period"], how="outer")
    table = assess(LoadedRules(RULES, "", ""), data, REGISTRY).table().set_index("unit_code")
    assert table.loc["A", "grade"] != "" and not np.isnan(table.loc["A", "score"])
    for silent in ("B", "C", "D"):  # B has tickets, but sent no table of its own
        assert np.isnan(table.loc[silent, "score"])
        assert "未上报" in table.loc[silent, "reasons"]
