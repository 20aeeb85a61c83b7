"""What a supervisor works through each month: the red and orange units with what changed since
last month, and the streets ranked by how many of their units are red or orange."""

from __future__ import annotations

import pandas as pd

from ..rules.grades import GRADE_KEYS, display

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


def parent_summary(
    now: pd.DataFrame,
    before: pd.DataFrame | None,
    registry: pd.DataFrame,
    parents: pd.DataFrame,
    tasks: pd.DataFrame,
    today,
    level: str = "street",
    group: pd.Series | None = None,
) -> pd.DataFrame:
    """Per 街道/乡镇 (``level="street"``) or 区县 (``"county"``): the units of each color, the
    mean score, the share improving and declining since last month (by more than half a
    point), the follow-ups closed on time among those due, and the parent's own grade and score
    (its roll-up). ``group`` (aligned with ``now``) names each unit's group at any level
    instead; a unit with none ("" or missing) is left out."""
    if group is not None:  # units outside every group (above the level) are left out
        inside = (group.fillna("") != "").to_numpy()
        now, group = now[inside], group[inside]
    key = now["parent_code"].astype(str) if group is None else group.astype(str)
    if group is None and level == "county":
        up = registry.set_index("unit_code")["parent_code"]
        key = key.map(up).fillna("")
    table = now.assign(group=key.to_numpy())
    counts = pd.crosstab(table["group"], table["grade"].astype(str)).reindex(
        columns=list(GRADE_KEYS), fill_value=0
    )
    out = counts.copy()
    out["units"] = table.groupby("group").size()
    out["mean_score"] = table.groupby("group")["score"].mean()
    if before is not None and len(before):
        last = before.drop_duplicates("unit_code").set_index("unit_code")["score"]
        delta = table["score"] - table["unit_code"].map(last)
        both = delta.notna()
        out["improving"] = (delta > 0.5).groupby(table["group"]).sum() / both.groupby(
            table["group"]
        ).sum().replace(0, float("nan"))
        out["declining"] = (delta < -0.5).groupby(table["group"]).sum() / both.groupby(
            table["group"]
        ).sum().replace(0, float("nan"))
    else:
        out["improving"] = out["declining"] = float("nan")
    out["tasks_due"], out["closed_on_time"] = 0, 0
    if len(tasks):
        group_of = table.drop_duplicates("unit_code").set_index("unit_code")["group"]
        t = tasks.assign(group=tasks["unit_code"].map(group_of))
        t = t[t["group"].notna() & (pd.to_datetime(t["due_date"]).dt.date <= today)]
        closed_at = pd.to_datetime(t["closed_at"])
        on_time = closed_at.notna() & (closed_at.dt.date <= pd.to_datetime(t["due_date"]).dt.date)
        out["tasks_due"] = t.groupby("group").size().reindex(out.index, fill_value=0)
        out["closed_on_time"] = on_time.groupby(t["group"]).sum().reindex(out.index, fill_value=0)
    out["completion"] = out["closed_on_time"] / out["tasks_due"].replace(0, float("nan"))
    if len(parents):
        own = parents.drop_duplicates("unit_code").set_index("unit_code").reindex(out.index)
        out["name"] = own["unit_name"].fillna(pd.Series(out.index, index=out.index))
        out["grade"] = own["grade"].astype(object).fillna("").astype(str)
        out["score"] = own["score"].astype(float)
    else:
        out["name"], out["grade"], out["score"] = out.index, "", float("nan")
    return out.reset_index(names="unit_code").sort_values(
        ["red", "orange"], ascending=False, kind="stable", ignore_index=True
    )
