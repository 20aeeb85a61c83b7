"""Assess: grade every unit of a rule set over one or more months, in period order.

``assess`` aligns the registry and the monthly tables, scores each period (``scoring``), then
applies escalation across consecutive months. The result keeps every array that made the
decision, so tables, explanations and follow-ups are read from it, never recomputed apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..intake.registry import leaf_units
from ..intake.textcols import as_text, distinct, has_duplicates, is_sorted, positions, to_arrow
from ..rules.compiled import CompiledRules, compile_rules
from ..rules.grades import GRADE_KEYS, MISSING_LABEL
from ..rules.loader import LoadedRules
from .reasons import reason_texts, veto_ids
from .scoring import PeriodScores, apply_escalation, score_period

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
UNIT_COLUMNS = ["unit_code", "unit_name", "unit_type", "parent_code"]


@dataclass
class Assessment:
    compiled: CompiledRules
    units: (
        pd.DataFrame
    )  # graded units, sorted by code: unit_code, unit_name, unit_type, parent_code
    periods: dict[str, PeriodScores]  # in period order

    @property
    def rules(self):
        return self.compiled.rules

    def table(self, periods: list[str] | None = None) -> pd.DataFrame:
        """The graded output of RULES_FORMAT.md: one row per unit and period, scores unrounded."""
        frames = [self._period_table(self.periods[p]) for p in periods or list(self.periods)]
        if not frames:
            return pd.DataFrame(columns=["unit_code", "unit_name", "period", "score", "grade"])
        return pd.concat(frames, ignore_index=True)

    def _period_table(self, p: PeriodScores) -> pd.DataFrame:
        c = self.compiled
        keys = [*GRADE_KEYS, ""]  # rank -1 (数据不全) -> the last category
        labels = [*(c.label(r) for r in range(5)), MISSING_LABEL]
        next_rank = np.where((p.rank == p.base_rank) & (p.base_rank > 0), p.base_rank - 1, -1)
        ms = np.append(c.min_scores, np.nan)
        points = np.where(next_rank >= 0, ms[next_rank] - p.total, np.nan)

        def grades(rank: np.ndarray, names: list[str]) -> pd.Categorical:
            return pd.Categorical.from_codes(np.where(rank < 0, 5, rank), categories=names)

        cols: dict[str, object] = {
            **{col: self.units[col].array for col in UNIT_COLUMNS},
            "period": p.period,
            "score": p.total,
            "grade": grades(p.rank, keys),
            "grade_label": grades(p.rank, labels),
        }
        for d, dim in enumerate(c.dimensions):
            cols[f"score.{dim.id}"] = p.dim_scores[:, d]
        cols["score_grade"] = grades(p.base_rank, keys)
        cols["points_to_next"] = points
        cols["next_grade"] = grades(next_rank, keys)
        cols["reasons"] = reason_texts(c, p)
        cols["vetoes"] = veto_ids(c, p)
        cols["rules_id"] = self.rules.id
        cols["rules_version"] = self.rules.version
        return pd.DataFrame(cols)

    def counts(self) -> pd.DataFrame:
        """Units per grade and period (数据不全 included), in grade order."""
        rows = {}
        for period, p in self.periods.items():
            ranks = np.bincount(p.rank.astype(np.int64) + 1, minlength=6)
            rows[period] = [*ranks[1:], ranks[0]]
        return pd.DataFrame.from_dict(
            rows, orient="index", columns=[*GRADE_KEYS, "missing"]
        ).rename_axis("period")


def assess(
    rules: LoadedRules | CompiledRules,
    data: pd.DataFrame,
    units: pd.DataFrame | None = None,
) -> Assessment:
    """Grade ``data`` (unit_code, period, one numeric column per indicator or input).

    ``units`` is the registry (unit_code, unit_name, unit_type, parent_code). With it, every leaf
    unit the rule set applies to is graded in every period, and one that sent nothing is listed
    as 数据不全; without it, the units are the codes found in ``data``.
    """
    compiled = rules if isinstance(rules, CompiledRules) else compile_rules(rules)
    graded = _graded_units(compiled, data, units)
    codes_arrow = to_arrow(graded["unit_code"])
    codes = graded["unit_code"].array  # Arrow-backed: no Python string per unit
    types = to_arrow(graded["unit_type"])
    period_col = as_text(data["period"])
    periods = sorted(distinct(period_col)) if len(data) else []
    bad = [p for p in periods if not PERIOD_RE.match(p)]
    if bad:
        raise ValueError(f"period must be YYYY-MM, got {bad[:3]}")
    wanted = [c for c in compiled.columns if c in data.columns]
    values = {c: _floats(data[c]) for c in wanted}
    row_codes = to_arrow(data["unit_code"])
    results: list[PeriodScores] = []
    for period in periods:
        rows = np.flatnonzero((period_col == period).to_numpy()) if len(periods) > 1 else None
        period_codes = row_codes if rows is None else row_codes.take(rows)
        if has_duplicates(period_codes):
            counts = pc.value_counts(period_codes)
            dup = counts.field("values").filter(pc.greater(counts.field("counts"), 1))[0]
            raise ValueError(f"unit {dup} has more than one row for {period}")
        if rows is None and period_codes.equals(codes_arrow):
            columns, reported = values, None  # already one row per unit, in code order
        else:
            pos = positions(codes_arrow, period_codes)  # row of each graded unit, -1 if none
            reported = pos >= 0
            take = pos[reported] if rows is None else rows[pos[reported]]
            columns = {}
            for c, v in values.items():
                aligned = np.full(len(codes), np.nan)
                aligned[reported] = v[take]
                columns[c] = aligned
        columns, reported = _uploaded_only(compiled, columns, reported, len(codes))
        results.append(score_period(compiled, period, codes, types, columns, reported))
    apply_escalation(compiled, results)
    return Assessment(compiled=compiled, units=graded, periods={p.period: p for p in results})


def _uploaded_only(
    compiled: CompiledRules, columns: dict, reported: np.ndarray | None, n: int
) -> tuple[dict, np.ndarray | None]:
    """A unit has reported a month when it sent a value of its own: values computed from
    another system's events (``derive``) alone do not make a month graded, or a unit whose
    table is late would be graded on its 12345 figures only. Such a unit is 数据不全 (未上报)."""
    derived = compiled.rules.derived()
    own = [c for c in compiled.columns if c not in derived]
    if not derived or not own:
        return columns, reported
    sent = np.zeros(n, dtype=bool)
    for c in own:
        if c in columns:
            sent |= ~np.isnan(columns[c])
    if reported is not None:
        sent &= reported
    if sent.all():
        return columns, reported
    blank = {c: np.where(sent, v, np.nan) if c in derived else v for c, v in columns.items()}
    return blank, sent


def _floats(column: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for blanks; a view when it already is one."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _graded_units(
    compiled: CompiledRules, data: pd.DataFrame, units: pd.DataFrame | None
) -> pd.DataFrame:
    applies = compiled.rules.applies_to
    if units is None:
        codes = pd.unique(as_text(data["unit_code"]).to_numpy())
        graded = pd.DataFrame({"unit_code": codes})
        for col in UNIT_COLUMNS[1:]:
            graded[col] = (
                as_text(data[col]).groupby(data["unit_code"]).first().reindex(codes).to_numpy()
                if col in data.columns
                else ""
            )
        if applies is not None and "unit_type" in data.columns:
            graded = graded[graded["unit_type"].isin(applies)]
    else:
        registry = pd.DataFrame({c: as_text(units[c]) for c in UNIT_COLUMNS})
        graded = leaf_units(registry, applies)
    if is_sorted(graded["unit_code"]):  # registries usually come in code order
        return graded.reset_index(drop=True)
    return graded.sort_values("unit_code", kind="stable").reset_index(drop=True)
