"""Assess: grade every unit of a rule set over one or more months, in period order.

``assess`` aligns the registry and the monthly tables, scores each period (``scoring``), then
applies escalation across consecutive months. The result keeps every array that made the
decision, so tables, explanations and follow-ups are read from it, never recomputed apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from . import __version__
from .compiled import CompiledRules, compile_rules
from .grades import GRADE_KEYS, MISSING_LABEL
from .reasons import reason_texts, veto_ids
from .rule_loader import LoadedRules
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

    @cached_property
    def engine_version(self) -> str:
        return __version__

    def table(self, periods: list[str] | None = None) -> pd.DataFrame:
        """The graded output of RULES_FORMAT.md: one row per unit and period, scores unrounded."""
        frames = [self._period_table(self.periods[p]) for p in periods or list(self.periods)]
        if not frames:
            return pd.DataFrame(columns=["unit_code", "unit_name", "period", "score", "grade"])
        return pd.concat(frames, ignore_index=True)

    def _period_table(self, p: PeriodScores) -> pd.DataFrame:
        c = self.compiled
        keys = np.array([*GRADE_KEYS, ""], dtype=object)  # index -1 -> "" (数据不全)
        labels = np.array([*(c.label(r) for r in range(5)), MISSING_LABEL], dtype=object)
        next_rank = np.where(p.rank == p.base_rank, p.base_rank - 1, -1)
        next_rank = np.where(p.base_rank > 0, next_rank, -1)
        ms = np.append(c.min_scores, np.nan)
        points = np.where(next_rank >= 0, ms[next_rank] - p.total, np.nan)
        cols: dict[str, object] = {
            "unit_code": self.units["unit_code"].to_numpy(),
            "unit_name": self.units["unit_name"].to_numpy(),
            "unit_type": self.units["unit_type"].to_numpy(),
            "parent_code": self.units["parent_code"].to_numpy(),
            "period": p.period,
            "score": p.total,
            "grade": keys[p.rank],
            "grade_label": labels[p.rank],
        }
        for d, dim in enumerate(c.dimensions):
            cols[f"score.{dim.id}"] = p.dim_scores[:, d]
        cols["score_grade"] = keys[p.base_rank]
        cols["points_to_next"] = points
        cols["next_grade"] = keys[next_rank]
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
    codes = graded["unit_code"].to_numpy(dtype=object)
    types = graded["unit_type"].to_numpy(dtype=object)
    periods = sorted(set(data["period"].astype(str))) if len(data) else []
    bad = [p for p in periods if not PERIOD_RE.match(p)]
    if bad:
        raise ValueError(f"period must be YYYY-MM, got {bad[:3]}")
    wanted = [c for c in compiled.columns if c in data.columns]
    results: list[PeriodScores] = []
    period_col = data["period"].astype(str).to_numpy()
    for period in periods:
        rows = data.loc[period_col == period, ["unit_code", *wanted]]
        if rows["unit_code"].duplicated().any():
            dup = rows.loc[rows["unit_code"].duplicated(), "unit_code"].iloc[0]
            raise ValueError(f"unit {dup} has more than one row for {period}")
        rows = rows.set_index("unit_code")
        reported = np.isin(codes, rows.index.to_numpy(dtype=object))
        frame = rows.reindex(codes)
        results.append(score_period(compiled, period, codes, types, frame, reported))
    apply_escalation(compiled, results)
    return Assessment(compiled=compiled, units=graded, periods={p.period: p for p in results})


def _graded_units(
    compiled: CompiledRules, data: pd.DataFrame, units: pd.DataFrame | None
) -> pd.DataFrame:
    applies = compiled.rules.applies_to
    if units is None:
        codes = pd.unique(data["unit_code"].astype(str))
        graded = pd.DataFrame({"unit_code": codes})
        for col in UNIT_COLUMNS[1:]:
            graded[col] = (
                data[col].astype(str).groupby(data["unit_code"]).first().reindex(codes).to_numpy()
                if col in data.columns
                else ""
            )
        if applies is not None and "unit_type" in data.columns:
            graded = graded[graded["unit_type"].isin(applies)]
    else:
        registry = units[UNIT_COLUMNS].astype(str)
        parents = set(registry["parent_code"])
        graded = registry[~registry["unit_code"].isin(parents)]  # leaves: 村/社区
        if applies is not None:
            graded = graded[graded["unit_type"].isin(applies)]
    return graded.sort_values("unit_code", kind="stable").reset_index(drop=True)
