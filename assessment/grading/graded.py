"""Checked inputs graded, and the graded table of several rule sets in one order."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..intake.inputs import Inputs
from ..problems import ERROR, Problem, ProblemsError
from .engine import Assessment, assess


def grade_inputs(inputs: Inputs) -> list[Assessment]:
    if inputs.errors or inputs.data is None:
        raise ProblemsError(
            inputs.problems or [Problem("no_data", "没有可评定的数据", severity=ERROR)]
        )
    return [assess(r, inputs.data, inputs.registry) for r in inputs.rule_sets]


def graded_table(
    assessments: Sequence[Assessment], periods: list[str] | None = None
) -> pd.DataFrame:
    frames = [a.table(periods) for a in assessments]
    if len(frames) == 1:
        return frames[0]  # one rule set: already in period, then code order
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return table.sort_values(["period", "unit_code"], kind="stable", ignore_index=True)
