"""What a supervisor works through each month: the red and orange units with what changed since
last month, and the streets ranked by how many of their units are red or orange."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..intake.textcols import positions
from ..rules.grades import GRADE_KEYS, display
from .rollup import grade_ranks

WORST = ("red", "orange")
RANK = {g: i for i, g in enumerate(GRADE_KEYS)}


def worklist(now: pd.DataFrame, before: pd.DataFrame | None, names: dict[str, str]) -> pd.DataFrame:
    """The red and orange units of ``now`` (a month's graded table), worst first, each with last
    month's grade and score and what changed: 新进入 (not red/orange last month), 加重, 持续,
    好转 (orange after red)."""
    cols = ["unit_code", "unit_name", "street", "grade", "score", "reasons"]
    rank = grade_ranks(now["grade"])
    bad = now[np.isin(rank, [RANK[g] for g in WORST])]
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
        at = positions(bad["unit_code"], before["unit_code"])  # each unit's first row
        last = before.iloc[np.maximum(at, 0)]
        found = at >= 0
        out["grade_before"] = np.where(found, last["grade"].astype(str).to_numpy(), "")
        out["score_change"] = out["score"] - np.where(
            found, last["score"].to_numpy(dtype=float), np.nan
        )
    else:
        out["grade_before"], out["score_change"] = "", float("nan")
    out["change"] = _changes(out["grade"], out["grade_before"])
    order = out["grade"].map(RANK)
    return (
        out.assign(_o=-order)
        .sort_values(["_o", "score"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def _changes(now: pd.Series, before: pd.Series) -> np.ndarray:
    """Per unit: 上月无等级, 新进入(上月…), 加重, 好转 or 持续 (by grade ranks, not row by row)."""
    rank_now, rank_before = grade_ranks(now), grade_ranks(before)
    worst = np.isin(rank_before, [RANK[g] for g in WORST])
    entered = np.array([f"新进入(上月{display(g)})" for g in GRADE_KEYS] + ["上月无等级"], object)
    return np.select(
        [rank_before < 0, ~worst, rank_now > rank_before, rank_now < rank_before],
        [entered[-1], entered[rank_before], "加重", "好转"],
        "持续",
    )


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
    instead; a unit with none ("" or missing) is left out.

    Array sums over the groups' numbers (a country's 620,000 units in a few passes): each
    unit's group is factorised once, every figure is a ``bincount`` over it."""
    if group is not None:  # units outside every group (above the level) are left out
        inside = (group.fillna("") != "").to_numpy()
        now, group = now[inside], group[inside]
    key = now["parent_code"].astype(str) if group is None else group.astype(str)
    if group is None and level == "county":
        up = registry.set_index("unit_code")["parent_code"]
        key = key.map(up).fillna("")
    of, groups = pd.factorize(key, sort=True)
    n = len(groups)

    def per_group(mask: np.ndarray | None = None, weights: np.ndarray | None = None):
        at = of if mask is None else of[mask]
        w = None if weights is None else weights if mask is None else weights[mask]
        return np.bincount(at, weights=w, minlength=n)

    rank = grade_ranks(now["grade"])
    out = pd.DataFrame({k: per_group(rank == r) for r, k in enumerate(GRADE_KEYS)})
    out["units"] = per_group()
    score = now["score"].to_numpy(dtype=float)
    scored = ~np.isnan(score)
    out["mean_score"] = _ratio(per_group(scored, score), per_group(scored))
    if before is not None and len(before):
        at = positions(now["unit_code"], before["unit_code"])  # first row of each unit
        last = np.where(at >= 0, before["score"].to_numpy(dtype=float)[np.maximum(at, 0)], np.nan)
        with np.errstate(invalid="ignore"):
            delta = score - last
        both = per_group(~np.isnan(delta))
        out["improving"] = _ratio(per_group(delta > 0.5), both)
        out["declining"] = _ratio(per_group(delta < -0.5), both)
    else:
        out["improving"] = out["declining"] = float("nan")
    out["tasks_due"], out["closed_on_time"] = 0, 0
    if len(tasks):
        at = positions(tasks["unit_code"], now["unit_code"])
        due_day = pd.to_datetime(tasks["due_date"])
        due = (at >= 0) & (due_day <= pd.Timestamp(today)).to_numpy()
        closed_at = pd.to_datetime(tasks["closed_at"])
        if closed_at.dt.tz is not None:  # its own day where it was closed
            closed_at = closed_at.dt.tz_localize(None)
        on_time = (closed_at.dt.normalize() <= due_day).to_numpy()  # NaT (open): False
        task_group = of[np.maximum(at, 0)]
        out["tasks_due"] = np.bincount(task_group[due], minlength=n)
        out["closed_on_time"] = np.bincount(task_group[due & on_time], minlength=n)
    out["completion"] = _ratio(out["closed_on_time"], out["tasks_due"])
    codes = pd.Series(groups, dtype=str)
    if len(parents):
        at = positions(codes, parents["unit_code"])
        own = parents.iloc[np.maximum(at, 0)].reset_index(drop=True)
        found = pd.Series(at >= 0)
        out["name"] = own["unit_name"].astype(object).where(found, codes).astype(str)
        out["grade"] = own["grade"].astype(str).where(found, "")
        out["score"] = own["score"].astype(float).where(found)
    else:
        out["name"], out["grade"], out["score"] = codes, "", float("nan")
    out.insert(0, "unit_code", codes)
    return out.sort_values(["red", "orange"], ascending=False, kind="stable", ignore_index=True)


def _ratio(part, whole) -> np.ndarray:
    """part / whole, NaN where nothing was counted."""
    part, whole = np.asarray(part, dtype=float), np.asarray(whole, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / whole, np.nan)
