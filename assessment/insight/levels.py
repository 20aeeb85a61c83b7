"""The hierarchy's levels as deep as the registry says: each depth named from the unit types
found at it (省 / 市 / 区县 / 街道/乡镇 / 村/社区, or whatever the registry's types are), each
unit's ancestor at any depth in one vectorised walk, and the tiles of one level under one
unit, grouped by their parents and cut into pages a person can read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa

from ..intake.divisions import TYPE_LEVEL, level_name
from ..intake.textcols import to_arrow
from .rollup import CodeIndex, parent_positions, unit_depths


@dataclass(frozen=True)
class Level:
    index: int  # 0 for the top level
    name: str
    units: int  # how many units of the registry are at this level


@dataclass(frozen=True)
class Tree:
    """The registry as arrays (row positions of the registry): each unit's parent, depth and
    level, and the levels top first. Built once per registry version; every level question
    is then a few array steps."""

    code_array: pa.Array  # the registry's codes, in its row order
    parent: np.ndarray  # -1 for a root
    depth: np.ndarray
    level: np.ndarray  # index into ``levels``
    levels: list[Level]

    @cached_property
    def codes(self) -> np.ndarray:
        """The codes as Python strings (made when first asked: a country's are 0.3 s)."""
        return self.code_array.to_numpy(zero_copy_only=False)

    def named(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.name == name), None)

    def ancestor_rows(self, level: int) -> np.ndarray:
        """For every unit, the row of its nearest ancestor at ``level`` (itself when it is at
        it), or -1 when it has none (a unit above that level)."""
        at = np.arange(len(self.parent))
        found = self.level == level
        alive = ~found
        while alive.any():
            up = self.parent[at]
            alive &= up >= 0
            at = np.where(alive, up, at)
            hit = alive & (self.level[at] == level)
            found |= hit
            alive &= ~hit
        return np.where(found, at, -1)

    def ancestor_at(self, level: int) -> np.ndarray:
        """For every unit, the code of its nearest ancestor at ``level`` (itself when it is at
        it), or "" when it has none."""
        rows = self.ancestor_rows(level)
        return np.where(rows >= 0, self.codes[np.maximum(rows, 0)], "").astype(object)


def build_tree(registry: pd.DataFrame, index: CodeIndex | None = None) -> Tree:
    """A level is a kind of unit: the types that name one (街道, 镇, 乡, 苏木 and 地区办事处 are
    街道/乡镇; 村 and 社区 are 村/社区), so a town right under a city without counties (东莞市)
    is still a town. Types we do not know make a level of the depth they are found at. The
    levels are ordered top down by the depth their units are found at.

    Vectorised over the distinct types (a few dozen), not the units: a level key per unit is
    a known level's number, or one past them plus the depth for a type we do not know."""
    parent = parent_positions(registry, index)
    depth = unit_depths(registry, parent).to_numpy()
    type_of, types = pd.factorize(registry["unit_type"].astype(str))
    known = sorted({TYPE_LEVEL[t] for t in types if t in TYPE_LEVEL})
    known_key = np.array([known.index(TYPE_LEVEL[t]) if t in TYPE_LEVEL else -1 for t in types])
    key = known_key[type_of] if len(types) else np.zeros(len(depth), int)
    key = np.where(key >= 0, key, len(known) + depth)
    keys, key_index = np.unique(key, return_inverse=True)
    middle = [float(np.median(depth[key_index == k])) for k in range(len(keys))]
    order = np.argsort(middle, kind="stable")  # key positions, top level first
    pairs = np.unique(key_index * max(len(types), 1) + type_of)  # (key, type) pairs found
    found = {k: set() for k in range(len(keys))}
    for pair in pairs.tolist():
        found[pair // max(len(types), 1)].add(str(types[pair % max(len(types), 1)]))
    rank = np.empty(len(keys), dtype=int)
    rank[order] = np.arange(len(keys))
    counts = np.bincount(key_index, minlength=len(keys))
    return Tree(
        code_array=to_arrow(registry["unit_code"]),
        parent=parent,
        depth=depth,
        level=rank[key_index],
        levels=[Level(i, level_name(found[k]), int(counts[k])) for i, k in enumerate(order)],
    )


def pages(groups: pd.Series, size: int) -> np.ndarray:
    """Page numbers (0, 1, …) for rows sorted by group: whole groups fill a page up to
    ``size`` rows; a group larger than a page is split across pages."""
    if not len(groups):
        return np.zeros(0, int)
    starts = np.flatnonzero(np.r_[True, groups.to_numpy()[1:] != groups.to_numpy()[:-1]])
    lengths = np.diff(np.r_[starts, len(groups)])
    page = np.zeros(len(groups), int)
    current, filled = 0, 0
    for start, length in zip(starts, lengths, strict=True):
        if filled and filled + length > size:
            current, filled = current + 1, 0
        for offset in range(0, length, size):  # a huge group spans pages of its own
            chunk = min(size, length - offset)
            if offset:
                current, filled = current + 1, 0
            page[start + offset : start + offset + chunk] = current
            filled += chunk
    return page
