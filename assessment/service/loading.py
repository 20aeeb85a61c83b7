"""The graded district of a store, loaded once per data version for every session and page of
a process (``graded``): read from the store and graded by the engine, or, for a whole store
whose graded months are kept for its present state, read from those and graded when first
needed (``load_district``).

A unit's grade depends only on its own values unless a rule set uses a relative method (such as
``percentile``, which ranks a unit among all units of its rule set). So a user whose scope is a
part of the store (a street's 50 units in a province's 600k) gets that part read and graded
alone, with the same grades as the whole; with a relative method, or when the whole is already
graded, everyone's view is cut from the whole."""

from __future__ import annotations

import functools
import threading

import pandas as pd

from ..grading.engine import Assessment, assess
from ..rules.loader import LoadedRules
from ..store import Database, Scope
from ..store.assessments import assessments, load_rule_version, results
from ..store.graded_months import kept_months, read_month
from ..store.registry import current_registry, keep_allowed
from ..store.uploads import KEPT_ROWS, current_values
from .district import District, Grading, Kept, fingerprint_of
from .published import whole_fingerprints
from .store_state import active_versions, data_version, store_state


def load_district(
    db: Database,
    versions: list[int] | None = None,
    scope: Scope | None = None,
    kept: bool = False,
) -> District:
    """Grade every stored month with the given (default: active) rule-set versions, and with
    every version a month was published with: of every unit, or of ``scope`` alone (the
    caller makes sure no rule set is relative, see ``graded``). With ``kept``, a whole store
    whose graded months are kept for its present state is not graded now: its map is read
    from them, and the engine runs when something first needs it (``District.grading``)."""
    scope = scope or Scope.everything()
    whole = scope.roots is None and versions is None
    version = data_version(db) if kept and whole else None  # before anything is read
    everyone = current_registry(db, Scope.everything())
    registry = everyone if scope.roots is None else _with_ancestors(everyone, scope)
    versions = versions if versions is not None else active_versions(db)
    rules = [load_rule_version(db, v) for v in versions]
    runs = assessments(db)
    state = store_state(version, versions, runs) if version is not None else None
    if len(runs):
        runs = runs[runs["status"] == "published"].sort_values("id").reset_index(drop=True)
    district = District(
        registry,
        rules,
        versions,
        runs,
        grader=functools.partial(_grade, db, scope),
        roots=scope.roots,
        read_values=lambda part: current_values(db, part),
        state=state,
    )
    months = kept_months(db, state) if state is not None else {}
    if months:
        district.kept = Kept(months, functools.partial(read_month, db, state))
        district.alone = functools.partial(_grade_alone, db, registry)
        district.fingerprints.update(
            {p: m.fingerprint for p, m in months.items() if m.fingerprint is not None}
        )
        for period in months:  # a few hundred units a month: the first page's list needs them
            stabilities = district.kept.frame(period, "stabilities")
            if stabilities is not None:
                district.stabilities[period] = stabilities
    else:
        district.grading  # noqa: B018 (graded now)
    return district


def _grade(db: Database, scope: Scope, district: District) -> Grading:
    data = current_values(db, scope)
    registry, runs = district.registry, district.runs
    if not len(data):  # nothing graded before there is data
        return Grading([], {}, {}, data)
    graded = [assess(r, data, registry) for r in district.rules]
    by_version: dict[int, Assessment] = {}
    for vid, a in zip(district.versions, graded, strict=True):
        by_version.setdefault(vid, a)
    grading = Grading(graded, by_version, {}, data)
    if scope.roots is not None and len(runs):  # published months: current for the whole store?
        district.fingerprints.update(
            whole_fingerprints(db, runs, lambda: current_values(db, Scope.everything()))
        )
    for vid in sorted(set(runs["rule_set_version_id"]) - set(by_version)) if len(runs) else []:
        by_version[int(vid)] = assess(load_rule_version(db, int(vid)), data, registry)
    periods = sorted({p for a in by_version.values() for p in a.periods})
    for period in set(runs["period"]) & set(periods) if len(runs) else ():
        if period not in district.fingerprints:  # what the months shown as published ask
            district.fingerprints[period] = fingerprint_of(data, period)
    for period in periods:
        for shown in district.shown(period):
            if shown.status == "stale":
                grading.stored[shown.run_id] = results(db, scope, shown.run_id)
    if len(data) > KEPT_ROWS:  # the fingerprints of published months are taken by now
        grading.kept_values = None
    return grading


def _grade_alone(
    db: Database, registry: pd.DataFrame, versions: list[int], codes: list[str]
) -> dict[int, Assessment] | None:
    """Each rule-set version graded on the stored values of ``codes`` (and of any unit under
    them) alone, every month, as the whole store grades them, the values read once; None when
    a rule set is relative, its grades depending on every unit's values."""
    rules = [load_rule_version(db, v) for v in versions]
    if any(r.rules.relative for r in rules):
        return None
    scope = Scope(frozenset(codes))
    data, units = current_values(db, scope), keep_allowed(registry, scope.codes(registry))
    return {v: assess(r, data, units) for v, r in zip(versions, rules, strict=True)}


def _with_ancestors(registry: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The registry rows of the scope and of every unit above it (a roll-up walks up to the
    root; the view cuts the ancestors away again)."""
    inside = scope.codes(registry)
    parent = registry.set_index("unit_code")["parent_code"]
    above: set[str] = set()
    for code in scope.roots or ():
        while code in parent.index and parent[code] and parent[code] not in above:
            code = parent[code]
            above.add(code)
    return keep_allowed(registry, inside | above)


_GRADED: dict[tuple, District] = {}
_LOCK = threading.Lock()


_PARTS: dict[tuple, District] = {}
_PARTS_LOCK = threading.Lock()
MAX_PARTS = 64  # scoped districts kept per process (each a street or county: small)


def graded(db: Database, scope: Scope | None = None) -> District:
    """The district graded for the database's current data version, shared by every session
    and page of this process: a month is graded once per data version, not once per user.

    With a ``scope``, a part that can be graded alone (no relative rule set) is read and graded
    by itself, unless the whole is already graded: a street's organizer in a province waits for
    their own units, not the province's. The caller cuts either to the scope (``View``)."""
    version = data_version(db)
    key = (db.url, id(db.engine), version)
    if key in _GRADED or scope is None or scope.roots is None:
        return _whole(db, key)
    part = (*key, scope.roots)
    with _PARTS_LOCK:  # not the whole's lock: a street need not wait while the city is graded
        if part not in _PARTS and not _relative(db, key):
            if len(_PARTS) >= MAX_PARTS:
                _PARTS.pop(next(iter(_PARTS)))
            _PARTS[part] = load_district(db, scope=scope)
        found = _PARTS.get(part)
    return found if found is not None else _whole(db, key)  # relative: cut from the whole


def _whole(db: Database, key: tuple) -> District:
    with _LOCK:
        if key not in _GRADED:
            if len(_GRADED) >= 4:
                _GRADED.pop(next(iter(_GRADED)))
            _GRADED[key] = load_district(db, kept=True)
        return _GRADED[key]


_RELATIVE: dict[tuple, bool] = {}


def _relative(db: Database, key: tuple) -> bool:
    """Whether a rule set the district may grade with is relative (decided once per data
    version: it parses every rule set in force)."""
    if key not in _RELATIVE:
        if len(_RELATIVE) >= 64:
            _RELATIVE.clear()
        _RELATIVE[key] = any(r.rules.relative for r in _rules_in_force(db))
    return _RELATIVE[key]


def _rules_in_force(db: Database) -> list[LoadedRules]:
    """Every rule-set version the district may grade with: the active ones and every one a
    month was published with."""
    runs = assessments(db)
    published = (
        set(runs.loc[runs["status"] == "published", "rule_set_version_id"]) if len(runs) else set()
    )
    return [load_rule_version(db, int(v)) for v in sorted(set(active_versions(db)) | published)]
