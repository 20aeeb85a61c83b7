"""Month-to-month jumps worth a second look: a value far from the same unit's value last month
is often a typo (850 for 85, a count in the wrong column). A warning, never an error: real
change happens, and the organizer decides."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..problems import WARNING, Problem, ProblemCollector

RATE_JUMP = 40.0  # percentage points, for a value on a 0..100 scale
COUNT_FACTOR = 10.0  # times, for any other value: an order of magnitude (a digit too many)
COUNT_MIN = 20.0  # ... and this far apart (3 -> 0 or 0 -> 16 is ordinary month-to-month life)
FIRST_DATA_ROW = 2


def large_changes(
    frame: pd.DataFrame,
    previous: pd.DataFrame,
    names: Mapping[str, str],
    percent: set[str],
    file: str = "",
) -> list[Problem]:
    """Warnings for the cells of ``frame`` far from the same unit's value in ``previous`` (the
    month before): ``percent`` columns by points, the others by a factor. ``frame``'s index is
    the row's position in the file."""
    if frame is None or frame.empty or previous is None or previous.empty:
        return []
    before = previous.drop_duplicates("unit_code").set_index("unit_code")
    problems = ProblemCollector()
    rows = frame.index.to_numpy() + FIRST_DATA_ROW
    for col in [c for c in frame.columns if c in before.columns and c in names]:
        now = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        then = before[col].reindex(frame["unit_code"]).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            if col in percent:
                jump = np.abs(now - then) >= RATE_JUMP
            else:
                hi, lo = np.maximum(now, then), np.minimum(now, then)
                jump = (hi - lo >= COUNT_MIN) & (lo > 0) & (hi / lo >= COUNT_FACTOR)
        jump &= ~np.isnan(now) & ~np.isnan(then)
        for i in problems.first("large_change", jump, WARNING):
            problems.append(
                Problem(
                    "large_change",
                    f"“{names[col]}”由上月的 {then[i]:g} 变为 {now[i]:g},变化很大:"
                    "请核对是否填错(如多打一位、填错列);确实如此可忽略",
                    file=file,
                    row=int(rows[i]),
                    column=col,
                    value=f"{now[i]:g}",
                    severity=WARNING,
                )
            )
    return problems.finished(file)
