"""What the grades depend on, as keys: the data version a process caches its graded district
for (``data_version``), the rule-set versions it grades with (``active_versions``), and the
state graded months are kept in the store for (``store_state``), which also names the code
that graded them, so that a new release never reads months an older one kept."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import func, select

from ..store import Database
from ..store.assessments import rule_versions
from ..store.schema import AssessmentRun, RegistryVersion, RuleSetVersion, Upload

PACKAGE = Path(__file__).resolve().parents[1]
RUN_COLUMNS = ["id", "status", "rule_set_version_id", "period", "data_sha256", "upload_id"]


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
    return out  # by rule-set id: the order does not move when a version is published


def store_state(version: tuple, versions: list[int], runs: pd.DataFrame) -> str:
    """sha256 of the store's state as graded: the data version (taken before anything was
    read, so a change while reading gives a state no later server matches), the rule-set
    versions graded with, every assessment (its status and data), and the code."""
    listed = runs[RUN_COLUMNS].astype(str).to_numpy().tolist() if len(runs) else []
    state = {"data": list(version), "versions": versions, "runs": listed, "code": code()}
    return hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()


@functools.cache
def code() -> str:
    """sha256 of this package's sources and of the libraries that compute the grades."""
    digest = hashlib.sha256(f"{pd.__version__} {np.__version__} {pa.__version__}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
