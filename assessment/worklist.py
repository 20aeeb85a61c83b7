"""What a supervisor works through each month: the red and orange units with what changed since
last month, and the streets ranked by how many of their units are red or orange."""

from __future__ import annotations

import pandas as pd

from .grades import GRADE_KEYS, display

WORST = ("red", "orange")
RANK = {g: i for i, g in enumerate(GRADE_KEYS)}


def worklist(now: pd.DataFrame, before: pd.DataFrame | None, names: dict[str, str]) -> pd.DataFrame:
    """The red and orange units of ``now`` (a month's graded table), worst first, each with last
    month's grade and score and what changed: 新进入 (not red/orange last month), 加重, 持续,
    好转 (orange after red)."""
    cols = ["unit_code", "unit_name", "street", "grade", "score", "reasons"]
    bad = now[now["grade"].astype(str).isin(WORST)]
    out = pd.DataFrame(
        {
            "unit_code": bad["unit_code"].to_numpy(),
            "unit_name": bad["unit_name"].to_numpy(),
            "street": bad["parent_code"].map(names).fillna(bad["parent_code"]).to_numpy(),
            "grade": bad["grade"].astype(str).to_numpy(),
            "score": bad["score"].astype(float).to_numpy(),
            "reasons": bad["reasons"].fillna("").astype(str).to_numpy(),
        },
        columns=cols,
    )
    if before is not None and len(before):
        last = before.drop_duplicates("unit_code").set_index("unit_code")
        out["grade_before"] = out["unit_code"].map(last["grade"].astype(str)).fillna("")
        out["score_change"] = out["score"] - out["unit_code"].map(last["score"].astype(float))
    else:
        out["grade_before"], out["score_change"] = "", float("nan")
    out["change"] = [_change(g, b) for g, b in zip(out["grade"], out["grade_before"], strict=True)]
    order = out["grade"].map(RANK)
    return (
        out.assign(_o=-order)
        .sort_values(["_o", "score"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _change(now: str, before: str) -> str:
    if before not in RANK:
        return "上月无等级"
    if before not in WORST:
        return f"新进入(上月{display(before)})"
    if RANK[now] > RANK[before]:
        return "加重"
    if RANK[now] < RANK[before]:
        return "好转"
    return "持续"


def street_ranking(table: pd.DataFrame, streets: pd.DataFrame) -> pd.DataFrame:
    """Per street: how many units of each color, red + orange, and the street's own grade and
    score (its rollup), most red and orange first."""
    counts = (
        pd.crosstab(table["parent_code"], table["grade"].astype(str))
        .reindex(columns=list(GRADE_KEYS), fill_value=0)
        .reindex(streets["unit_code"], fill_value=0)
    )
    out = pd.DataFrame(
        {
            "unit_code": streets["unit_code"].to_numpy(),
            "unit_name": streets["unit_name"].to_numpy(),
            "grade": streets["grade"].astype(str).to_numpy(),
            "score": streets["score"].astype(float).to_numpy(),
        }
    )
    for g in GRADE_KEYS:
        out[g] = counts[g].to_numpy()
    out["red_orange"] = out["red"] + out["orange"]
    return out.sort_values(
        ["red_orange", "red", "score"], ascending=[False, False, True]
    ).reset_index(drop=True)
