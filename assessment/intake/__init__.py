"""Intake: a file from outside becomes a checked table, or a list of every problem in it.

- ``limits``: size, row, column and cell limits, checked before parsing
- ``readers``: CSV (UTF-8, BOM, GB18030) and .xlsx to Arrow, exactly as written
- ``headers``: the headers people write matched to column ids
- ``numbers``: cells read as numbers exactly as meant, or refused
- ``textcols``: text columns (codes, names, periods) kept in Arrow
- ``parallel``: a loop over columns on every core (numbers here, scores in grading)
- ``registry``: the unit registry (the hierarchy of units)
- ``ingest``: a monthly table's named checks, all problems at once
- ``events``: another system's export (one row per event) read as its rule-set source says
- ``derive``: columns computed from a source's events per unit (count, share, mean, …)
- ``jumps``: values far from last month's
- ``inputs``: rule files, registry and monthly files loaded and checked together
- ``sample_district``: the seeded generator of the bundled sample district

May import: ``assessment.problems``, ``assessment.rules``.
"""

__all__ = [
    "derive",
    "events",
    "headers",
    "ingest",
    "inputs",
    "jumps",
    "limits",
    "numbers",
    "parallel",
    "readers",
    "registry",
    "sample_district",
    "textcols",
]
