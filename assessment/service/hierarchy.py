"""The hierarchy as one user may walk it: the levels its scope holds (省 → 市 → 区县 → 街道/乡镇
→ 村/社区, as deep as the registry says), where its map opens, the units of a level under
one unit with their own or rolled-up grades, the path back up, and the summary of any
level. Every frame is cut to the scope, as the rest of the view."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..insight.levels import Level, Tree
from ..insight.worklist import parent_summary
from ..intake.textcols import member, text_series

# units of the scopes whose cuts of the district are kept (the latest scopes first): a sixth
# of the country's, about 100 MB of tables
SCOPED_UNITS = 100_000
FEW_TILES = 2  # a level of this many units or fewer is passed through when the map opens
# Tiles on one page of the map: about two screens at eight tiles a row, grouped under their
# parents; more are paged by whole groups. (600 were five screens, and a browser needed about
# 0.9 s to draw them.)
PAGE_TILES = 300
TILE_COLUMNS = ["unit_code", "unit_name", "unit_type", "parent_code", "score", "grade", "reasons"]


class Hierarchy:
    """Mixed into ``View``: needs ``district``, ``allowed``, ``scope`` (the key of the scope
    the codes ``allowed`` come from), ``cut``, ``table``, ``previous_table``, ``parents`` and
    ``names``."""

    def memo(self, key: object, make):
        """``make()`` kept with the district (once per data version): for the whole district,
        what every page run of an administrator would otherwise redo over every unit (the
        country's 665,271 names, its 60,000 red and orange units); for a view of a scope, its
        own cut of them, kept per scope (see ``_scope_memo``)."""
        memo = self._scope_memo
        if memo is None:
            return make()
        found = self.district.once(memo, key, make)
        # a new frame over the kept one's columns (copy-on-write): a caller's change stays its own
        return found.copy(deep=False) if isinstance(found, pd.DataFrame) else found

    @cached_property
    def _scope_memo(self) -> dict | None:
        """Where this view's work is kept: the district's own memo for the whole; for a scope,
        one memo per scope among the latest ones holding at most ``SCOPED_UNITS`` units in all
        (each session of a province cut the country's 620,000-row tables again on every page
        run: about 30 ms a table); None for a scope without a key or larger than that. Looked
        up once per view (a page run's)."""
        district = self.district
        if self.allowed is None:
            return district.__dict__.setdefault("_memo", {})
        if self.scope is None or len(self.allowed) > SCOPED_UNITS:
            return None
        with district.lock("scopes"):
            scopes = district.__dict__.setdefault("_scopes", {})  # insertion order: oldest first
            memo = scopes.pop(self.scope, None)
            if memo is None:
                memo = {"units": len(self.allowed)}
            scopes[self.scope] = memo  # the latest
            while sum(m["units"] for m in scopes.values()) > SCOPED_UNITS:
                scopes.pop(next(iter(scopes)))
        return memo

    @property
    def tree(self) -> Tree:
        return self.district.tree

    @cached_property
    def _inside(self) -> np.ndarray:
        """Which rows of the district's registry are in the scope."""
        codes = self.district.registry["unit_code"]
        if self.allowed is None:
            return np.ones(len(codes), bool)
        return self.memo("inside", lambda: member(codes, list(self.allowed)))

    def _ancestor_rows(self, level: int) -> np.ndarray:
        """Per registry row: the row of its ancestor at ``level`` (-1 above it), once per
        district."""
        memo = self.district.__dict__.setdefault("_ancestor_rows", {})
        return self.district.once(memo, level, lambda: self.tree.ancestor_rows(level))

    def _groups(self, frame: pd.DataFrame, level: int) -> pd.Series:
        """Per row of ``frame``: the code of its unit's ancestor at ``level`` ("" for none),
        by row positions (a binary search per code, no hash map of the country's codes)."""
        rows = self.district.code_index.positions(frame["unit_code"])
        up = np.where(rows >= 0, self._ancestor_rows(level)[np.maximum(rows, 0)], -1)
        codes = self.tree.code_array.take(pa.array(np.maximum(up, 0)))
        codes = pc.if_else(pa.array(up >= 0), codes, pa.scalar("", codes.type))
        return text_series(codes, frame.index)

    def levels(self) -> list[Level]:
        """The levels the scope holds, top first, each with how many of its units are there."""
        counts = np.bincount(self.tree.level[self._inside], minlength=len(self.tree.levels))
        return [
            Level(lv.index, lv.name, int(counts[lv.index]))
            for lv in self.tree.levels
            if counts[lv.index]
        ]

    def _row(self, code: str) -> int:
        """The registry row of ``code`` (-1 when unknown), by a hash index built once."""
        return self.district.code_index.get(code) if isinstance(code, str) else -1

    def units_at(self, level: int, under: str | None = None) -> list[str]:
        """The codes of the scope's units at ``level`` (below ``under``), in code order."""
        rows = self.district.registry[self._inside & (self.tree.level == level)]
        return sorted(self.under(rows, under)["unit_code"])

    def level_of(self, code: str) -> int | None:
        """The level of ``code``, or None when it is not a unit of the scope."""
        at = self._row(code) if code else -1
        return int(self.tree.level[at]) if at >= 0 and self._inside[at] else None

    def top(self) -> list[str]:
        """The scope's top units: those whose parent is outside it (a province, a street)."""
        inside = self._inside
        parent = self.tree.parent
        top = inside & ((parent < 0) | ~inside[np.maximum(parent, 0)])
        return list(self.tree.codes[top])

    def _top_and_below(self) -> tuple[Level, Level | None]:
        """The scope's top level and the one below it; no level below when the scope has
        several top units (the country's provinces: the top is what it opens at)."""
        lv = self.levels()
        top = self.top()
        first = self.level_of(top[0]) if top else lv[0].index
        at = next(x for x in lv if x.index == first)
        below = [x for x in lv if x.index > first]
        return at, (below[0] if below and len(top) <= 1 else None)

    def opening_level(self, max_tiles: int) -> int:
        """Where the map opens: the graded units when they fit on one page (a district of a
        few hundred), else one level below the scope's top (a province sees its 市, a city
        its 区县), the top itself when the scope has several top units. A level of one or two
        units (重庆市's 市辖区 and 县, the statistics bureau's groupings) says little on a map:
        the map opens a level further down while that level fits on one page, its tiles
        grouped under those few."""
        lv = self.levels()
        if not lv:
            return 0
        if lv[-1].units <= max_tiles:
            return lv[-1].index
        top, below = self._top_and_below()
        at = below or top
        for further in (x for x in lv if x.index > at.index):
            if at.units > FEW_TILES or further.units > max_tiles:
                break
            at = further
        return at.index

    def summary_level(self) -> Level:
        """The level a summary of the scope has a row of: one below its top (a district's
        streets, a province's cities), or the top itself when the level below is the graded
        units (a street's own row)."""
        top, below = self._top_and_below()
        return top if below is None or below.index == self.levels()[-1].index else below

    def path(self, code: str) -> list[str]:
        """The units from the scope's top down to ``code`` (itself last), inside the scope."""
        if self.level_of(code) is None:
            return []
        chain = []
        at = self._row(code)
        while at >= 0 and self._inside[at]:
            chain.append(str(self.tree.codes[at]))
            at = int(self.tree.parent[at])
        return chain[::-1]

    def under(self, frame: pd.DataFrame, code: str | None) -> pd.DataFrame:
        """The rows of ``frame`` whose unit is ``code`` or below it (all rows for None)."""
        if not code or frame.empty:
            return frame
        level = self.level_of(code)
        if level is None:
            return frame.iloc[:0]
        rows = self.district.code_index.positions(frame["unit_code"])
        up = self._ancestor_rows(level)[np.maximum(rows, 0)]
        return frame[(rows >= 0) & (up == self._row(code))]

    def tiles(self, period: str, level: int, under: str | None = None) -> pd.DataFrame:
        """The units of ``level`` in the scope (below ``under`` when given), sorted by parent
        then code, each with its grade: its own for graded units, its roll-up for the units
        above them, none (数据不全) where nothing below it is graded."""
        reg = self.district.registry
        rows = reg[self._inside & (self.tree.level == level)]
        rows = self.under(rows, under)
        out = rows[["unit_code", "unit_name", "unit_type", "parent_code"]].reset_index(drop=True)
        own = self._graded_index(period, leaves=level == self.tree.levels[-1].index)
        for column in ("score", "grade", "reasons"):
            if column in own:
                out[column] = out["unit_code"].map(own[column])
        for column, empty in (("score", float("nan")), ("grade", ""), ("reasons", "")):
            if column not in out:
                out[column] = empty
        out["grade"] = out["grade"].fillna("").astype(str).replace("nan", "")
        out["reasons"] = out["reasons"].fillna("").astype(str)
        names = self.names
        out["group_name"] = [names.get(c, "") for c in out["parent_code"].tolist()]
        return out.sort_values(["parent_code", "unit_code"], kind="stable", ignore_index=True)

    def _graded_index(self, period: str, leaves: bool) -> pd.DataFrame:
        """The graded units (``leaves``) or their roll-ups of ``period``, indexed by code."""

        def make() -> pd.DataFrame:
            frame = self.table(period) if leaves else self.parents(period)
            if frame.empty:
                return pd.DataFrame()
            keep = [c for c in ("unit_code", "score", "grade", "reasons") if c in frame]
            return frame[keep].drop_duplicates("unit_code").set_index("unit_code")

        return self.memo(("graded_index", period, leaves), make)

    def level_summary(self, period: str, level: int, tasks: pd.DataFrame, under=None):
        """Per unit of ``level`` (below ``under``): its graded units' colors, mean score,
        shares improving and declining, follow-ups closed on time, and its own roll-up."""

        def make() -> pd.DataFrame:
            now = self.under(self.table(period), under)
            before = self.previous_table(period)
            before = None if before is None else self.under(before, under)
            return parent_summary(
                now,
                before,
                self.registry,
                self.parents(period),
                tasks,
                dt.date.today(),
                group=self._groups(now, level),
            )

        # the follow-ups change between runs: they are part of what the summary is kept for
        state = tuple(map(tuple, tasks.astype(str).to_numpy())) if len(tasks) < 5000 else None
        if state is None:
            return make()
        return self.memo(("summary", period, level, under, dt.date.today(), hash(state)), make)
