"""The national statistics bureau's 12-digit division codes (统计用区划代码): 2 digits of
province, 2 of city, 2 of county, 3 of township and 3 of village. A code's level is its last
segment that is not all zeros, and its parent is the code with that segment zeroed, so a
registry exported as the bureau publishes it needs no ``parent_code`` column; its unit types
can be read from the level and the official name (…街道办事处, …镇, …社区居民委员会, …村民委员会).
Vectorised over a whole registry: 665,271 codes are parsed once as integers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .textcols import TEXT, digit_bytes, fixed_width, text_series, to_arrow

SEGMENTS = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))  # province … village
LEVEL_NAMES = ("省", "市", "区县", "街道/乡镇", "村/社区")

# The unit types that make one level, whatever the source calls them (RULES: "镇, 乡, 街道,
# 地区办事处, 苏木 are one level, 村 and 社区 another").
TYPE_LEVEL = {
    **dict.fromkeys(("省", "自治区", "直辖市"), "省"),
    **dict.fromkeys(("市", "地级市", "地区", "自治州", "盟"), "市"),
    **dict.fromkeys(
        ("区县", "区", "县", "县级市", "旗", "自治县", "自治旗", "林区", "特区"), "区县"
    ),
    **dict.fromkeys(("街道", "镇", "乡", "民族乡", "苏木", "民族苏木", "地区办事处"), "街道/乡镇"),
    **dict.fromkeys(("村", "社区", "嘎查", "居委会", "村委会"), "村/社区"),
}

# Official long names and the short form shown where space is short (a tile).
_SHORTER = (
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
    ("嘎查委员会", "嘎查"),
    ("街道办事处", "街道"),
)


def is_division_code(codes: pd.Series) -> np.ndarray:
    """Which codes have the bureau's shape: exactly 12 digits. Codes all of one width (a
    registry's) are read as bytes in place; others go through a regular expression."""
    arr = to_arrow(codes)
    same_width = fixed_width(arr)
    if same_width is not None:
        if same_width.dtype.itemsize != 12:
            return np.zeros(len(arr), dtype=bool)
        return (digit_bytes(same_width) <= 9).all(axis=1)
    shaped = pc.match_substring_regex(arr, r"^[0-9]{12}$")
    return shaped.fill_null(False).to_numpy(zero_copy_only=False)


def division_numbers(codes: pd.Series | pa.Array, shaped: np.ndarray) -> np.ndarray:
    """The codes ``shaped`` picks (12 digits each, see ``is_division_code``) as int64, parsed
    by Arrow in one pass: levels, parents and joins are then integer arithmetic."""
    return pc.cast(to_arrow(codes).filter(pa.array(shaped)), pa.int64()).to_numpy()


# Per level, the value of one unit of its segment and the segment's size: a code's level-k
# segment is ``number // UNIT[k] % SIZE[k]``.
UNIT = np.array([10 ** (12 - b) for _, b in SEGMENTS], dtype=np.int64)
SIZE = np.array([10 ** (b - a) for a, b in SEGMENTS], dtype=np.int64)


def division_level(codes: pd.Series, shaped: np.ndarray | None = None) -> np.ndarray:
    """0 (province) … 4 (village) for 12-digit codes; -1 for other codes or all zeros."""
    shaped = is_division_code(codes) if shaped is None else shaped
    level = np.full(len(codes), -1)
    numbers = division_numbers(codes, shaped)
    inner = np.full(len(numbers), -1)
    for k in range(len(SEGMENTS)):
        inner[numbers // UNIT[k] % SIZE[k] != 0] = k  # the last segment that is not zero
    level[shaped] = inner
    return level


def implied_parent(codes: pd.Series, level: np.ndarray | None = None) -> pd.Series:
    """The parent a 12-digit code names (its last non-zero segment zeroed); "" for a
    province, for a code of another shape, for all zeros, or where ``level`` is -1 (a caller
    that needs a few rows' parents marks the others so). Only those rows' text is made."""
    level = division_level(codes) if level is None else level
    below = level > 0
    numbers = division_numbers(codes, below)
    cut = (UNIT * SIZE)[level[below]]
    parents = pc.utf8_lpad(pc.cast(pa.array(numbers - numbers % cut), TEXT), 12, "0")
    pick = np.zeros(len(codes), dtype=np.int64)  # 0: "", i: the i-th parent made
    pick[below] = np.arange(1, len(parents) + 1)
    every = pa.concat_arrays([pa.array([""], type=TEXT), parents]).take(pick)
    return text_series(every, codes.index)


# The types ``implied_type`` gives, by the index it computes ("" where the level is unknown).
IMPLIED_TYPES = ("", "省", "市", "区", "县", "旗", "县级市", "区县")
IMPLIED_TYPES += ("街道", "苏木", "乡", "镇", "地区办事处", "社区", "村")
_TYPE = {t: i for i, t in enumerate(IMPLIED_TYPES)}


def implied_type(names: pd.Series, level: np.ndarray) -> pd.Series:
    """A unit type read from the level and the official name, for rows that leave the type
    empty: 省 and 市 by level; a county by its name (区, 县, 旗, or 市 for a county-level city);
    a township as 街道, 镇, 乡 or 苏木; a village as 社区 or 村. "" where the level is unknown.
    Each row's type is picked as an index into ``IMPLIED_TYPES`` and the text made once."""
    text = to_arrow(names)
    pick = np.zeros(len(text), dtype=np.int8)

    def where(rows: np.ndarray, tests, types: tuple[str, ...], otherwise: str) -> None:
        part = text.filter(pa.array(rows))
        hits = [test(part).to_numpy(zero_copy_only=False) for test in tests]
        pick[rows] = np.select(hits, [_TYPE[t] for t in types], _TYPE[otherwise])

    def ends(suffix: str):
        return lambda part: pc.ends_with(part, suffix)

    def has(pattern: str):
        return lambda part: pc.match_substring_regex(part, pattern)

    pick[level == 0] = _TYPE["省"]
    pick[level == 1] = _TYPE["市"]
    where(level == 2, [ends(x) for x in "区县旗市"], ("区", "县", "旗", "县级市"), "区县")
    where(
        level == 3,
        [has("街道"), ends("苏木"), ends("乡"), ends("镇")],
        ("街道", "苏木", "乡", "镇"),
        "地区办事处",
    )
    where(level == 4, [has("社区|居委会|居民委员会")], ("社区",), "村")
    types = pc.take(pa.array(IMPLIED_TYPES, type=TEXT), pa.array(pick))
    return text_series(types, names.index)


def short_name(name: str) -> str:
    """The form people use where space is short: 多福巷社区居委会 → 多福巷社区."""
    for long, short in _SHORTER:
        if name.endswith(long) and len(name) > len(long):
            return name[: -len(long)] + short
    return name


def level_name(types: set[str]) -> str:
    """The name of a registry level from the unit types found at it: 街道 and 镇 are one level
    (街道/乡镇), 村 and 社区 another (村/社区); types we do not know are named as they are."""
    known = {TYPE_LEVEL[t] for t in types if t in TYPE_LEVEL}
    unknown = sorted(t for t in types if t not in TYPE_LEVEL)
    names = sorted(known, key=lambda n: LEVEL_NAMES.index(n)) + unknown
    return "/".join(names) if names else "单位"
