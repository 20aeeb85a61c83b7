"""What one signed-in user may see of the graded district: every frame cut to their scope,
every unit looked up only inside it. Pages get a ``View`` from the service, never a
``District``, so a page cannot show what the scope does not hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..grading.engine import Assessment
from ..insight.explain import explain
from ..insight.explanation import UnitExplanation
from ..insight.followups import cleared, suggest
from ..insight.forecast import backtest, forecast
from ..insight.peers import fair_comparison
from ..insight.quota import quota_check
from ..insight.sensitivity import compare_tables
from ..insight.stability import weight_sensitivity
from ..insight.worklist import parent_summary, worklist
from ..intake.registry import leaf_units
from ..intake.textcols import distinct
from ..rules.loader import LoadedRules
from ..store.registry import keep_allowed
from .district import District
from .hierarchy import Hierarchy
from .roles import denied


def joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of every rule set's frame (a rule set with no unit here adds none and does not
    turn the column types into ``object``)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


class Names(dict):
    """Unit code -> name, for the units of one scope: each name looked up in the registry
    (by the district's code index) when first asked, then kept. A page asks for a few
    hundred; all of the country's 665,271 as a dict were 73 MB held by every process.

    It is a dict with ``__missing__`` so that ``Series.map`` looks up each of the series' own
    values (with a plain mapping pandas first turns the whole mapping into a Series). An
    unknown code, or one outside the scope, maps to NaN and ``get`` gives the default."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        lookup_many: Callable[[np.ndarray], list[str | None]] | None = None,
    ):
        super().__init__()
        self._lookup = lookup
        self._lookup_many = lookup_many

    def names_of(self, codes: pd.Series) -> pd.Series:
        """``codes`` as names (NaN where unknown or outside the scope), in one pass."""
        return codes.map(self.of(codes))

    def of(self, codes: pd.Series) -> dict[str, str]:
        """The names of ``codes`` as a plain dict, the ones not yet known looked up together:
        ``codes.map(names.of(codes))`` is one vectorised pass, where ``codes.map(names)``
        calls back for every row (the country's 60,000 red and orange units' streets: 0.5 s)."""
        unique = distinct(codes)  # Python strings from Arrow at once, not one by one
        new = [c for c in unique if not dict.__contains__(self, c)]
        if new and self._lookup_many is not None:
            for code, name in zip(new, self._lookup_many(np.array(new, dtype=object)), strict=True):
                if isinstance(name, str):
                    self[code] = name
        return {c: dict.get(self, c) for c in unique if dict.__contains__(self, c)}

    def __missing__(self, key: object) -> str | float:
        name = self._lookup(key) if isinstance(key, str) else None
        if name is None:
            return float("nan")
        self[key] = name
        return name

    def get(self, key: object, default: object = None) -> object:
        found = self[key]
        return default if isinstance(found, float) else found

    def __contains__(self, key: object) -> bool:
        return isinstance(self[key], str)


@dataclass
class View(Hierarchy):
    district: District
    allowed: set[str] | None  # None: every unit
    # The whole district, for what compares a unit with all units of its rule set (fair
    # comparison, the forecast's backtest, a relative method) when ``district`` is a scope
    # graded alone; read only when asked.
    everyone: Callable[[], District] | None = None
    # the roots of the scope ``allowed`` was drawn from: the key its cuts are kept under with
    # the district, shared by its sessions (None: not kept, cut on every call)
    scope: frozenset[str] | None = None

    def population(self, relative: bool = True) -> District:
        """The district to compare among: the whole (``relative``), or this one if whole."""
        d = self.district
        return d if d.whole or not relative or self.everyone is None else self.everyone()

    def cut(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` (by unit_code) inside the scope: the one scope filter."""
        return keep_allowed(frame, self.allowed)

    def _cut(self, key: tuple, whole: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``whole()`` cut to the scope, kept per scope with the district (``memo``)."""
        if self.allowed is None:
            return whole()
        return self.memo(("cut", *key), lambda: self.cut(whole()))

    @cached_property
    def registry(self) -> pd.DataFrame:
        return self._cut(("registry",), lambda: self.district.registry)

    @cached_property
    def names(self) -> Names:
        index, inside = self.district.code_index, self._inside
        unit_names = self.district.registry["unit_name"]

        def lookup(code: str) -> str | None:
            at = index.get(code)
            name = unit_names.iat[at] if at >= 0 and inside[at] else None
            return name if isinstance(name, str) else None

        def lookup_many(codes: np.ndarray) -> list[str | None]:
            at = index.positions(codes)
            found = (at >= 0) & inside[np.maximum(at, 0)]
            named = unit_names.take(np.maximum(at, 0)).to_numpy(dtype=object)
            return [
                n if ok and isinstance(n, str) else None for n, ok in zip(named, found, strict=True)
            ]

        return self.memo("names", lambda: Names(lookup, lookup_many))

    def leaves(self) -> pd.DataFrame:
        return leaf_units(self.registry)

    def find_units(self, words: str, limit: int = 50) -> pd.DataFrame:
        """Up to ``limit`` units of the scope, at any level, whose name contains ``words`` or
        whose code starts with it, in code order."""
        words = (words or "").strip()
        units = self.registry
        if not words:
            return units.iloc[:0]
        hit = units["unit_name"].str.contains(words, regex=False)
        found = units[hit | units["unit_code"].str.startswith(words)]
        return found.sort_values("unit_code", kind="stable").head(limit)

    @property
    def rules(self) -> list[LoadedRules]:
        return self.district.rules

    @property
    def versions(self) -> list[int]:
        return self.district.versions

    @property
    def periods(self) -> list[str]:
        return self.district.periods

    @property
    def empty(self) -> bool:
        return self.registry.empty

    def table(self, period: str) -> pd.DataFrame:
        return self._cut(("table", period), lambda: self.district.table(period))

    def previous_table(self, period: str) -> pd.DataFrame | None:
        """The graded table of the month before ``period`` in the store (None for the first)."""
        k = self.periods.index(period)
        return self.table(self.periods[k - 1]) if k > 0 else None

    def parents(self, period: str) -> pd.DataFrame:
        parents = self.district.parents(period)
        return parents if parents.empty else self._cut(("parents", period), lambda: parents)

    def history(self) -> pd.DataFrame:
        if not self.periods:
            return pd.DataFrame(columns=["unit_code", "parent_code", "period", "grade"])
        return self._cut(("history",), self.district.history)

    def require_unit(self, unit_code: str) -> None:
        if self.allowed is not None and unit_code not in self.allowed:
            raise denied(f"单位 {unit_code[:32]} 不在您的管辖范围内", "out_of_scope")

    def assessment_of(self, unit_code: str, period: str | None = None) -> Assessment | None:
        """The assessment that grades the unit in ``period``: the version that month shows."""
        self.require_unit(unit_code)
        return self.district.assessment_of(unit_code, period)

    def shown(self, period: str):
        """Per rule set, what ``period`` shows (published, or a trial) and with which version."""
        return self.district.shown(period)

    def explain(self, unit_code: str, period: str) -> UnitExplanation | None:
        a = self.assessment_of(unit_code, period)
        if a is None or period not in a.periods:
            return None
        return explain(a, unit_code, period)

    def stability(self, period: str, codes: list[str] | None = None) -> pd.DataFrame:
        """Per unit in the scope (of ``codes`` when given): the share of weight draws that keep
        its grade, and whether it is a 边界单位 (under 0.8). Computed for those units only."""
        if codes is None:
            codes = list(self.leaves()["unit_code"]) if self.allowed is not None else None
        elif self.allowed is not None:
            codes = [c for c in codes if c in self.allowed]
        return self.cut(self.district.stability(period, codes))

    def weight_sensitivity(self, rules_id: str, period: str) -> pd.DataFrame:
        """How many units change color when each weight of ``rules_id`` alone moves ±25%."""
        a = self.district.assessment_for(rules_id, period)
        if a is None or period not in a.periods:
            return pd.DataFrame(columns=["kind", "id", "name", "changed_up", "changed_down"])
        return weight_sensitivity(a, period)

    def forecast(self, upto: str) -> pd.DataFrame:
        """Next month's predicted score and chance of orange or red, per unit in the scope,
        from the months up to ``upto``."""
        frames = [
            forecast(self.district.by_version[s.version_id], upto)
            for s in self.district.shown(upto)
            if upto in self.district.by_version[s.version_id].periods
        ]
        return self.cut(joined(frames))

    def backtest(self) -> pd.DataFrame:
        """Per rule set: precision and recall of the forecast and of "same grade as now"."""
        rows = [{"rules": a.rules.name, **backtest(a)} for a in self.population().assessments]
        return pd.DataFrame(rows)

    def parent_summary(self, period: str, tasks: pd.DataFrame, level: str = "street"):
        """Per street (or county) in the scope: colors, mean score, improving and declining
        shares, follow-ups closed on time, and its own roll-up grade."""
        return parent_summary(
            self.table(period),
            self.previous_table(period),
            self.registry,
            self.parents(period),
            tasks,
            dt.date.today(),
            level,
        )

    def fair(self, period: str) -> pd.DataFrame:
        """Each unit in the scope against its peers (same type, similar size: the rule set's
        ``peers`` columns), ranked among all of them, with its three-month progress."""
        d = self.population()
        values = d.data[d.data["period"] == period] if len(d.data) else d.data
        frames = [
            fair_comparison(d.by_version[s.version_id], period, values)
            for s in d.shown(period)
            if period in d.by_version[s.version_id].periods
        ]
        return self.cut(joined(frames))

    def quota(self, period: str, max_share: dict[str, float], bottom: float | None):
        """Whom a share would affect in the scope (nothing changes: see ``quota``)."""
        return quota_check(self.table(period), max_share, bottom)

    def worklist(self, period: str) -> pd.DataFrame:
        """The red and orange units of ``period`` in the scope, with the change since the
        month before."""
        return self.memo(
            ("worklist", period),
            lambda: self._worklist(period),
        )

    def _worklist(self, period: str) -> pd.DataFrame:
        table = self.table(period)
        return worklist(table, self.previous_table(period), self.names.of(table["parent_code"]))

    def unit_values(self, unit_code: str, period: str) -> dict[str, float]:
        """The unit's current stored values for ``period`` (column id -> number)."""
        self.require_unit(unit_code)
        data = self.district.values_of(unit_code)
        if data.empty:
            return {}
        rows = data[data["period"] == period]
        if rows.empty:
            return {}
        row = rows.iloc[-1].drop(["unit_code", "period"], errors="ignore")
        return {k: float(v) for k, v in row.items() if pd.notna(v) and isinstance(v, int | float)}

    def unit_history(self, unit_code: str) -> pd.DataFrame:
        self.require_unit(unit_code)
        history = self.district.history()
        return history[history["unit_code"] == unit_code]

    def suggestions(self, unit_code: str, period: str) -> pd.DataFrame:
        a = self.assessment_of(unit_code, period)
        if a is None or period not in a.periods:
            return pd.DataFrame(columns=["unit_code", "source", "action"])
        todo = suggest(a, period)
        return todo[todo["unit_code"] == unit_code].reset_index(drop=True)

    def all_suggestions(self, period: str) -> pd.DataFrame:
        shown = [self.district.by_version[s.version_id] for s in self.district.shown(period)]
        frames = [suggest(a, period) for a in shown if period in a.periods]
        return self.cut(joined(frames))

    def cleared(self, unit_code: str, period: str, source: str) -> bool | None:
        a = self.assessment_of(unit_code, period)
        return None if a is None else cleared(a, unit_code, period, source)

    def weight_impact(
        self, rules_id: str, period: str, after: Assessment | None
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Counts before/after, the units that change color and the graded table after a
        rule change, all inside the scope. ``after`` is the regraded assessment (None: no
        change)."""
        shown = self.district.table(period)
        a = self.cut(shown[shown["rules_id"] == rules_id]) if "rules_id" in shown else shown
        b = a if after is None else self.cut(after.table([period]))
        counts, moved = compare_tables(a, b)
        return counts, moved, b

    def regrade(self, loaded: LoadedRules) -> Assessment:
        """The stored data under another rule set: of the scope alone, or of every unit when
        the rule set is relative (a unit is then scored against all the others)."""
        return self.population(loaded.rules.relative).regrade(loaded)

    def empty_reason(self) -> str:
        """What is missing before there is anything to show, and how to add it."""
        d = self.district
        if d.registry.empty:
            return "还没有单位名册:请管理员先导入,例如 `fivecolor import registry units.csv`。"
        if not d.rules:
            return (
                "还没有规则集:导入数据时指定规则集即可登记,例如 "
                "`fivecolor import data 月度表.csv -r rules/community.yaml -r rules/village.yaml`。"
            )
        if self.registry.empty:
            return "您的管辖范围内没有单位:请联系管理员核对账户的所辖单位。"
        return "还没有任何月份的数据:请到“数据上传”上传月度指标表。"
