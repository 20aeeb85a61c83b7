"""Registries as the statistics bureau publishes them: 12-digit codes whose level and parent
the code itself says, types read from the official names, long names shortened for tiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assessment.intake.divisions import (
    division_level,
    implied_parent,
    implied_type,
    is_division_code,
    level_name,
    short_name,
)
from assessment.intake.readers import read_table
from assessment.intake.registry import ingest_registry, registry_text_headers

# A slice of the bureau's 2023 codes, as published: code and official name, nothing else.
BUREAU = """统计用区划代码,名称
500000000000,重庆市
500100000000,市辖区
500101000000,万州区
500101001000,高笋塘街道
500101001001,太白社区居民委员会
500101001002,白岩社区居民委员会
500101102000,分水镇
500101102201,石碾村民委员会
500200000000,县
500230000000,丰都县
500230201000,三元乡
500230201200,三元村委会
"""


def ingest(text: str):
    data = text.encode()
    return ingest_registry(read_table(data, "units.csv", text_columns=registry_text_headers()))


def test_a_code_says_its_level_and_its_parent():
    codes = pd.Series(
        ["500000000000", "500100000000", "500101000000", "500101001000", "500101001001", "5001"]
    )
    assert list(is_division_code(codes)) == [True] * 5 + [False]
    assert list(division_level(codes)) == [0, 1, 2, 3, 4, -1]
    assert list(implied_parent(codes)) == [
        "",
        "500000000000",
        "500100000000",
        "500101000000",
        "500101001000",
        "",
    ]


def _reference_parent(code: object) -> str:
    """The rule written out for one code: its last non-zero segment zeroed."""
    if not isinstance(code, str) or len(code) != 12 or not code.isdigit():
        return ""
    ends = [b for a, b in ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12)) if code[a:b].strip("0")]
    if not ends or ends[-1] == 2:
        return ""
    start = {4: 2, 6: 4, 9: 6, 12: 9}[ends[-1]]
    return code[:start] + "0" * (12 - start)


def test_levels_and_parents_of_a_mixed_column_read_from_arrow_match_the_rule_code_by_code():
    codes = [
        "500101001001",
        None,
        "5001",
        "000000000000",
        "500000000000",
        "50010100100X",
        "110105003000",
        "5001010010011",
        "110100000000",
        "",
        "650000000000",
        "500230201200",
    ] * 7
    frame = pd.DataFrame({"code": codes, "other": range(len(codes))})
    part = frame.iloc[5:70]["code"]  # a slice: the Arrow arrays start at an offset
    wanted = [_reference_parent(c) for c in part]
    assert list(implied_parent(part)) == wanted
    for series in (part, part.astype("str"), part.astype(object)):
        assert list(implied_parent(series)) == wanted
        assert list(is_division_code(series)) == [
            isinstance(c, str) and len(c) == 12 and c.isdigit() for c in part
        ]
    level = division_level(part)
    some = np.where(np.arange(len(part)) % 3 == 0, level, -1)  # a caller that needs a third
    assert list(implied_parent(part, some)) == [
        w if i % 3 == 0 else "" for i, w in enumerate(wanted)
    ]


def test_a_bureau_registry_imports_as_published_with_parents_and_types_from_codes_and_names():
    reg = ingest(BUREAU)
    assert reg.ok, [p.render() for p in reg.problems]
    frame = reg.frame.set_index("unit_code")
    assert frame.loc["500000000000", "parent_code"] == ""  # the province is the root
    assert frame.loc["500101001001", "parent_code"] == "500101001000"
    assert frame.loc["500230201200", "parent_code"] == "500230201000"
    assert frame.loc["500230000000", "parent_code"] == "500200000000"  # 重庆's 县, a 市 level
    types = frame["unit_type"].to_dict()
    assert [types[c] for c in ("500000000000", "500100000000", "500101000000")] == [
        "省",
        "市",
        "区",
    ]
    assert types["500230000000"] == "县"
    assert [types[c] for c in ("500101001000", "500101102000", "500230201000")] == [
        "街道",
        "镇",
        "乡",
    ]
    assert [types[c] for c in ("500101001001", "500101102201", "500230201200")] == [
        "社区",
        "村",
        "村",
    ]


def test_an_explicit_parent_and_type_win_and_a_district_s_own_county_stays_its_root():
    text = (
        "unit_code,unit_name,unit_type,parent_code\n"
        "500188000000,某区,区县,\n"  # its city is not in a district's registry: the root
        "500188001000,龙溪街道,,\n"
        "500188001001,银杏苑社区居民委员会,社区,\n"
        "500188001002,锦绣林社区,社区,500188001000\n"
    )
    reg = ingest(text)
    assert reg.ok, [p.render() for p in reg.problems]
    frame = reg.frame.set_index("unit_code")
    assert frame.loc["500188000000", "parent_code"] == ""
    assert frame.loc["500188001000", ["unit_type", "parent_code"]].tolist() == [
        "街道",
        "500188000000",
    ]
    assert frame.loc["500188001001", "parent_code"] == "500188001000"


def test_a_unit_whose_implied_parent_is_missing_below_the_top_is_refused_with_its_row():
    text = BUREAU.replace("500101102000,分水镇\n", "")  # the town is gone, its village is not
    reg = ingest(text)
    assert reg.frame is None
    (problem,) = [p for p in reg.problems if p.code == "unknown_parent"]
    assert problem.row == 8 and "500101102000" in problem.message
    assert "500101102201" in problem.message


def test_a_unit_listed_twice_at_two_levels_is_refused_with_the_row():
    text = BUREAU + "500101000000,万州区\n"  # as 东莞市 is listed as a city and a county
    reg = ingest(text)
    assert reg.frame is None
    assert [(p.code, p.row) for p in reg.problems] == [("duplicate_unit", 14)]


def test_codes_of_another_shape_still_need_the_parent_and_type_columns():
    reg = ingest("单位代码,单位名称\nA1,某区\nA2,某街道\n")
    assert reg.frame is None
    assert sorted(p.column for p in reg.problems if p.code == "missing_column") == [
        "parent_code",
        "unit_type",
    ]


@pytest.mark.parametrize(
    ("long", "short"),
    [
        ("多福巷社区居委会", "多福巷社区"),
        ("太白社区居民委员会", "太白社区"),
        ("石碾村民委员会", "石碾村"),
        ("三元村委会", "三元村"),
        ("高笋塘街道办事处", "高笋塘街道"),
        ("银杏苑社区", "银杏苑社区"),
        ("村民委员会", "村民委员会"),  # nothing left to show: kept whole
    ],
)
def test_official_long_names_have_a_short_form_for_tiles(long, short):
    assert short_name(long) == short


def test_levels_are_named_from_the_types_found_at_them():
    assert level_name({"街道", "镇", "乡"}) == "街道/乡镇"
    assert level_name({"村", "社区"}) == "村/社区"
    assert level_name({"区", "县", "县级市"}) == "区县"
    assert level_name({"省"}) == "省"
    assert level_name({"片区"}) == "片区"  # a type we do not know is named as it is


def test_types_are_read_from_level_and_name():
    names = pd.Series(["某某街道办事处", "某苏木", "某社区居委会", "某嘎查村民委员会", "某市"])
    levels = pd.Series([3, 3, 4, 4, 2]).to_numpy()
    assert list(implied_type(names, levels)) == ["街道", "苏木", "社区", "村", "县级市"]


def test_every_implied_type_has_its_level_and_name():
    cases = [
        (0, "重庆市", "省"),
        (1, "市辖区", "市"),
        (2, "万州区", "区"),
        (2, "城口县", "县"),
        (2, "科尔沁右翼前旗", "旗"),
        (2, "神农架林区", "区"),
        (2, "某特区", "区"),
        (2, "某矿区办", "区县"),
        (3, "龙溪街道", "街道"),
        (3, "太平乡", "乡"),
        (3, "白鹤镇", "镇"),
        (3, "某某地区办事处", "地区办事处"),
        (4, "太白社区居民委员会", "社区"),
        (4, "东风居委会", "社区"),
        (4, "红旗村民委员会", "村"),
        (-1, "某单位", ""),
    ]
    names = pd.Series([n for _, n, _ in cases], index=range(10, 10 + len(cases)))
    types = implied_type(names, np.array([lv for lv, _, _ in cases]))
    assert list(types) == [t for _, _, t in cases]
    assert list(types.index) == list(names.index)
