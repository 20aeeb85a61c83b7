"""Problems in user input, collected rather than raised one at a time, and the one registry of
their codes.

- ``codes``: every problem code with its severity and meaning (imports nothing)
- ``problem``: the ``Problem`` record and the ``ProblemsError`` that carries them all
- ``collector``: ``ProblemCollector``, which keeps the first of each code and counts the rest
- ``table``: a problem list as a table, and a repeated problem collapsed to one line
- ``settings``: a number set in the environment or a configuration file, read as written
  or refused naming where it was set

The record, the error and the collector are offered here; every other package may import this
one, and it imports none of ours.
"""

from .codes import ERROR, WARNING
from .collector import PER_CODE, ProblemCollector
from .problem import Problem, ProblemsError, errors_only, how_many, sort_problems, tally

__all__ = [
    "ERROR",
    "PER_CODE",
    "WARNING",
    "Problem",
    "ProblemCollector",
    "ProblemsError",
    "errors_only",
    "how_many",
    "sort_problems",
    "tally",
]
