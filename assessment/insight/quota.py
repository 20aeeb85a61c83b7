"""Quota check (off by default: the rules grade against fixed lines, never against a forced
distribution). Given a share, it reports whom it would affect and changes nothing:

- ``max_share={"red": 0.10}``: "no more than 10 % red". When more units are red, the red units a
  cap would lift are listed, best score first (the ones above the cap's line);
- ``bottom=0.05``: "the bottom 5 %": the units that would be marked by score, and whether each
  is already orange or red.
"""

from __future__ import annotations

import math

import pandas as pd

from ..rules.grades import GRADE_KEYS


def quota_check(
    table: pd.DataFrame, max_share: dict[str, float] | None = None, bottom: float | None = None
) -> pd.DataFrame:
    """One row per unit a quota would affect: unit_code, unit_name, grade, score, rule, and
    what it would mean. ``table`` is a month's graded table (units without a grade are left
    out of every count)."""
    graded = table[table["grade"].astype(str).isin(GRADE_KEYS)].copy()
    graded["grade"] = graded["grade"].astype(str)
    n = len(graded)
    rows = []
    for grade, share in (max_share or {}).items():
        if grade not in GRADE_KEYS or not 0 <= share <= 1:
            raise ValueError(f"quota {grade}={share}: a grade key and a share in [0, 1]")
        allowed = math.floor(share * n + 1e-9)
        these = graded[graded["grade"] == grade].sort_values("score", ascending=False)
        over = these.iloc[: max(0, len(these) - allowed)]
        for r in over.itertuples():
            rows.append(
                {
                    "unit_code": r.unit_code,
                    "unit_name": getattr(r, "unit_name", ""),
                    "grade": r.grade,
                    "score": r.score,
                    "rule": f"{grade} ≤ {share:.0%}({allowed}/{n})",
                    "effect": "超出名额:按名额会被提出该等级(规则本身不这样做)",
                }
            )
    if bottom is not None:
        if not 0 < bottom < 1:
            raise ValueError(f"bottom={bottom}: a share in (0, 1)")
        k = math.ceil(bottom * n - 1e-9)
        worst = graded.sort_values("score", kind="stable").head(k)
        for r in worst.itertuples():
            already = r.grade in ("orange", "red")
            rows.append(
                {
                    "unit_code": r.unit_code,
                    "unit_name": getattr(r, "unit_name", ""),
                    "grade": r.grade,
                    "score": r.score,
                    "rule": f"末位 {bottom:.0%}({k}/{n})",
                    "effect": "已是橙/红" if already else "按末位名额会被标记(现有等级不是橙/红)",
                }
            )
    return pd.DataFrame(
        rows, columns=["unit_code", "unit_name", "grade", "score", "rule", "effect"]
    )
