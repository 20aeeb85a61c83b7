"""The graded district: the registry, the rule-set versions in force and the engine's results
for every stored month, with what every page asks of them built once (each month's table, the
roll-ups, stabilities), shared by every session of a process (``loading.graded``); the part of
it one user may see is a ``View``. Its grading runs when first needed: a district read from the
months kept in the store (``store.graded_months``) shows the map from those alone."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
import pyarrow as pa

from ..grading.engine import Assessment, assess
from ..insight.levels import Tree, build_tree
from ..insight.rollup import CodeIndex, code_index, rollup
from ..insight.stability import stability
from ..intake.textcols import one_chunk, text_series
from ..rules.grades import GRADE_KEYS
from ..rules.loader import LoadedRules
from ..store import Database, Scope
from ..store.graded_months import KeptMonth, MonthToKeep
from ..store.uploads import data_fingerprint
from .published import Shown, as_published, in_force

ALONE = 5_000  # units whose stability is worth grading alone before the whole district


@dataclass
class Grading:
    """The stored data graded by the engine: what a district holds once it has run."""

    assessments: list[Assessment]  # graded with the district's versions
    by_version: dict[int, Assessment]  # every version shown
    stored: dict[int, pd.DataFrame]  # run -> results, of the months shown as published (stale)
    kept_values: pd.DataFrame | None  # the values graded; None: read again when asked


@dataclass
class Kept:
    """The months kept in the store for the district's state (``store.graded_months``)."""

    months: dict[str, KeptMonth]
    read: Callable[[str, str], pd.DataFrame | None]  # (period, kind: "units", …) -> frame

    def frame(self, period: str, kind: str) -> pd.DataFrame | None:
        month = self.months.get(period)
        return self.read(period, kind) if month is not None and getattr(month, kind) else None


@dataclass
class District:
    registry: pd.DataFrame
    rules: list[LoadedRules]  # the active version of each rule set (for editing, trials)
    versions: list[int]
    runs: pd.DataFrame  # the published assessments
    # grades the stored data (``load_district``): once, when something first needs the engine
    grader: Callable[[District], Grading] = field(repr=False)

    roots: frozenset[str] | None = None  # a scope read and graded alone; None: every unit
    # the store's current values of a scope, for a district that does not keep its own
    read_values: Callable[[Scope], pd.DataFrame] | None = field(default=None, repr=False)
    # rule-set versions graded on the values of a few units alone (None when one is relative),
    # for their stability before the whole district has been graded (see ``_graded_alone``)
    alone: Callable[[list[int], list[str]], dict[int, Assessment] | None] | None = field(
        default=None, repr=False
    )
    state: str | None = None  # the store's state (whole districts), its graded months kept for
    kept: Kept | None = field(default=None, repr=False)  # read instead of graded
    fingerprints: dict[str, str] = field(default_factory=dict, repr=False)
    stabilities: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _grading: Grading | None = field(default=None, repr=False)
    _shown: dict[str, list[Shown]] = field(default_factory=dict, repr=False)
    _tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _parents: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _whole: set[str] = field(default_factory=set, repr=False)  # months with every unit's stability
    _locks: dict[object, threading.RLock] = field(default_factory=dict, repr=False)
    _locks_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def grading(self) -> Grading:
        """The engine's results, graded the first time they are asked for. A district whose
        months were kept in the store shows its map from those; a unit's explanation, its
        stability, a regrade or a month not kept grades the store then, once."""
        if self._grading is None:
            with self.lock("grading"):
                if self._grading is None:
                    self._grading = self.grader(self)
                    if self.kept_values is None:  # months built before, from kept tables
                        for period in [p for p in self._tables if p != self.periods[-1]]:
                            self._set_aside(period)
        return self._grading

    @property
    def graded_now(self) -> bool:
        """Whether the engine has run for this district (not only its kept months read)."""
        return self._grading is not None

    @property
    def assessments(self) -> list[Assessment]:
        return self.grading.assessments

    @property
    def by_version(self) -> dict[int, Assessment]:
        return self.grading.by_version

    @property
    def stored(self) -> dict[int, pd.DataFrame]:
        return self.grading.stored

    @property
    def kept_values(self) -> pd.DataFrame | None:
        return None if self._grading is None else self._grading.kept_values

    def lock(self, key: object) -> threading.RLock:
        """One lock per piece of work kept with the district: a second thread asking for it
        waits for the first's result instead of computing it beside it (a first session and
        the warm-up at once did the country's work twice, with twice the memory)."""
        with self._locks_lock:
            return self._locks.setdefault(key, threading.RLock())

    def once(self, kept: dict, key: object, make: Callable[[], object]) -> object:
        """``kept[key]``, made by ``make()`` under ``lock`` the first time it is asked."""
        if key not in kept:
            with self.lock((id(kept), key)):
                if key not in kept:
                    kept[key] = make()
        return kept[key]

    @property
    def data(self) -> pd.DataFrame:
        """The stored values graded (unit_code, period, one column per id): kept with the
        district, or, for a store too large to hold them beside its grades (the country's are
        341 MB), read again from the store for whoever asks (a regrade, the fair comparison)."""
        if self.kept_values is not None or self.read_values is None:
            return self.kept_values if self.kept_values is not None else pd.DataFrame()
        scope = Scope.everything() if self.roots is None else Scope(self.roots)
        return self.read_values(scope)

    def values_of(self, unit_code: str) -> pd.DataFrame:
        """One unit's stored values, every month: from the kept values, or read for it alone."""
        if self.kept_values is not None or self.read_values is None:
            data = self.data
            return data[data["unit_code"] == unit_code] if len(data) else data
        data = self.read_values(Scope.of(unit_code))
        return data[data["unit_code"] == unit_code] if len(data) else data

    def stability(self, period: str, codes: list[str] | None = None) -> pd.DataFrame:
        """How sure each unit's grade of ``period`` is (1,000 weight draws, ±25%): of
        ``codes`` (default all), computed once per district, month and unit and only for the
        units asked for (a street's 50 units, not a province's 600k)."""
        with self.lock(("stability", period)):
            return self._stability(period, codes)

    def _stability(self, period: str, codes: list[str] | None) -> pd.DataFrame:
        have = self.stabilities.get(period)
        if codes is None:  # every unit: once, then never again
            need = [] if period in self._whole else None
        else:
            known = set() if have is None else set(have["unit_code"])
            need = sorted(set(codes) - known)
        if need is None or need:
            frames = [] if have is None or need is None else [have]
            shown = self.shown(period)
            graded = self._graded_alone([s.version_id for s in shown], need) or self.by_version
            for s in shown:
                a = graded[s.version_id]
                if period in a.periods:
                    frames.append(stability(a, period, codes=need))
            frames = [f for f in frames if len(f)]
            self.stabilities[period] = (
                pd.concat(frames, ignore_index=True).drop_duplicates("unit_code")
                if frames
                else pd.DataFrame(columns=["unit_code", "stability", "borderline"])
            )
            if need is None:
                self._whole.add(period)
        out = self.stabilities[period]
        return out if codes is None else out[out["unit_code"].isin(set(codes))]

    def _graded_alone(
        self, versions: list[int], codes: list[str] | None
    ) -> dict[int, Assessment] | None:
        """While a district read from kept months has not been graded yet: ``versions`` graded
        on the values of ``codes`` alone, when there are few of them and no rule set is
        relative (a unit's grade and stability depend on its own values only). A province's
        first list then waits for its 300 units, not for the engine to grade the country's
        620,000. None otherwise: the district's own grading is used."""
        if self._grading is None and self.alone is not None and codes and len(codes) <= ALONE:
            return self.alone(sorted(set(versions)), codes)
        return None

    @property
    def whole(self) -> bool:
        """Graded for every unit of the store (not a scope read alone)."""
        return self.roots is None

    @property
    def part(self) -> str:
        """Which part of the store this is, for cache keys: "" for the whole."""
        return "" if self.roots is None else ",".join(sorted(self.roots))

    def fingerprint(self, period: str) -> str:
        """sha256 of the data graded for ``period`` (that month and the ones before), computed
        once per district: the overview asks on every rerun."""
        if period not in self.fingerprints:
            self.fingerprints[period] = fingerprint_of(self.data, period)
        return self.fingerprints[period]

    def regrade(self, loaded: LoadedRules) -> Assessment:
        """The same data under another rule set (e.g. weights being tweaked)."""
        return assess(loaded, self.data, self.registry)

    @cached_property
    def periods(self) -> list[str]:
        if self.kept is not None and self._grading is None:
            return sorted(self.kept.months)  # the months graded in the state kept
        return sorted({p for a in self.by_version.values() for p in a.periods})

    def applies_from(self, version_id: int) -> str | None:
        """The first month a version was published for: it applies from then on, to every
        month not published with another version."""
        runs = self.runs
        mine = runs[runs["rule_set_version_id"] == version_id] if len(runs) else runs
        return None if mine.empty else str(mine["period"].min())

    def shown(self, period: str) -> list[Shown]:
        """Per rule set, what ``period`` shows: its latest published assessment as published
        (until that month is published again), else a trial with the version in force then.
        Decided once per district and month (every table, roll-up and page asks)."""
        if period not in self._shown:
            self._shown[period] = self._decide(period)
        return self._shown[period]

    def _decide(self, period: str) -> list[Shown]:
        out = []
        for loaded, active in zip(self.rules, self.versions, strict=True):
            rid, name = loaded.rules.id, loaded.rules.name
            runs = self.runs
            mine = runs[runs["rules_id"] == rid] if len(runs) else runs
            here = mine[mine["period"] == period] if len(mine) else mine
            if len(here):
                last = here.iloc[-1]
                fresh = last["data_sha256"] == self.fingerprint(period)
                out.append(
                    Shown(
                        rid,
                        name,
                        int(last["rule_set_version_id"]),
                        "published" if fresh else "stale",
                        int(last["id"]),
                        last["published_at"],
                    )
                )
                continue
            out.append(Shown(rid, name, in_force(mine, period, active), "trial"))
        return out

    def assessment_for(self, rules_id: str, period: str) -> Assessment | None:
        for shown in self.shown(period):
            if shown.rules_id == rules_id:
                return self.by_version.get(shown.version_id)
        return None

    def table(self, period: str) -> pd.DataFrame:
        """Every unit's graded row of ``period`` as the month shows it, built once per district
        (every page, roll-up and worklist of every session asks; callers get a copy-on-write
        copy, so the shared frame never changes)."""
        return self.once(self._tables, period, lambda: self._new_table(period)).copy(deep=False)

    def _new_table(self, period: str) -> pd.DataFrame:
        table = self.kept.frame(period, "units") if self.kept is not None else None
        if table is None:
            table = self._table(period)
        if self._grading is not None and self.kept_values is None and period != self.periods[-1]:
            self._set_aside(period)
        return table

    def _set_aside(self, period: str) -> None:
        """A store too large to keep its values (the country) does not keep the per-indicator
        matrices of a past month either once its table is built (the country's: 376 MB a
        month): the map needs the table alone. A unit's explanation, stability, follow-ups or
        forecast in that month grade the store again, once, and restore them."""
        for a in self.by_version.values():
            if period in a.periods and not a.periods[period].aside:
                a.periods[period].set_aside(functools.partial(self._restore, a))

    def _restore(self, a: Assessment) -> None:
        """Every month of ``a`` set aside, restored from one grading of the stored values."""
        again = assess(a.compiled, self.data, self.registry)
        for period, p in a.periods.items():
            if p.aside:
                p.take_back(again.periods[period])

    def _table(self, period: str) -> pd.DataFrame:
        frames = []
        for shown in self.shown(period):
            a = self.by_version.get(shown.version_id)
            if a is None or period not in a.periods:
                continue
            t = a.table([period])
            if t.empty:  # no unit of this rule set here (a scope of villages only)
                continue
            if shown.status == "stale" and shown.run_id in self.stored:
                t = as_published(t, self.stored[shown.run_id])
            frames.append(
                t.assign(
                    rules_id=shown.rules_id,
                    rule_version_id=shown.version_id,
                    rule_version=a.rules.version,
                    shown_as=shown.status,
                    run_id=shown.run_id,
                )
            )
        if not frames:
            return pd.DataFrame(columns=["unit_code", "grade", "score"])
        table = pd.concat(frames, ignore_index=True)
        for col in ("grade", "grade_label", "score_grade", "next_grade"):
            table[col] = _plain_text(table[col])
        for col in PER_RULE_SET:  # one value per rule set: 8 MB a column of the country as text
            table[col] = table[col].astype("category")
        return one_chunk(table)  # the text left in the rule sets' pieces

    def months_to_keep(self) -> dict[str, MonthToKeep]:
        """What to keep in the store for the district's state: every month, its fingerprint
        where one was taken, its table, roll-up and stabilities where they were built."""
        return {
            p: MonthToKeep(
                self.fingerprints.get(p),
                self._tables.get(p),
                self._parents.get(p),
                self.stabilities.get(p),
            )
            for p in self.periods
        }

    def history(self) -> pd.DataFrame:
        """unit_code, unit_name, parent_code, period, score, grade for every month, each month
        as it is shown (published, or a trial)."""
        cols = ["unit_code", "unit_name", "parent_code", "period", "score", "grade", "grade_label"]
        return pd.concat([self.table(p)[cols] for p in self.periods], ignore_index=True)

    def rules_of(self, unit_code: str) -> str | None:
        for a in self.assessments:
            if unit_code in set(a.units["unit_code"]):
                return a.rules.id
        return None

    def assessment_of(self, unit_code: str, period: str | None = None) -> Assessment | None:
        """The assessment that grades ``unit_code`` in ``period`` (default: the active one)."""
        rid = self.rules_of(unit_code)
        if rid is None:
            return None
        if period is None:
            return next(a for a in self.assessments if a.rules.id == rid)
        return self.assessment_for(rid, period)

    @cached_property
    def tree(self) -> Tree:
        """The registry as arrays: parents, depths and levels (for roll-ups and the map's
        levels), built once per district."""
        return build_tree(self.registry, self.code_index)

    @cached_property
    def code_index(self) -> CodeIndex:
        """A code's row in the registry (built once)."""
        return code_index(self.registry)

    @cached_property
    def depths(self) -> pd.Series:
        return pd.Series(self.tree.depth, index=self.registry.index)

    def parents(self, period: str) -> pd.DataFrame:
        """街道/乡镇 and 区县 graded by the rule set that grades most units (its rollup, its bands),
        once per district and month."""
        return self.once(self._parents, period, lambda: self._roll_up(period)).copy(deep=False)

    def _roll_up(self, period: str) -> pd.DataFrame:
        kept = self.kept.frame(period, "parents") if self.kept is not None else None
        if kept is not None:
            return kept
        shown = [self.by_version[s.version_id] for s in self.shown(period)]
        shown = [a for a in shown if period in a.periods]
        if not shown:
            return pd.DataFrame()
        main = max(shown, key=lambda a: len(a.units)).compiled
        labels = [main.label(r) for r in range(len(GRADE_KEYS))]
        return rollup(
            self.table(period),
            self.registry,
            main.rules.rollup,
            list(main.min_scores),
            labels,
            depths=self.depths,
            parent=self.tree.parent,
            index=self.code_index,
        )


# a month's columns that hold one value per rule set, kept as categories
PER_RULE_SET = ("rules_id", "rules_version", "rule_version", "shown_as")


def _plain_text(column: pd.Series) -> pd.Series:
    """A grade column (categories) as plain text, decoded by Arrow (pandas' ``astype(str)``
    formats each of a country's rows)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return text_series(pa.array(column.array).dictionary_decode(), column.index)
    return column.astype(str)


def fingerprint_of(data: pd.DataFrame, period: str) -> str:
    """sha256 of the data graded for ``period``: that month's and every one before it."""
    month = data[data["period"] <= period] if len(data) else data
    return data_fingerprint(month) if len(month) else ""


def publication_status(db: Database, district: District, period: str) -> list[dict]:
    """Per rule set shown: is this month's grading published, and is it still the current data?"""
    del db  # the district holds the published assessments
    return [
        {
            "rules": s.rules_name,
            "status": "unpublished" if s.status == "trial" else s.status,
            "id": s.run_id,
            "at": s.published_at,
            "version_id": s.version_id,
        }
        for s in district.shown(period)
    ]
