"""Fixtures that build an example rule set and data in one call."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from assessment.rules.loader import LoadedRules, parse_rules

pytest_plugins = ["store_fixtures"]  # the `db` fixture: SQLite, and PostgreSQL when configured

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
RULES = ROOT / "rules"
# the sample's 12345 export of each month: the shipped rule sets derive the hotline figures
SAMPLE_EVENTS = [("hotline", p) for p in sorted(SAMPLE.glob("hotline_*.csv"))]

GRADES = {
    "green": {"label": "好", "min_score": 90},
    "blue": {"label": "较好", "min_score": 80},
    "yellow": {"label": "合格", "min_score": 70},
    "orange": {"label": "较差", "min_score": 60},
    "red": {"label": "差"},
}
BASE_RULES: dict = {
    "id": "mini",
    "name": "测试规则",
    "version": "1",
    "grades": GRADES,
    "inputs": [
        {"id": "tickets", "name": "工单总数"},
        {"id": "closed", "name": "按时办结数"},
        {"id": "deaths", "name": "亡人数"},
    ],
    "dimensions": [
        {
            "id": "org",
            "name": "组织建设",
            "weight": 60,
            "indicators": [
                {
                    "id": "attend",
                    "name": "参加率",
                    "weight": 2,
                    "valid_range": [0, 100],
                    "scoring": {"method": "linear", "worst": 80, "best": 100},
                },
                {"id": "held", "name": "按月召开", "weight": 1, "scoring": {"method": "pass_fail"}},
            ],
        },
        {
            "id": "service",
            "name": "服务群众",
            "weight": 40,
            "indicators": [
                {
                    "id": "close_rate",
                    "name": "按时办结率",
                    "weight": 1,
                    "rate": {"numerator": "closed", "denominator": "tickets"},
                    "scoring": {"method": "linear", "worst": 50, "best": 100},
                },
                {
                    "id": "vacancy",
                    "name": "缺额人数",
                    "weight": 1,
                    "scoring": {"method": "deduct", "per": 25},
                },
            ],
        },
    ],
}


def make_rules(patch=None, **top) -> LoadedRules:
    """A small valid rule set; ``patch(dict)`` or keyword arguments change it."""
    data = copy.deepcopy(BASE_RULES)
    data.update(top)
    if patch is not None:
        patch(data)
    return parse_rules(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "mini.yaml")


def make_data(rows: list[dict], period: str = "2026-10") -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if "period" not in df:
        df["period"] = period
    df["unit_code"] = df["unit_code"].astype(str)
    return df


@pytest.fixture
def rules() -> LoadedRules:
    return make_rules()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The fuzz test's example counts (written by the worker that ran it)."""
    import json
    import tempfile

    if hasattr(config, "workerinput"):  # an xdist worker: the controller prints it
        return
    report = Path(tempfile.gettempdir()) / "fivecolor-fuzz.json"
    if report.exists():
        for line in json.loads(report.read_text(encoding="utf-8")):
            terminalreporter.write_line(line)
        report.unlink()
