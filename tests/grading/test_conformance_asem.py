"""Conformance with a peer: the JRC ASEM index as a rule set reproduces COINr's results.

The reference data is read in place from ../shared/reference/asem (never copied). COINr ran
n_minmax to [0, 100] and a_amean with iMeta's weights; in our format that is `minmax` on every
indicator, `direction` from iMeta, nested dimensions along iMeta's Parent column and
`missing: renormalize`. Index = the total score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import GRADES, ROOT

from assessment.grading.engine import assess
from assessment.rules.loader import parse_rules

ASEM = ROOT.parent / "shared" / "reference" / "asem"
pytestmark = pytest.mark.skipif(
    not (ASEM / "coinr_results.csv").exists(),
    reason=f"reference data not found at {ASEM} (it sits in ../shared beside the checkout)",
)


def asem_rule_text(meta: pd.DataFrame) -> str:
    meta = meta[meta["Type"].isin(["Indicator", "Aggregate"])]
    children: dict[str, list[dict]] = {}
    for row in meta.itertuples():
        children.setdefault(row.Parent, []).append(row._asdict())

    def node(row: dict) -> dict:
        if row["Type"] == "Indicator":
            return {
                "id": row["iCode"],
                "name": row["iName"],
                "weight": float(row["Weight"]),
                "direction": "lower" if row["Direction"] < 0 else "higher",
                "scoring": {"method": "minmax"},
            }
        kids = [node(c) for c in children[row["iCode"]]]
        key = "indicators" if kids[0].get("scoring") else "dimensions"
        return {"id": row["iCode"], "name": row["iName"], "weight": float(row["Weight"]), key: kids}

    index = meta.loc[meta["Level"] == meta["Level"].max(), "iCode"].item()
    rule = {
        "id": "asem",
        "name": "ASEM Sustainable Connectivity",
        "version": "coinr-1.1.14",
        "missing": "renormalize",
        "grades": GRADES,
        "dimensions": [node(r) for r in children[index]],
    }
    return yaml.safe_dump(rule, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def asem():
    meta = pd.read_csv(ASEM / "ASEM_iMeta.csv")
    data = pd.read_csv(ASEM / "ASEM_iData.csv")
    loaded = parse_rules(asem_rule_text(meta), source="asem.yaml")
    frame = data.rename(columns={"uCode": "unit_code", "uName": "unit_name"}).assign(
        period="2018-01"
    )
    result = assess(loaded, frame)
    expected = pd.read_csv(ASEM / "coinr_results.csv").set_index("uCode")
    normalised = pd.read_csv(ASEM / "coinr_normalised.csv").set_index("uCode")
    return result, expected, normalised


def test_normalised_indicators_match_coinr(asem):
    result, _, normalised = asem
    p = result.periods["2018-01"]
    ours = pd.DataFrame(
        p.scores, index=p.codes, columns=[i.id for i in result.compiled.indicators]
    ).loc[normalised.index, normalised.columns]
    np.testing.assert_allclose(ours.to_numpy(), normalised.to_numpy(), rtol=0, atol=1e-9)


def test_pillars_subindices_and_index_match_coinr(asem):
    result, expected, _ = asem
    table = result.table().set_index("unit_code").loc[expected.index]
    checked = 0
    for col in expected.columns:
        if col in ("uName", "Index_rank"):
            continue
        ours = table["score"] if col == "Index" else table[f"score.{col}"]
        np.testing.assert_allclose(
            ours.to_numpy(float), expected[col].to_numpy(float), rtol=0, atol=1e-9, err_msg=col
        )
        checked += 1
    assert checked == 11  # 8 pillars, 2 sub-indices, the Index


def test_index_rank_matches_coinr(asem):
    result, expected, _ = asem
    table = result.table().set_index("unit_code").loc[expected.index]
    rank = table["score"].rank(ascending=False, method="min").astype(int)
    assert (rank == expected["Index_rank"]).all()
