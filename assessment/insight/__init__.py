"""Insight: what a graded month means for the people who act on it.

- ``explain``: why a unit has its color, and the path to the next grade
- ``explanation``: what an explanation holds, and the same in words
- ``plans``: the fewest indicators that lift a unit to the next grade, proved by re-grading
- ``followups``: suggested follow-ups (处理意见) and whether next month cleared them
- ``stability``, ``sensitivity``: grades under other weights, and a weight change's effect
- ``forecast``: next month's score and the backtest
- ``peers``: fair comparison among units of like size
- ``rollup``, ``trends``, ``worklist``, ``quota``: parents' roll-ups, months over time, the
  red/orange list, the share check

May import: ``assessment.problems``, ``assessment.rules``, ``assessment.intake``,
``assessment.grading``.
"""

__all__ = [
    "explain",
    "explanation",
    "followups",
    "forecast",
    "peers",
    "plans",
    "quota",
    "rollup",
    "sensitivity",
    "stability",
    "trends",
    "worklist",
]
