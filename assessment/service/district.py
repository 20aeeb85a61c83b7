"""The graded district: stored data and the active rule-set versions, graded by the engine once
per data version for every session (``graded``), and the part of it one user may see (``View``).

Units are graded against the whole registry (a relative method such as ``percentile`` ranks a
unit among all units of its rule set, whoever looks), then cut to the viewer's scope.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
from sqlalchemy import func, select

from ..engine import Assessment, assess
from ..grades import GRADE_KEYS
from ..rollup import rollup
from ..rule_loader import LoadedRules
from ..store import Database, Scope
from ..store.assessments import assessments, load_rule_version, rule_versions
from ..store.registry import current_registry
from ..store.schema import AssessmentRun, RegistryVersion, RuleSetVersion, Upload
from ..store.uploads import current_values, data_fingerprint


def data_version(db: Database) -> tuple:
    """Changes whenever anything the grades depend on changes (a cheap cache key)."""
    with db.sessions() as s:
        return (
            s.scalar(select(func.max(Upload.id))),
            s.scalar(select(func.max(RegistryVersion.id))),
            s.scalar(select(func.max(RuleSetVersion.id))),
            s.scalar(select(func.max(AssessmentRun.id))),
        )


def active_versions(db: Database) -> list[int]:
    """Per rule set: the latest published version, else the latest saved one."""
    versions = rule_versions(db)
    if versions.empty:
        return []
    out = []
    for _, group in versions.groupby("rules_id"):
        published = group[group["published"]]
        out.append(int((published if len(published) else group)["id"].max()))
    return sorted(out)


@dataclass
class District:
    registry: pd.DataFrame
    rules: list[LoadedRules]
    versions: list[int]
    assessments: list[Assessment]
    data: pd.DataFrame

    fingerprints: dict[str, str] = field(default_factory=dict, repr=False)

    def fingerprint(self, period: str) -> str:
        """sha256 of the data graded for ``period`` (that month and the ones before), computed
        once per district: the overview asks on every rerun."""
        if period not in self.fingerprints:
            data = self.data[self.data["period"] <= period]
            self.fingerprints[period] = data_fingerprint(data) if len(data) else ""
        return self.fingerprints[period]

    def regrade(self, loaded: LoadedRules) -> Assessment:
        """The same data under another rule set (e.g. weights being tweaked)."""
        return assess(loaded, self.data, self.registry)

    @cached_property
    def periods(self) -> list[str]:
        return sorted({p for a in self.assessments for p in a.periods})

    def table(self, period: str) -> pd.DataFrame:
        frames = [a.table([period]) for a in self.assessments if period in a.periods]
        if not frames:
            return pd.DataFrame(columns=["unit_code", "grade", "score"])
        table = pd.concat(frames, ignore_index=True)
        for col in ("grade", "grade_label", "score_grade", "next_grade"):
            table[col] = table[col].astype(str)
        return table

    def history(self) -> pd.DataFrame:
        """unit_code, unit_name, parent_code, period, score, grade for every month."""
        cols = ["unit_code", "unit_name", "parent_code", "period", "score", "grade", "grade_label"]
        return pd.concat([self.table(p)[cols] for p in self.periods], ignore_index=True)

    def assessment_of(self, unit_code: str) -> Assessment | None:
        for a in self.assessments:
            if unit_code in set(a.units["unit_code"]):
                return a
        return None

    def parents(self, period: str) -> pd.DataFrame:
        """街道/乡镇 and 区县 graded by the rule set that grades most units (its rollup, its bands)."""
        if not self.assessments:
            return pd.DataFrame()
        main = max(self.assessments, key=lambda a: len(a.units)).compiled
        labels = [main.label(r) for r in range(len(GRADE_KEYS))]
        return rollup(
            self.table(period), self.registry, main.rules.rollup, list(main.min_scores), labels
        )


def load_district(db: Database, versions: list[int] | None = None) -> District:
    """Grade every stored month with the given (default: active) rule-set versions."""
    registry = current_registry(db, Scope.everything())
    versions = versions if versions is not None else active_versions(db)
    rules = [load_rule_version(db, v) for v in versions]
    data = current_values(db, Scope.everything())
    graded = [assess(r, data, registry) for r in rules] if len(data) else []
    return District(registry, rules, versions, graded, data)


def publication_status(db: Database, district: District, period: str) -> list[dict]:
    """Per rule set shown: is this month's grading published, and is it still the current data?"""
    runs = assessments(db, period)
    current = district.fingerprint(period)
    out = []
    for loaded, vid in zip(district.rules, district.versions, strict=True):
        mine = (
            runs[(runs["rule_set_version_id"] == vid) & (runs["status"] == "published")]
            if len(runs)
            else runs
        )
        if len(mine) == 0:
            out.append(
                {"rules": loaded.rules.name, "status": "unpublished", "id": None, "at": None}
            )
            continue
        last = mine.iloc[-1]
        status = "published" if last["data_sha256"] == current else "stale"
        out.append(
            {
                "rules": loaded.rules.name,
                "status": status,
                "id": int(last["id"]),
                "at": last["published_at"],
            }
        )
    return out


_GRADED: dict[tuple, District] = {}
_LOCK = threading.Lock()


def graded(db: Database) -> District:
    """The district graded for the database's current data version, shared by every session
    and page of this process: a month is graded once per data version, not once per user."""
    key = (db.url, id(db.engine), data_version(db))
    with _LOCK:
        if key not in _GRADED:
            if len(_GRADED) >= 4:
                _GRADED.pop(next(iter(_GRADED)))
            _GRADED[key] = load_district(db)
        return _GRADED[key]
