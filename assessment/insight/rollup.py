"""Grades for parent units (街道/乡镇, 区县) from their children, by the rule set's ``rollup``:
``mean`` of the graded children's scores then the same bands, or the ``worst`` child color."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..rules.grades import GRADE_KEYS, MISSING_LABEL


def parent_positions(registry: pd.DataFrame) -> np.ndarray:
    """Each unit's parent as a row position in ``registry`` (-1 for a root or an unknown
    parent): one hash lookup for the whole tree."""
    codes = registry["unit_code"].to_numpy(dtype=object)
    return pd.Index(codes).get_indexer(registry["parent_code"].to_numpy(dtype=object))


def unit_depths(registry: pd.DataFrame, parent: np.ndarray | None = None) -> pd.Series:
    """Depth of each unit in the registry tree (the root is 0): one array step per level,
    for the whole tree at once (the registry refuses loops, so every walk ends)."""
    parent = parent_positions(registry) if parent is None else parent
    depth = np.zeros(len(parent), int)
    at = parent.copy()
    alive = at >= 0
    for _ in range(len(parent)):
        if not alive.any():
            break
        depth += alive
        at = np.where(alive, parent[np.maximum(at, 0)], at)
        alive &= at >= 0
    return pd.Series(depth, index=registry.index)


def rollup(
    graded: pd.DataFrame,
    registry: pd.DataFrame,
    method: str,
    min_scores: list[float],
    labels: list[str],
    depths: pd.Series | None = None,
) -> pd.DataFrame:
    """Every parent unit above the graded ones, graded from its children, bottom-up.

    ``graded`` has unit_code, score and grade (a key, "" for 数据不全). Returns the parents with
    unit_code, unit_name, unit_type, parent_code, score, grade, grade_label, and the number of
    graded children per grade. ``depths`` (``unit_depths`` of the registry) saves walking the
    tree again when the same registry is rolled up for many months.
    """
    depths = unit_depths(registry) if depths is None else depths
    reg = registry.assign(depth=depths.to_numpy())
    rank = {k: i for i, k in enumerate(GRADE_KEYS)}
    level = graded[["unit_code", "score", "grade"]].merge(
        reg[["unit_code", "parent_code", "depth"]], on="unit_code", how="left"
    )
    level["rank"] = level["grade"].map(rank).fillna(-1).astype(int)
    out = []
    while len(level) and (level["parent_code"] != "").any():
        children = level[level["parent_code"] != ""]
        deepest = children["depth"].max()
        children = children[children["depth"] == deepest]
        known = children[children["rank"] >= 0]
        g = known.groupby("parent_code")
        parents = pd.DataFrame({"unit_code": sorted(set(children["parent_code"]))})
        parents["score"] = parents["unit_code"].map(g["score"].mean())
        worst = parents["unit_code"].map(g["rank"].max())
        if method == "worst":
            prank = worst.fillna(-1).astype(int)
        else:
            s = parents["score"].to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                prank = pd.Series(
                    np.where(np.isnan(s), -1, (s[:, None] < np.array(min_scores)).sum(1))
                )
        parents["rank"] = prank.to_numpy()
        counts = known.groupby(["parent_code", "rank"]).size().unstack(fill_value=0)
        for r, key in enumerate(GRADE_KEYS):
            col = counts[r] if r in counts.columns else pd.Series(dtype=int)
            parents[f"n_{key}"] = parents["unit_code"].map(col).fillna(0).astype(int)
        missing = children[children["rank"] < 0].groupby("parent_code").size()
        parents["n_missing"] = parents["unit_code"].map(missing).fillna(0).astype(int)
        parents = parents.merge(
            reg[["unit_code", "parent_code", "depth"]], on="unit_code", how="left"
        )
        out.append(parents)
        # Replace the level just graded by its parents, and go up one level.
        upper = level[level["depth"] < deepest]
        nodes = parents[["unit_code", "score", "rank", "parent_code", "depth"]]
        level = pd.concat([upper, nodes], ignore_index=True).drop_duplicates(
            "unit_code", keep="last"
        )
    if not out:
        return pd.DataFrame(columns=["unit_code", "score", "grade", "grade_label"])
    result = pd.concat(out, ignore_index=True).drop_duplicates("unit_code", keep="last")
    keys = np.array([*GRADE_KEYS, ""], dtype=object)
    names = np.array([*labels, MISSING_LABEL], dtype=object)
    result["grade"] = keys[result["rank"].to_numpy()]
    result["grade_label"] = names[result["rank"].to_numpy()]
    result = result.drop(columns=["depth"]).merge(
        reg[["unit_code", "unit_name", "unit_type"]], on="unit_code", how="left"
    )
    return result.sort_values("unit_code", ignore_index=True)
