"""Match the headers organizers write to column ids: by id, name or alias, forgiving spaces,
full-width/half-width forms and letter case."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..rules.models import RuleSet, normalise

KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "unit_code": ("单位代码", "组织代码", "代码", "统计用区划代码", "区划代码", "编码", "单位编码"),
    "unit_name": (
        "单位名称",
        "名称",
        "村社区名称",
        "村/社区",
        "村(社区)",
        "组织名称",
        "党组织名称",
    ),
    "unit_type": ("单位类型", "类型", "组织类型"),
    "parent_code": ("上级代码", "上级单位代码", "父级代码"),
    "period": ("期间", "月份", "考核月份", "统计月份", "年月", "所属月份"),
}
KEY_COLUMNS = tuple(KEY_ALIASES)
TEXT_KEYS = {"unit_code", "unit_name", "unit_type", "parent_code", "period"}
REGISTRY_COLUMNS = ("unit_code", "unit_name", "unit_type", "parent_code")
PERSONAL_DATA = re.compile(
    r"姓名|身份证|证件号|手机|电话|联系方式|住址|家庭地址|出生日期|name$|phone|mobile|id_?card"
)


def header_map(rule_sets: Iterable[RuleSet]) -> dict[str, str]:
    """Normalised header -> column id, for the key columns and every indicator and input."""
    out: dict[str, str] = {}
    for key, aliases in KEY_ALIASES.items():
        for h in (key, *aliases):
            out[normalise(h)] = key
    for rules in rule_sets:
        for col in [*rules.indicators(), *rules.inputs]:
            for h in (col.id, col.name, *col.aliases):
                out.setdefault(normalise(h), col.id)
    return out


def text_headers(mapping: dict[str, str]) -> set[str]:
    """Normalised headers whose column must be read as text (codes keep leading zeros)."""
    return {h for h, col in mapping.items() if col in TEXT_KEYS}


def registry_text_headers() -> set[str]:
    """Normalised headers of a registry's columns, all read as text."""
    return {normalise(h) for key in REGISTRY_COLUMNS for h in (key, *KEY_ALIASES[key])}
