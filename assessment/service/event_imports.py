"""Other systems' exports (the rule sets' ``sources``) as a signed-in user imports and reads
them: the sources in force, an export checked and previewed (the values it gives each unit of
the user's scope), imported as an upload, and the events behind a unit's derived values."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..intake.derive import derived_columns, sources_of
from ..rules.models import Source
from ..store.events import CheckedEvents, check_events, import_events, unit_events
from ..store.uploads import UploadOutcome
from .actions import Service
from .roles import Action, denied


@dataclass(frozen=True)
class SourceInfo:
    source: Source
    columns: dict[str, str]  # derived column id -> its name, in the rule sets in force


def sources(svc: Service) -> list[SourceInfo]:
    """The sources the rule sets in force declare, with the columns each one feeds."""
    svc._require(Action.READ)
    sets = svc._sets()
    names = {c.id: c.name for r in sets for c in [*r.indicators(), *r.inputs]}
    derived = derived_columns(sets)
    return [
        SourceInfo(s, {c: names[c] for c, sid in derived.items() if sid == s.id})
        for s in sources_of(sets).values()
    ]


def check(
    svc: Service, data: bytes, filename: str, source_id: str, period: str | None
) -> CheckedEvents:
    """Every check of an import, without writing; the derived values for the preview."""
    svc._require(Action.UPLOAD)
    return check_events(svc.db, data, filename, svc.user.scope, svc._sets(), source_id, period)


def import_export(
    svc: Service, data: bytes, filename: str, source_id: str, period: str | None
) -> UploadOutcome:
    """Import a source's export of one month for the user's scope, whole or not at all."""
    svc._require(Action.UPLOAD)
    return import_events(
        svc.db, data, filename, svc.user.name, svc.user.scope, svc._sets(), source_id, period
    )


def events_of(svc: Service, unit_code: str, period: str, source_id: str) -> pd.DataFrame:
    """The events behind a unit's derived values of ``period`` (a unit outside the user's
    scope is refused as if it did not exist)."""
    svc._require(Action.READ)
    allowed = svc.allowed
    if allowed is not None and unit_code not in allowed:
        raise denied(f"单位 {unit_code[:40]} 不在您可查看的范围内")
    return unit_events(svc.db, unit_code, period, source_id)
