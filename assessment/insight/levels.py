"""The hierarchy's levels as deep as the registry says: each depth named from the unit types
found at it (省 / 市 / 区县 / 街道/乡镇 / 村/社区, or whatever the registry's types are), each
unit's ancestor at any depth in one vectorised walk, and the tiles of one level under one
unit, grouped by their parents and cut into pages a person can read."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..intake.divisions import TYPE_LEVEL, level_name
from .rollup import parent_positions, unit_depths


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

    codes: np.ndarray
    parent: np.ndarray  # -1 for a root
    depth: np.ndarray
    level: np.ndarray  # index into ``levels``
    levels: list[Level]

    def named(self, name: str) -> Level | None:
        return next((lv for lv in self.levels if lv.name == name), None)

    def ancestor_at(self, level: int) -> np.ndarray:
        """For every unit, its nearest ancestor at ``level`` (itself when it is at it), or ""
        when it has none (a unit above that level)."""
        at = np.arange(len(self.codes))
        found = self.level == level
        alive = ~found
        while alive.any():
            up = self.parent[at]
            alive &= up >= 0
            at = np.where(alive, up, at)
            hit = alive & (self.level[at] == level)
            found |= hit
            alive &= ~hit
        return np.where(found, self.codes[at], "").astype(object)


def build_tree(registry: pd.DataFrame, index: pd.Index | None = None) -> Tree:
    """A level is a kind of unit: the types that name one (街道, 镇, 乡, 苏木 and 地区办事处 are
    街道/乡镇; 村 and 社区 are 村/社区), so a town right under a city without counties (东莞市)
    is still a town. Types we do not know make a level of the depth they are found at. The
    levels are ordered top down by the depth their units are found at."""
    parent = parent_positions(registry, index)
    depth = unit_depths(registry, parent).to_numpy()
    types = registry["unit_type"].astype(str).tolist()  # a list: Arrow strings one by one are slow
    key = [TYPE_LEVEL.get(t) or f"#{d}" for t, d in zip(types, depth.tolist(), strict=True)]
    codes, key_index = np.unique(np.array(key, dtype=object), return_inverse=True)
    middle = [float(np.median(depth[key_index == k])) for k in range(len(codes))]
    order = [codes[k] for k in np.argsort(middle, kind="stable")]
    names = [level_name({t for t, k in zip(types, key, strict=True) if k == c}) for c in order]
    counts = dict(zip(codes, np.bincount(key_index, minlength=len(codes)), strict=True))
    return Tree(
        codes=registry["unit_code"].to_numpy(dtype=object),
        parent=parent,
        depth=depth,
        level=np.array([order.index(c) for c in codes], dtype=int)[key_index],
        levels=[
            Level(i, name, int(counts[k]))
            for i, (k, name) in enumerate(zip(order, names, strict=True))
        ],
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
