"""What a month shows for each rule set: its latest published assessment (as published, or
stale when the data changed after publishing), else a trial with the version in force then;
and the fingerprints that tell the two apart without reading the whole store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..store import Database
from ..store.upload_parts import imported_months
from ..store.uploads import data_fingerprint


@dataclass(frozen=True)
class Shown:
    """What one month shows for one rule set: the published assessment (its rule version and
    its results), or a trial grading with the version in force."""

    rules_id: str
    rules_name: str
    version_id: int
    status: str  # published | stale (data changed after publishing) | trial
    run_id: int | None = None
    published_at: object = None

    @property
    def published(self) -> bool:
        return self.status != "trial"


RESULT_COLUMNS = ("score", "grade", "grade_label", "score_grade", "reasons", "vetoes")


def in_force(runs: pd.DataFrame, period: str, active: int) -> int:
    """The version a trial of ``period`` uses: the one published most recently for a month up
    to ``period`` (a version applies from the first month it was published for); before any
    publication, the earliest published; with none published, the active (latest) version."""
    if runs.empty:
        return active
    before = runs[runs["period"] <= period]
    pick = before.sort_values(["period", "id"]).iloc[-1] if len(before) else runs.iloc[0]
    return int(pick["rule_set_version_id"])


def as_published(table: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """A month's table with each unit's published score, grade and reasons in place of the
    regrade of data that changed after publishing."""
    stored = stored.set_index("unit_code")
    out = table.copy()
    at = out["unit_code"].map(lambda c: c in stored.index)
    for col in [*RESULT_COLUMNS, *[c for c in stored.columns if c.startswith("score.")]]:
        if col in stored.columns and col in out.columns:
            if not pd.api.types.is_numeric_dtype(out[col]):
                out[col] = out[col].astype(object)
            out.loc[at, col] = out.loc[at, "unit_code"].map(stored[col]).to_numpy()
    return out


def whole_fingerprints(
    db: Database, runs: pd.DataFrame, everything: Callable[[], pd.DataFrame]
) -> dict[str, str]:
    """Per published month, the fingerprint of the whole store's data for it now, without
    reading the whole store when nothing changed: if no upload for that month or one before it
    came after the newest upload a published grading of it had read, the data are those it
    graded, so the fingerprint is its own. Otherwise (or for gradings from before that was
    recorded) the whole store is read (``everything()``), once, and hashed, as for the whole
    district."""
    with db.sessions() as s:
        uploads = imported_months(s)
    out, data = {}, None
    for period, group in runs.groupby("period"):
        read = group["upload_id"].dropna()
        if len(read):
            newest = group.loc[read.idxmax()]
            since = int(newest["upload_id"])
            later = [months for uid, months in uploads if uid > since]
            if not any(min(months) <= period for months in later):
                out[str(period)] = str(newest["data_sha256"])
                continue
        if data is None:
            data = everything()
        month = data[data["period"] <= period]
        out[str(period)] = data_fingerprint(month) if len(month) else ""
    return out
