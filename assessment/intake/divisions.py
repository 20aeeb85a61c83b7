"""The national statistics bureau's 12-digit division codes (统计用区划代码): 2 digits of
province, 2 of city, 2 of county, 3 of township and 3 of village. A code's level is its last
segment that is not all zeros, and its parent is the code with that segment zeroed, so a
registry exported as the bureau publishes it needs no ``parent_code`` column; its unit types
can be read from the level and the official name (…街道办事处, …镇, …社区居民委员会, …村民委员会).
Vectorised over a whole registry: 665,271 codes take one pass of string slicing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .textcols import text_series, to_arrow

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
    """Which codes have the bureau's shape: exactly 12 digits."""
    shaped = pc.match_substring_regex(to_arrow(codes), r"^[0-9]{12}$")
    return shaped.fill_null(False).to_numpy(zero_copy_only=False)


def _digits(codes: pd.Series, shaped: np.ndarray) -> np.ndarray:
    """The shaped codes as a (n, 12) matrix of digit values: the bytes of Arrow's string
    buffer, 12 a code, read in place (no Python string per code)."""
    picked = pc.filter(to_arrow(codes), pa.array(shaped))
    offsets = np.frombuffer(picked.buffers()[1], dtype=np.int64)[
        picked.offset : picked.offset + len(picked) + 1
    ]
    data = np.frombuffer(picked.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return (data.reshape(-1, 12) - ord("0")).astype(np.int8)


def division_level(codes: pd.Series, shaped: np.ndarray | None = None) -> np.ndarray:
    """0 (province) … 4 (village) for 12-digit codes; -1 for other codes or all zeros."""
    shaped = is_division_code(codes) if shaped is None else shaped
    level = np.full(len(codes), -1)
    digits = _digits(codes, shaped)
    inner = np.full(len(digits), -1)
    for k, (a, b) in enumerate(SEGMENTS):
        inner = np.where(digits[:, a:b].any(axis=1), k, inner)
    level[shaped] = inner
    return level


def implied_parent(codes: pd.Series, level: np.ndarray | None = None) -> pd.Series:
    """The parent a 12-digit code names (its last non-zero segment zeroed); "" for a
    province, for a code of another shape, or for all zeros."""
    level = division_level(codes) if level is None else level
    below = level > 0
    digits = _digits(codes, below) + ord("0")
    cut = np.array([a for a, _ in SEGMENTS])[level[below]]
    digits[np.arange(12)[None, :] >= cut[:, None]] = ord("0")
    # every row's text: 12 digits where a parent is implied, "" elsewhere, as one Arrow array
    lengths = np.where(below, 12, 0)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    data = pa.py_buffer(digits.astype(np.uint8).tobytes())
    parents = pa.LargeStringArray.from_buffers(len(codes), pa.py_buffer(offsets), data)
    return text_series(parents, codes.index)


def implied_type(names: pd.Series, level: np.ndarray) -> pd.Series:
    """A unit type read from the level and the official name, for rows that leave the type
    empty: 省 and 市 by level; a county by its name (区, 县, 旗, or 市 for a county-level city);
    a township as 街道, 镇, 乡 or 苏木; a village as 社区 or 村. "" where the level is unknown."""
    out = pd.Series("", index=names.index, dtype=object)
    out[level == 0] = "省"
    out[level == 1] = "市"
    county = level == 2
    out[county] = np.select(
        [names[county].str.endswith(s).to_numpy(dtype=bool) for s in ("区", "县", "旗", "市")],
        ["区", "县", "旗", "县级市"],
        "区县",
    )
    town = level == 3
    town_names = names[town]
    out[town] = np.select(
        [
            town_names.str.contains("街道").to_numpy(dtype=bool),
            town_names.str.endswith("苏木").to_numpy(dtype=bool),
            town_names.str.endswith("乡").to_numpy(dtype=bool),
            town_names.str.endswith("镇").to_numpy(dtype=bool),
        ],
        ["街道", "苏木", "乡", "镇"],
        "地区办事处",
    )
    village = level == 4
    out[village] = np.where(
        names[village].str.contains("社区|居委会|居民委员会").to_numpy(dtype=bool), "社区", "村"
    )
    return out


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
