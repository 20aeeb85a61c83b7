"""Grades for parent units (街道/乡镇, 区县) from their children, by the rule set's ``rollup``:
``mean`` of the graded children's scores then the same bands, or the ``worst`` child color."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..intake.textcols import SortedCodes, is_sorted, to_arrow
from ..rules.grades import GRADE_KEYS, MISSING_LABEL


class CodeIndex:
    """A registry's codes, looked up by value: the positions of many codes at once and of
    one. Registries come in code order with codes of one width, so a lookup is a binary
    search over Arrow's bytes in place (no Python string per code, no hash table of the
    country's 665,271 codes; digit codes out of order are sorted first); otherwise Arrow's
    hash join."""

    def __init__(self, codes: object) -> None:
        self.codes = to_arrow(codes)
        self._sorted = SortedCodes.of(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def positions(self, values: object) -> np.ndarray:
        """For each value: its row, or -1."""
        values = to_arrow(values)
        found = None if self._sorted is None else self._sorted.find_in(values)
        if found is not None:
            return found
        pos = pc.index_in(values, value_set=self.codes)
        return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def get(self, code: str) -> int:
        """The row of one code, or -1."""
        if self._sorted is not None:
            key = code.encode()
            keys = self._sorted.keys
            if len(key) != keys.dtype.itemsize or b"\0" in key:
                return -1
            return int(self._sorted.find(np.array([key], dtype=keys.dtype))[0])
        return int(self.positions([code])[0])

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) >= 0


def code_index(registry: pd.DataFrame) -> CodeIndex:
    """The registry's codes for lookups: a code's row position."""
    return CodeIndex(registry["unit_code"])


def parent_positions(registry: pd.DataFrame, index: CodeIndex | None = None) -> np.ndarray:
    """Each unit's parent as a row position in ``registry`` (-1 for a root or an unknown
    parent): one lookup for the whole tree."""
    index = code_index(registry) if index is None else index
    return index.positions(registry["parent_code"])


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


def grade_ranks(grades: pd.Series) -> np.ndarray:
    """Each grade key's rank (0 green .. 4 red), -1 for anything else (数据不全): the few
    distinct values looked up once, not each of a country's rows."""
    codes, uniques = pd.factorize(grades.astype(str))
    rank_of = {k: i for i, k in enumerate(GRADE_KEYS)}
    ranks = np.array([rank_of.get(str(u), -1) for u in uniques] + [-1], dtype=np.int64)
    return ranks[codes]  # a code of -1 (missing) takes the last entry


def grade_counts(grades: pd.Series) -> dict[str, int]:
    """Units per grade key, best first, then "" for 数据不全 (anything that is not a key), in
    one pass over the ranks."""
    n = np.bincount(grade_ranks(grades) + 1, minlength=len(GRADE_KEYS) + 1)
    return {**{k: int(n[i + 1]) for i, k in enumerate(GRADE_KEYS)}, "": int(n[0])}


def rollup(
    graded: pd.DataFrame,
    registry: pd.DataFrame,
    method: str,
    min_scores: list[float],
    labels: list[str],
    depths: pd.Series | None = None,
    parent: np.ndarray | None = None,
    index: CodeIndex | None = None,
) -> pd.DataFrame:
    """Every parent unit above the graded ones, graded from its children, bottom-up.

    ``graded`` has unit_code, score and grade (a key, "" for 数据不全). Returns the parents with
    unit_code, unit_name, unit_type, parent_code, score, grade, grade_label, and the number of
    graded children per grade. ``depths`` and ``parent`` (row positions, see
    ``parent_positions``) save walking the tree again when the same registry is rolled up for
    many months (``index``: ``code_index``). One pass of array sums per depth (np.bincount over the parents' positions):
    the country's 620,000 villages roll up through four levels in a fraction of a second.
    """
    parent = parent_positions(registry) if parent is None else parent
    depth = (unit_depths(registry, parent) if depths is None else depths).to_numpy()
    n = len(registry)
    index = code_index(registry) if index is None else index
    at = index.positions(graded["unit_code"])
    known_row = at >= 0
    score = np.full(n, np.nan)
    rank = np.full(n, -1)
    present = np.zeros(n, bool)
    score[at[known_row]] = graded["score"].to_numpy(dtype=float)[known_row]
    rank[at[known_row]] = grade_ranks(graded["grade"])[known_row]
    present[at[known_row]] = True
    counts = np.zeros((len(GRADE_KEYS) + 1, n), int)  # children per grade, then 数据不全
    made = np.zeros(n, bool)
    bands = np.array(min_scores, dtype=float)
    for d in range(int(depth[present].max(initial=0)), 0, -1):
        children = np.flatnonzero(present & (depth == d) & (parent >= 0))
        if not len(children):
            continue
        up = parent[children]
        good = rank[children] >= 0
        for r in range(len(GRADE_KEYS)):
            counts[r] += np.bincount(up[good & (rank[children] == r)], minlength=n)
        counts[-1] += np.bincount(up[~good], minlength=n)
        graded_n = np.bincount(up[good], minlength=n)
        total = np.bincount(up[good], weights=score[children][good], minlength=n)
        worst = np.full(n, -1)
        np.maximum.at(worst, up[good], rank[children][good])
        targets = np.unique(up)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(graded_n[targets] > 0, total[targets] / graded_n[targets], np.nan)
        score[targets] = mean
        if method == "worst":
            rank[targets] = worst[targets]
        else:
            rank[targets] = np.where(np.isnan(mean), -1, (mean[:, None] < bands).sum(1))
        present[targets] = True
        made[targets] = True
    rows = np.flatnonzero(made)
    if not len(rows):
        return pd.DataFrame(columns=["unit_code", "score", "grade", "grade_label"])
    keys = np.array([*GRADE_KEYS, ""], dtype=object)
    names = np.array([*labels, MISSING_LABEL], dtype=object)
    units = registry.iloc[rows]  # in registry order; taken by position (no str per unit)
    out = pd.DataFrame(
        {
            "unit_code": units["unit_code"].array,
            "score": score[rows],
            "rank": rank[rows],
            **{f"n_{k}": counts[r][rows] for r, k in enumerate(GRADE_KEYS)},
            "n_missing": counts[-1][rows],
            "parent_code": units["parent_code"].array,
            "grade": keys[rank[rows]],
            "grade_label": names[rank[rows]],
            "unit_name": units["unit_name"].array,
            "unit_type": units["unit_type"].array,
        }
    )
    return out if is_sorted(out["unit_code"]) else out.sort_values("unit_code", ignore_index=True)
