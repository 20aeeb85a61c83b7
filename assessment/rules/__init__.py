"""Rule sets: what is graded and how, as the YAML contract of ``RULES_FORMAT.md`` says.

- ``grades``: the five grades (key, label, color), defined once for the whole product
- ``models``: the pydantic models of a rule set
- ``yaml_source``: safe YAML with the line of every node
- ``loader``: load and validate a rule file, every problem at once (``load_rules``)
- ``checks``, ``checks_nodes``, ``checks_sources``: the cross-field checks run on the raw YAML
- ``compiled``: a rule set as arrays for the engine
- ``methods``: the scoring methods (linear, bands, deduct, pass/fail, relative)

May import: ``assessment.problems``. Nothing else of ours: every later stage reads rules.
"""

__all__ = [
    "checks",
    "checks_nodes",
    "checks_sources",
    "compiled",
    "grades",
    "loader",
    "methods",
    "models",
]
