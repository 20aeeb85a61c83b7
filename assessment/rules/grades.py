"""The one definition of the five grades: order, key, label and color.

Everything that shows or compares a grade (engine, CLI, charts, badges, legend) uses this table.
"""

from __future__ import annotations

from enum import Enum

MISSING_LABEL = "数据不全"
MISSING_HEX = "#9e9e9e"


class Grade(Enum):
    """The five grades, best first. ``rank`` 0 is the best; a larger rank is a worse grade."""

    GREEN = ("green", "好", "#2e9d48", "绿")
    BLUE = ("blue", "较好", "#2f6fd0", "蓝")
    YELLOW = ("yellow", "合格", "#f2c200", "黄")
    ORANGE = ("orange", "较差", "#f07c19", "橙")
    RED = ("red", "差", "#d7261e", "红")

    def __init__(self, key: str, label: str, hex_color: str, color_name: str) -> None:
        self.key = key
        self.label = label
        self.hex = hex_color
        self.color_name = color_name

    @property
    def rank(self) -> int:
        return GRADE_ORDER.index(self)

    @classmethod
    def from_key(cls, key: str) -> Grade:
        return _BY_KEY[key]

    def display(self) -> str:
        """Color with its label, never a color alone: ``绿·好``."""
        return f"{self.color_name}·{self.label}"


GRADE_ORDER: tuple[Grade, ...] = tuple(Grade)
GRADE_KEYS: tuple[str, ...] = tuple(g.key for g in GRADE_ORDER)
_BY_KEY = {g.key: g for g in GRADE_ORDER}


def legend() -> list[tuple[str, str, str]]:
    """(key, text, hex) for the five grades and 数据不全, in display order: one place for charts,
    badges and legends alike."""
    return [(g.key, g.display(), g.hex) for g in GRADE_ORDER] + [("", MISSING_LABEL, MISSING_HEX)]


def display(key: str) -> str:
    """``绿·好`` for a grade key; 数据不全 for ""."""
    return Grade.from_key(key).display() if key else MISSING_LABEL
