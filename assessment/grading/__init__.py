"""Grading: rule sets applied to a month's values, vectorised over every unit.

- ``scoring``: indicator, dimension and total scores as numpy matrices
- ``reasons``: the vetoes, floors and escalation that lowered a grade
- ``engine``: one district's months graded in order (``assess``), the ``Assessment``
- ``graded``: checked inputs graded, and the graded table written out

May import: ``assessment.problems``, ``assessment.rules``, ``assessment.intake``.
"""

__all__ = ["engine", "graded", "reasons", "scoring"]
