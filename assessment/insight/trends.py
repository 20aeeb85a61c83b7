"""Month-to-month views: the unit x month grade matrix, transition counts, worsening streaks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..rules.grades import GRADE_KEYS

STATES = [*GRADE_KEYS, ""]  # "" = 数据不全


def transitions(long: pd.DataFrame) -> pd.DataFrame:
    """How many units went from each grade to each grade between consecutive months.

    ``long`` has unit_code, period, grade. Returns from_grade, to_grade, count (zeros kept)."""
    wide = long.pivot(index="unit_code", columns="period", values="grade").sort_index(axis=1)
    pairs = []
    cols = list(wide.columns)
    for a, b in itertools.pairwise(cols):
        both = wide[[a, b]].dropna()
        pairs.append(
            pd.DataFrame({"from_grade": both[a].to_numpy(), "to_grade": both[b].to_numpy()})
        )
    full = pd.MultiIndex.from_product([STATES, STATES], names=["from_grade", "to_grade"])
    if not pairs:
        return full.to_frame(index=False).assign(count=0)
    counts = pd.concat(pairs).value_counts().reindex(full, fill_value=0)
    return counts.rename("count").reset_index()


def worsening(long: pd.DataFrame, months: int = 3) -> pd.DataFrame:
    """Units whose score fell in each of the last ``months`` months running (up to the latest
    month), with the run's length and the scores along it."""
    wide = long.pivot(index="unit_code", columns="period", values="score").sort_index(axis=1)
    scores = wide.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        fell = np.diff(scores, axis=1) < 0
    streak = np.zeros(len(wide), dtype=int)
    for k in range(fell.shape[1] - 1, -1, -1):  # count back from the latest month
        still = streak == fell.shape[1] - 1 - k
        streak = np.where(still & fell[:, k], streak + 1, streak)
    out = pd.DataFrame({"unit_code": wide.index, "months_falling": streak})
    if scores.shape[1]:
        first = np.clip(scores.shape[1] - 1 - streak, 0, None)
        out["score_from"] = scores[np.arange(len(wide)), first]
        out["score_to"] = scores[:, -1]
    out = out[out["months_falling"] >= months]
    return out.sort_values(
        ["months_falling", "unit_code"], ascending=[False, True], ignore_index=True
    )
