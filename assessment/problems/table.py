"""A problem list as a table: one row per problem, or a repeated problem as one line."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from .codes import title
from .problem import Problem


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """The one problem table: the upload page, the spreadsheet and ``--problems-out`` show it."""
    cols = ["severity", "file", "row", "line", "path", "column", "value", "code", "message"]
    frame = pd.DataFrame([p.as_dict() for p in problems], columns=cols)
    frame.insert(cols.index("code") + 1, "title", [title(c) for c in frame["code"]])
    return frame


def collapsed_problems(
    problems: Sequence[Problem], names: dict[str, str] | None = None, shown_rows: int = 12
) -> pd.DataFrame:
    """The problem table for people: a problem repeated on many rows (same kind, column and
    message, e.g. 170 rows of the wrong month) is one line with its count and rows, errors
    first; ``names`` turns column ids into the rule set's Chinese names."""
    more = {p.code: p.more for p in problems if p.more}  # count lines fold into their kind
    frame = problems_frame([p for p in problems if not p.more])
    if frame.empty:
        return pd.DataFrame(columns=["severity", "title", "column", "count", "rows", "message"])
    names = names or {}
    frame["column"] = [names.get(c, c) for c in frame["column"].fillna("")]
    frame["row"] = frame["row"].astype("Int64")
    keys = ["severity", "title", "column", "message"]
    out = []
    for key, group in frame.groupby(keys, sort=False, dropna=False):
        rows = [int(r) for r in group["row"].dropna()]
        extra = more.pop(group["code"].iloc[0], 0)  # the unlisted ones, with the first group
        listed = "、".join(map(str, rows[:shown_rows]))
        listed += "…" if len(rows) > shown_rows or extra else ""
        count = len(group) + extra
        out.append({**dict(zip(keys, key, strict=True)), "count": count, "rows": listed})
    table = pd.DataFrame(out)
    order = table["severity"].map({"error": 0}).fillna(1)
    return table.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
