"""Fair comparison (立体分析): each unit against its peers, and its level against its progress.

Peers are units of the same type with similar conditions: the rule set's ``peers`` columns
(e.g. households and party members) are ranked within the type, averaged into one size index,
and cut into thirds (规模较小 / 中等 / 较大). Beside the grade a unit gets its rank in that
group, the group's median score, and its progress: the change of its score over three months.
Level against progress tells the weak unit that is improving fast from the average unit that is
slipping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..grading.engine import Assessment
from ..grading.scoring import MISSING, shift_period
from ..rules.grades import GRADE_KEYS

SIZES = ("规模较小", "规模中等", "规模较大")
MOVING = 2.0  # points over three months that count as improving or slipping


def fair_comparison(
    a: Assessment, period: str, values: pd.DataFrame, months: int = 3
) -> pd.DataFrame:
    """Per unit of ``period``: unit_code, unit_type, peer_group, peer_size, peer_rank (1 = the
    best score of the group), peer_median, score, grade, progress (the score change over
    ``months`` months, NaN without that history) and a one-word reading (``profile``).
    ``values`` holds the month's conditions (unit_code and the ``peers`` columns)."""
    p = a.periods[period]
    codes = np.asarray(p.codes, dtype=object)
    units = a.units.set_index("unit_code").reindex(codes)
    out = pd.DataFrame(
        {
            "unit_code": codes,
            "unit_type": units["unit_type"].to_numpy(),
            "score": p.total,
            "grade": [GRADE_KEYS[r] if r != MISSING else "" for r in p.rank],
        }
    )
    size = _size_index(out, values, list(a.rules.peers))
    out["peer_group"] = out["unit_type"].astype(str) + (
        "" if size is None else "·" + size.astype(str)
    )
    group = out.groupby("peer_group")["score"]
    out["peer_size"] = group.transform("count").astype(int)
    out["peer_rank"] = group.rank(ascending=False, method="min")
    out["peer_median"] = group.transform("median")
    before = _months_before(a, period, months)
    out["progress"] = p.total - a.periods[before].total if before else np.nan
    out["profile"] = [
        _profile(s, m, g)
        for s, m, g in zip(out["score"], out["peer_median"], out["progress"], strict=True)
    ]
    return out


def _size_index(out: pd.DataFrame, values: pd.DataFrame, columns: list[str]) -> pd.Series | None:
    """Thirds of a size index within each type: the mean of the peer columns' ranks."""
    have = [c for c in columns if c in values.columns]
    if not have:
        return None
    sized = values.drop_duplicates("unit_code").set_index("unit_code").reindex(out["unit_code"])
    ranks = pd.DataFrame(
        {c: sized[c].groupby(out["unit_type"].to_numpy()).rank(pct=True).to_numpy() for c in have}
    )
    index = ranks.mean(axis=1)
    third = np.where(index <= 1 / 3, 0, np.where(index <= 2 / 3, 1, 2))
    labels = np.array(SIZES, dtype=object)[third]
    return pd.Series(np.where(index.isna(), "规模未知", labels), index=out.index)


def _months_before(a: Assessment, period: str, months: int) -> str | None:
    target = shift_period(period, -months)
    return target if target in a.periods else None


def _profile(score: float, median: float, progress: float) -> str:
    if np.isnan(score):
        return ""
    above = score >= median
    if np.isnan(progress):
        return "高于同类" if above else "低于同类"
    if progress >= MOVING:
        return "高于同类且在进步" if above else "低于同类但进步快"
    if progress <= -MOVING:
        return "高于同类但在下滑" if above else "低于同类且在下滑"
    return "高于同类,平稳" if above else "低于同类,平稳"
