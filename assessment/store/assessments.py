"""Rule-set versions and assessments. A published assessment never changes: grading a month
again (new data, or a new rule-set version) creates a draft beside it."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from .. import __version__
from ..grading.engine import Assessment, assess
from ..problems import WARNING, Problem, ProblemsError
from ..rules.loader import LoadedRules, parse_rules
from .audit import log
from .bulk import fetch_row, ipc_bytes
from .database import Database
from .registry import allowed_codes, current_registry, keep_allowed
from .schema import AssessmentRun, RuleSetVersion, Upload, now
from .scope import Scope
from .uploads import current_values, data_fingerprint


class PublishedIsFinal(RuntimeError):
    """Raised when anything tries to change or delete a published assessment."""


@event.listens_for(Session, "before_flush")
def _guard_published(session: Session, _context, _instances) -> None:
    for obj in [*session.dirty, *session.deleted]:
        if isinstance(obj, AssessmentRun):
            was = inspect(obj).attrs.status.history
            if "published" in (was.deleted or ()) or (
                obj in session.deleted and obj.status == "published"
            ):
                raise PublishedIsFinal(f"assessment {obj.id} is published and cannot change")
            if obj.status == "published" and inspect(obj).attrs.results.history.added:
                raise PublishedIsFinal(f"results of published assessment {obj.id} cannot change")


def save_rule_set(db: Database, loaded: LoadedRules, author: str, note: str = "") -> int:
    """Store a rule set's text as a version (once per distinct text); returns its id."""
    with db.transaction() as s:
        existing = s.scalar(select(RuleSetVersion).where(RuleSetVersion.sha256 == loaded.sha256))
        if existing is not None:
            return existing.id
        version = RuleSetVersion(
            rules_id=loaded.rules.id,
            version=loaded.rules.version,
            name=loaded.rules.name,
            text=loaded.text,
            sha256=loaded.sha256,
            author=author,
            note=note,
        )
        s.add(version)
        s.flush()
        log(
            s,
            author,
            "rules_saved",
            version=version.id,
            rules=loaded.rules.id,
            label=loaded.rules.version,
            sha256=loaded.sha256,
            note=note,
        )
        return version.id


def load_rule_version(db: Database, version_id: int) -> LoadedRules:
    with db.sessions() as s:
        v = s.get(RuleSetVersion, version_id)
        if v is None:
            raise KeyError(f"rule-set version {version_id} not found")
        return _parsed(v.text, f"{v.rules_id}@{v.version}#{v.id}")


@functools.lru_cache(maxsize=64)
def _parsed(text: str, source: str) -> LoadedRules:
    """A stored rule-set text parsed once per process (a version never changes, and the
    parsed rules are frozen): each graded district used to parse every YAML again."""
    return parse_rules(text, source=source)


def rule_versions(db: Database, rules_id: str | None = None) -> pd.DataFrame:
    with db.sessions() as s:
        q = select(RuleSetVersion).order_by(RuleSetVersion.id)
        if rules_id:
            q = q.where(RuleSetVersion.rules_id == rules_id)
        rows = s.scalars(q).all()
    return pd.DataFrame(
        [
            {
                "id": v.id,
                "rules_id": v.rules_id,
                "version": v.version,
                "name": v.name,
                "author": v.author,
                "note": v.note,
                "created_at": v.created_at,
                "published": v.published,
                "sha256": v.sha256,
            }
            for v in rows
        ]
    )


def grade_from_store(
    db: Database, scope: Scope, period: str, versions: Sequence[int]
) -> list[tuple[int, Assessment, pd.DataFrame]]:
    """Grade ``period`` (and the months before it, for escalation) from the stored data: the
    whole population (relative methods rank a unit among all units), so only for a caller who
    may see every unit; a scoped caller reads graded results cut to its scope instead."""
    if scope.roots is not None:
        raise ProblemsError([Problem("scope_denied", "只有全区范围的账户可以整体评定")])
    registry = current_registry(db, scope)
    data = current_values(db, scope)  # at least as new as latest_upload (uploads only add)
    data = data[data["period"] <= period]
    if not (data["period"] == period).any():
        raise ProblemsError([Problem("no_data", f"{period} 还没有导入任何数据")])
    out = []
    for vid in versions:
        loaded = load_rule_version(db, vid)
        out.append((vid, assess(loaded, data, registry), data))
    return out


class Assessed(list):
    """The assessment ids of one ``run_assessment`` (a list of int), with ``problems``: the
    rule sets that had no unit to grade, as warnings."""

    problems: list[Problem]


def run_assessment(
    db: Database,
    scope: Scope,
    period: str,
    versions: Sequence[int],
    author: str,
    publish: bool = False,
) -> Assessed:
    """Grade and store one assessment per rule-set version, all in one transaction (all of
    them land, or none); returns their ids.

    The same rules, month and data as an existing assessment return that one unchanged; a
    stale draft of the same rules and month is replaced; published ones are never touched. A
    rule set with no unit of its types in the registry is a warning, not an assessment.
    """
    if scope.roots is not None:
        raise ProblemsError([Problem("scope_denied", "只有区县管理员可以发起评定")])
    with db.sessions() as s:  # read before the data: the data are at least this new
        latest = s.scalar(select(func.max(Upload.id)))
    graded = grade_from_store(db, scope, period, versions)
    fingerprint = data_fingerprint(graded[0][2]) if graded else ""
    seen = (fingerprint, latest)
    ids = Assessed()
    ids.problems = []
    with db.transaction() as s:
        for vid, result, _data in graded:
            table = result.table([period])
            if table.empty:
                ids.problems.append(
                    Problem(
                        "no_units",
                        f"规则集“{result.rules.name}”在单位名册中没有适用的单位"
                        f"(适用于: {'、'.join(result.rules.applies_to or ['全部'])}),未评定",
                        severity=WARNING,
                    )
                )
                continue
            ids.append(_store_run(s, vid, period, seen, table, result, author, publish))
    return ids


def _store_run(s: Session, vid, period, seen, table, result, author, publish) -> int:
    fingerprint, latest = seen
    same = s.scalars(
        select(AssessmentRun)
        .where(
            AssessmentRun.rule_set_version_id == vid,
            AssessmentRun.period == period,
            AssessmentRun.data_sha256 == fingerprint,
        )
        .order_by(AssessmentRun.id.desc())
    ).first()
    if same is not None and (same.status == "published" or not publish):
        if latest is not None and (same.upload_id or 0) < latest:
            same.upload_id = latest  # the same data: still current as of this upload
        return same.id
    for draft in s.scalars(
        select(AssessmentRun).where(
            AssessmentRun.rule_set_version_id == vid,
            AssessmentRun.period == period,
            AssessmentRun.status == "draft",
        )
    ):
        s.delete(draft)
    run = AssessmentRun(
        rule_set_version_id=vid,
        period=period,
        status="draft",
        author=author,
        data_sha256=fingerprint,
        engine_version=__version__,
        upload_id=latest,
        results=results_blob(table, result),
    )
    s.add(run)
    s.flush()
    log(s, author, "assessment_created", assessment=run.id, period=period, rules=vid)
    if publish:
        _publish(s, run, author)
    return run.id


RESULT_TEXT = ("grade", "grade_label", "score_grade", "reasons", "vetoes")


def results_blob(table: pd.DataFrame, result: Assessment) -> bytes:
    """Every unit's result as one Arrow IPC stream, in unit_code order: written and read whole,
    no row per unit (a province's 600k results were 5 s of COPY and index upkeep)."""
    table = table.sort_values("unit_code", kind="stable")
    columns = {
        "unit_code": pa.array(table["unit_code"].astype(str).to_numpy()),
        "score": pa.array(table["score"].to_numpy(dtype=float), from_pandas=True),
        **{c: pa.array(table[c].fillna("").astype(str).to_numpy()) for c in RESULT_TEXT},
    }
    for d in result.compiled.dimensions:
        values = table[f"score.{d.id}"].to_numpy(dtype=float)
        columns[f"score.{d.id}"] = pa.array(values, from_pandas=True)
    return ipc_bytes(pa.table(columns))


def publish(db: Database, scope: Scope, assessment_id: int, who: str) -> None:
    if scope.roots is not None:
        raise ProblemsError([Problem("scope_denied", "只有区县管理员可以发布评定结果")])
    with db.transaction() as s:
        run = s.get(AssessmentRun, assessment_id)
        if run is None:
            raise KeyError(assessment_id)
        if run.status != "published":
            _publish(s, run, who)


def _publish(s: Session, run: AssessmentRun, who: str) -> None:
    run.status = "published"
    run.published_at = now()
    s.get(RuleSetVersion, run.rule_set_version_id).published = True
    log(s, who, "assessment_published", assessment=run.id, period=run.period)


def assessments(db: Database, period: str | None = None) -> pd.DataFrame:
    with db.sessions() as s:
        q = select(AssessmentRun, RuleSetVersion).join(
            RuleSetVersion, RuleSetVersion.id == AssessmentRun.rule_set_version_id
        )
        if period:
            q = q.where(AssessmentRun.period == period)
        rows = s.execute(q.order_by(AssessmentRun.id)).all()
    return pd.DataFrame(
        [
            {
                "id": a.id,
                "period": a.period,
                "status": a.status,
                "rules_id": v.rules_id,
                "rules_version": v.version,
                "rule_set_version_id": v.id,
                "author": a.author,
                "created_at": a.created_at,
                "published_at": a.published_at,
                "data_sha256": a.data_sha256,
                "upload_id": a.upload_id,
            }
            for a, v in rows
        ]
    )


def results(db: Database, scope: Scope, assessment_id: int) -> pd.DataFrame:
    """One assessment's per-unit results, limited to the caller's scope."""
    allowed = allowed_codes(db, scope)
    with db.sessions() as s:
        row = fetch_row(s, "SELECT results FROM assessments WHERE id = ?", (assessment_id,))
    if row is None or row[0] is None:
        return pd.DataFrame(columns=["unit_code", "score", *RESULT_TEXT])
    return keep_allowed(pa.ipc.open_stream(row[0]).read_all().to_pandas(), allowed)
