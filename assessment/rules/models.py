"""Rule-set models: the YAML contract of RULES_FORMAT.md as frozen, strict pydantic models.

This module declares; ``loader`` reads a file and reports every problem at once; ``checks``
holds the cross-field checks. Nothing here knows pandas.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .grades import GRADE_ORDER, Grade

GradeKey = Literal["green", "blue", "yellow", "orange", "red"]
Direction = Literal["higher", "lower"]
Op = Literal[">", ">=", "<", "<=", "==", "!="]
Number = float  # strict mode: int or float, never a string or a bool
Weight = Annotated[float, Field(gt=0)]
Score = Annotated[float, Field(ge=0, le=100)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


def normalise(header: object) -> str:
    """A column's id, name or alias as uploads are matched against it (and as the checks find
    two columns answering to one header): full-width forms, spaces and letter case do not count."""
    text = unicodedata.normalize("NFKC", str(header)).strip().casefold()
    return re.sub(r"\s+", "", text)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# ---- scoring methods -------------------------------------------------------------------------


class Linear(Model):
    method: Literal["linear"]
    worst: Number
    best: Number

    @property
    def implied_direction(self) -> Direction:
        return "higher" if self.best > self.worst else "lower"


class Bands(Model):
    method: Literal["bands"]
    bands: list[list[Number]] = Field(min_length=1)

    @property
    def implied_direction(self) -> None:
        return None


class PassFail(Model):
    method: Literal["pass_fail"]

    @property
    def implied_direction(self) -> None:
        return None


class Deduct(Model):
    method: Literal["deduct"]
    per: Annotated[float, Field(gt=0)]
    base: Annotated[float, Field(gt=0, le=100)] = 100.0

    @property
    def implied_direction(self) -> Direction:
        return "lower"


class MinMax(Model):
    method: Literal["minmax"]

    @property
    def implied_direction(self) -> None:
        return None


class Percentile(Model):
    method: Literal["percentile"]

    @property
    def implied_direction(self) -> None:
        return None


Scoring = Annotated[
    Linear | Bands | PassFail | Deduct | MinMax | Percentile, Field(discriminator="method")
]
METHODS: tuple[str, ...] = ("linear", "bands", "pass_fail", "deduct", "minmax", "percentile")
# Methods that score a unit against the other units graded with it (not against fixed values).
RELATIVE: tuple[str, ...] = ("minmax", "percentile")


# ---- the tree ----------------------------------------------------------------------------------


class Rate(Model):
    numerator: str
    denominator: str


# ---- event sources and derived columns -------------------------------------------------------


class SourceColumn(Model):
    """A column of another system's export: its id in the rule set, its header in the file."""

    id: Identifier
    name: str
    aliases: list[str] = []
    type: Literal["text", "date", "number", "flag"] = "text"


class SourceUnit(Model):
    """How an event names its unit: by code, or by name (within its parent's name or code)."""

    code: str | None = None
    name: str | None = None
    parent: str | None = None


class Source(Model):
    """An export of another system, one row per event (a 12345 ticket, a grid event)."""

    id: Identifier
    name: str
    description: str | None = None
    event_id: str
    unit: SourceUnit
    month_by: str  # the date column that places an event in its month
    columns: list[SourceColumn] = Field(min_length=1)

    def column(self, column_id: str) -> SourceColumn | None:
        return next((c for c in self.columns if c.id == column_id), None)


class Span(Model):
    """The time from one date column to another, in days or hours."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    days: Annotated[float, Field(ge=0)] | None = None
    hours: Annotated[float, Field(ge=0)] | None = None
    unit: Literal["days", "hours"] = "days"  # as a value (mean, median, max)


class Filter(Model):
    """One condition on an event; a list of them must all hold."""

    column: str | None = None
    one_of: list[str | Number | bool] | None = Field(None, alias="in")
    op: Op | None = None
    value: Number | None = None
    filled: bool | None = None
    within: Span | None = None


class Derive(Model):
    """A column computed from a source's events of the month, per unit, instead of uploaded."""

    source: str
    aggregate: Literal["count", "share", "mean", "median", "max"]
    where: list[Filter] = []  # the events counted or measured (share: the numerator)
    among: list[Filter] = []  # share: the denominator (default: all the unit's events)
    value: str | Span | None = None  # mean, median, max: a number column or a span of dates
    empty: Number | None = None  # what a unit without events gets (default: no value, N/A)


class Indicator(Model):
    id: Identifier
    name: str
    aliases: list[str] = []
    unit: str | None = None
    description: str | None = None
    weight: Weight
    direction: Direction | None = None
    valid_range: list[Number] | None = None
    applies_to: list[str] | None = None
    rate: Rate | None = None
    derive: Derive | None = None
    scoring: Scoring

    @property
    def effective_direction(self) -> Direction:
        return self.direction or self.scoring.implied_direction or "higher"


class Floor(Model):
    min_score: Score
    cap: GradeKey


class Dimension(Model):
    id: Identifier
    name: str
    weight: Weight
    floor: Floor | None = None
    indicators: list[Indicator] | None = None
    dimensions: list[Dimension] | None = None

    @property
    def children(self) -> list[Indicator] | list[Dimension]:
        return self.indicators if self.indicators is not None else (self.dimensions or [])


class Input(Model):
    id: Identifier
    name: str
    aliases: list[str] = []
    unit: str | None = None
    description: str | None = None
    valid_range: list[Number] | None = None
    derive: Derive | None = None


class Band(Model):
    label: str
    min_score: Score | None = None


class Grades(Model):
    green: Band
    blue: Band
    yellow: Band
    orange: Band
    red: Band

    def band(self, grade: Grade) -> Band:
        return getattr(self, grade.key)

    def min_scores(self) -> list[float]:
        """min_score of green..orange, in grade order (red has none)."""
        return [self.band(g).min_score for g in GRADE_ORDER[:-1]]


class Veto(Model):
    id: Identifier
    name: str
    column: str
    op: Op
    value: Number
    cap: GradeKey = "red"
    basis: str | None = None


class Escalation(Model):
    color: GradeKey
    months: Annotated[int, Field(ge=2, le=24)]
    to: GradeKey


class When(Model):
    indicator: str | None = None
    dimension: str | None = None
    score_below: Score | None = None
    grade: GradeKey | None = None
    months: Annotated[int, Field(ge=1, le=24)] | None = None  # with grade: that many months running
    veto: str | None = None
    escalated: bool | None = None


class FollowUp(Model):
    when: When
    action: str
    owner: str
    due_days: Annotated[int, Field(ge=0, le=365)] = 30
    verify: str | None = None


class RuleSet(Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")]
    name: str
    version: str
    description: str | None = None
    applies_to: list[str] | None = None
    missing: Literal["renormalize", "zero"] = "renormalize"
    grades: Grades
    inputs: list[Input] = []
    sources: list[Source] = []
    dimensions: list[Dimension] = Field(min_length=1)
    vetoes: list[Veto] = []
    escalation: list[Escalation] = []
    follow_ups: list[FollowUp] = []
    rollup: Literal["mean", "worst"] = "mean"
    # Cell texts that mean "not applicable" (e.g. "/", "无", "不适用"): read as an empty cell.
    # Nothing else is: an Excel error value or "NA" is an error, never a missing value.
    not_applicable: list[str] = []
    # Columns that describe a unit's conditions (e.g. households, member_count): units of one
    # type with similar values are its peers in the fair comparison. Never scored.
    peers: list[str] = []

    def iter_dimensions(self) -> list[tuple[Dimension, Dimension | None]]:
        """Every dimension (nested ones too) with its parent, depth first."""
        out: list[tuple[Dimension, Dimension | None]] = []

        def walk(dims: list[Dimension], parent: Dimension | None) -> None:
            for d in dims:
                out.append((d, parent))
                if d.dimensions:
                    walk(d.dimensions, d)

        walk(self.dimensions, None)
        return out

    def indicators(self) -> list[Indicator]:
        return [i for d, _ in self.iter_dimensions() for i in (d.indicators or [])]

    def derived(self) -> dict[str, Derive]:
        """Columns computed from a source's events (never uploaded): column id -> its rule."""
        return {c.id: c.derive for c in [*self.indicators(), *self.inputs] if c.derive}

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)

    @property
    def relative(self) -> bool:
        """Whether a unit's grade depends on the other units graded with it (a relative
        method): then no part of the population can be graded on its own."""
        return any(i.scoring.method in RELATIVE for i in self.indicators())


# Which model a YAML node is, by the last key that names a list or a field; used to list the
# allowed keys when a key is unknown.
NODE_MODELS: dict[str, type[Model]] = {
    "": RuleSet,
    "grades": Grades,
    "inputs": Input,
    "dimensions": Dimension,
    "indicators": Indicator,
    "floor": Floor,
    "rate": Rate,
    "vetoes": Veto,
    "escalation": Escalation,
    "follow_ups": FollowUp,
    "when": When,
    "sources": Source,
    "columns": SourceColumn,
    "unit": SourceUnit,
    "derive": Derive,
    "where": Filter,
    "among": Filter,
    "within": Span,
}
SCORING_MODELS: dict[str, type[Model]] = {
    "linear": Linear,
    "bands": Bands,
    "pass_fail": PassFail,
    "deduct": Deduct,
    "minmax": MinMax,
    "percentile": Percentile,
}
