"""Text columns (unit codes, names, periods) kept in Arrow and worked on with its C++ kernels.

pandas 3 stores strings in Arrow; its own ``isin`` and ``str.normalize`` on them loop in Python,
which costs seconds at national scale. These helpers go straight to pyarrow.compute.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pa.large_string()


def to_arrow(values: object) -> pa.Array:
    """Any sequence of strings as one Arrow large_string array (nulls kept)."""
    if isinstance(values, pa.ChunkedArray):
        arr = values.combine_chunks()
    elif isinstance(values, pa.Array):
        arr = values
    elif isinstance(values, pd.Series | pd.Index) and not pd.api.types.is_object_dtype(
        values.dtype
    ):
        arr = pa.array(values)
    else:
        arr = pa.array(np.asarray(values, dtype=object), type=TEXT, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == TEXT else pc.cast(arr, TEXT)


def one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (in place) with each text column in one piece. Frames joined from several
    rule sets hold their text as chunked arrays, and every later lookup by code
    (``to_arrow``) would copy the pieces into one again: six times in the country's warm-up,
    0.04 s each. Columns already whole are left as they are."""
    for name in frame.columns:
        if frame[name].dtype != "str":
            continue
        stored = getattr(frame[name].array, "_pa_array", None)  # None: Python-stored text
        if stored is not None and stored.num_chunks > 1:
            frame[name] = text_series(stored.combine_chunks(), frame.index)
    return frame


def text_series(arr: pa.Array, index: pd.Index | None = None) -> pd.Series:
    """An Arrow array as a pandas Series of the default ``str`` dtype (no copy)."""
    series = pc.cast(arr, TEXT).to_pandas()
    if index is not None:
        series.index = index
    return series


def as_text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pd.Series:
    """Strings with blanks as "" (no NaN), kept in Arrow."""
    if isinstance(values, pd.Series) and pd.api.types.is_numeric_dtype(values.dtype):
        values = values.astype(str)
    return text_series(pc.fill_null(to_arrow(values), ""), _index(values))


# What people type that NFKC folds: full-width ASCII (０-９, Ａ-Ｚ, （）…), the ideographic and
# no-break spaces, circled and other compatibility forms. Plain text skips the (slow) folding.
COMPAT = "[\u00a0\u2000-\u206f\u2150-\u24ff\u3000\u3200-\u33ff\uf900-\ufaff\ufe30-\uffef]"


def clean_text(values: pd.Series | pa.Array | pa.ChunkedArray) -> pd.Series:
    """NFKC (full-width -> half-width) and trimmed; blanks as ""."""
    return text_series(_clean(values), _index(values))


def clean_code(values: pd.Series | pa.Array | pa.ChunkedArray) -> pd.Series:
    """A unit code as text: cleaned, and without the ``.0`` Excel adds to a code typed as a
    number."""
    arr = _clean(values)
    if pc.any(pc.ends_with(arr, ".0")).as_py():
        arr = pc.replace_substring_regex(arr, r"\.0$", "")
    return text_series(arr, _index(values))


def _index(values: object) -> pd.Index | None:
    return values.index if isinstance(values, pd.Series) else None


def _clean(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pd.Series) and not _stringlike(values):
        values = values.astype(str).where(values.notna())
    arr = to_arrow(values)
    data = text_bytes(arr)
    if data.max(initial=0) < 0x80:  # ASCII only (codes, periods): nothing NFKC would fold
        if not ((data >= 0x1C) & (data <= 0x1F)).any():  # the only ASCII the trims tell apart
            return pc.fill_null(pc.ascii_trim_whitespace(arr), "")  # 10x cheaper
    elif COMPAT_LEADS[data].any() and pc.any(pc.match_substring_regex(arr, COMPAT)).as_py():
        arr = pc.utf8_normalize(arr, form="NFKC")
    return pc.fill_null(pc.utf8_trim_whitespace(arr), "")


# The first byte of every COMPAT character in UTF-8 (U+00A0: C2; U+2000-U+24FF: E2; U+3000-
# U+33FF: E3; U+F900-U+FFEF: EF): text without any of them cannot match (Chinese is E4-E9).
COMPAT_LEADS = np.isin(np.arange(256), [0xC2, 0xE2, 0xE3, 0xEF])
CONTROLS = r"[\x00-\x1f\x7f-\x9f]"  # C0, DEL and C1 (U+0080-U+009F: C2 80 to C2 9F)


def control_characters(values: object) -> np.ndarray:
    """For each value: does it hold a control character (C0, DEL, C1)? The bytes are looked
    at first: text without a byte below 0x20, a DEL or a C2 lead byte cannot hold one."""
    arr = to_arrow(values)
    data = text_bytes(arr)
    if data.min(initial=0xFF) >= 0x20 and not ((data == 0x7F) | (data == 0xC2)).any():
        return np.zeros(len(arr), dtype=bool)
    found = pc.match_substring_regex(arr, CONTROLS)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def text_bytes(arr: pa.Array) -> np.ndarray:
    """The bytes of every value of a large_string array, one after another: a view of Arrow's
    buffer, no copy (bytes under a null are included: callers only use it to rule work out)."""
    if len(arr) == 0 or arr.buffers()[2] is None:
        return np.empty(0, dtype=np.uint8)
    offsets = value_offsets(arr)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)
    return data[int(offsets[0]) : int(offsets[-1])]


def value_offsets(arr: pa.Array) -> np.ndarray:
    """Where each value of a string or large_string array starts in its data buffer, and
    where the last ends (``len(arr) + 1`` offsets; a view, no copy)."""
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    return np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]


def member(values: object, universe: object) -> np.ndarray:
    """For each value: is it in ``universe``? (hash join in Arrow)"""
    mask = pc.is_in(to_arrow(values), value_set=to_arrow(universe))  # duplicates are fine
    return mask.to_numpy(zero_copy_only=False)


def positions(values: object, universe: object) -> np.ndarray:
    """For each value: its position in ``universe`` (unique), or -1."""
    values, universe = to_arrow(values), to_arrow(universe)
    index = SortedCodes.of(universe)
    found = None if index is None else index.find_in(values)
    if found is not None:
        return found
    pos = pc.index_in(values, value_set=universe)
    return pc.fill_null(pos, -1).to_numpy(zero_copy_only=False).astype(np.int64)


class SortedCodes:
    """Fixed-width codes searched for many codes at once by a binary search over their bytes
    in place, which beats building a hash table of the whole registry (of equal codes, the
    first is found). Codes of digits only (the bureau's 12-digit division codes) are searched
    as the integers they spell, which keep the bytes' order at one width: numpy compares
    int64 several times faster than 12-byte strings (the country's 665,271 codes: 0.085 s a
    search -> 0.035 s)."""

    def __init__(
        self,
        keys: np.ndarray,
        numbers: np.ndarray | None = None,
        order: np.ndarray | None = None,
    ) -> None:
        self.keys = keys  # ascending
        self.numbers = digit_numbers(keys) if numbers is None else numbers
        self.order = order  # where each key was in the codes given (None: as given)

    @classmethod
    def of(cls, codes: pa.Array) -> SortedCodes | None:
        """For ``codes`` of one width: registries come in code order; a graded month lists its
        rule sets' units one set after another, so digit codes are put in order first (an
        argsort of integers, 0.06 s for the country's 620,000, where the hash table takes
        0.25 s). None when neither applies."""
        keys = fixed_width(codes)
        if keys is None:
            return None
        if is_sorted(codes, strictly=True):
            return cls(keys)
        numbers = digit_numbers(keys)
        if numbers is None:
            return None
        order = np.argsort(numbers, kind="stable")  # equal codes keep their order: the first wins
        return cls(keys[order], numbers[order], order)

    def find_in(self, values: pa.Array) -> np.ndarray | None:
        """The position of each of ``values`` (large_string) among the codes, or -1: values
        of another length (a root's empty parent code), or null, are found nowhere; None when
        a value of the codes' length holds a NUL byte (the caller then joins by hash)."""
        wanted = fixed_width(values)
        if wanted is not None:
            return self.find(wanted)
        fits = pc.fill_null(pc.equal(pc.binary_length(values), self.keys.dtype.itemsize), False)
        fits = fits.to_numpy(zero_copy_only=False)
        out = np.full(len(values), -1, dtype=np.int64)
        if not fits.any():
            return out
        wanted = fixed_width(values.filter(pa.array(fits)))
        if wanted is None:
            return None
        out[fits] = self.find(wanted)
        return out

    def find(self, wanted: np.ndarray) -> np.ndarray:
        """The position of each of ``wanted`` (fixed-width bytes) among the codes, or -1."""
        if wanted.dtype != self.keys.dtype:  # another width: nothing can be equal
            return np.full(len(wanted), -1, dtype=np.int64)
        keys, wanted_keys = self.keys, wanted
        if self.numbers is not None:
            numbers = digit_numbers(wanted)
            if numbers is not None:  # else some code has another byte: compare the bytes
                keys, wanted_keys = self.numbers, numbers
        pos = np.searchsorted(keys, wanted_keys)
        pos[pos == len(keys)] = 0
        found = keys[pos] == wanted_keys
        if self.order is not None:
            pos = self.order[pos]
        return np.where(found, pos, -1).astype(np.int64)


def digit_bytes(fixed: np.ndarray) -> np.ndarray:
    """Fixed-width codes as a (codes, width) matrix of their bytes minus "0": 0-9 for a digit,
    more for any other byte (those below "0" wrap around)."""
    return fixed.view(np.uint8).reshape(len(fixed), fixed.dtype.itemsize) - np.uint8(ord("0"))


def digit_numbers(fixed: np.ndarray) -> np.ndarray | None:
    """Fixed-width codes of ASCII digits only, up to 18 of them, as the int64 they spell; None
    when a byte is anything else (or the codes are longer)."""
    if fixed.dtype.itemsize > 18:
        return None
    digits = digit_bytes(fixed)
    if (digits > 9).any():
        return None
    out = np.zeros(len(fixed), dtype=np.int64)
    for column in digits.T:
        out *= 10
        out += column
    return out


def fixed_width(arr: pa.Array) -> np.ndarray | None:
    """Strings all of one byte length, no nulls, no NUL bytes, as numpy fixed-width bytes
    (a view of Arrow's buffer, no copy); None otherwise."""
    if len(arr) == 0 or arr.null_count or arr.type != TEXT:
        return None
    offsets = value_offsets(arr)
    width = int(offsets[1] - offsets[0])
    if width == 0 or (np.diff(offsets) != width).any():
        return None
    data = text_bytes(arr)
    if not data.all():  # numpy's fixed-width bytes would drop a trailing NUL
        return None
    return data.view(f"S{width}")


def _stringlike(values: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(values.dtype) or values.dtype == object


def distinct(values: object) -> list[str]:
    """The distinct non-null values, as Python strings (for small sets: types, periods)."""
    return [v for v in pc.unique(to_arrow(values)).to_pylist() if v is not None]


def is_sorted(values: object, strictly: bool = False) -> bool:
    """In ascending order (no nulls): one cheap pass, no hash table."""
    arr = to_arrow(values)
    if len(arr) < 2:
        return arr.null_count == 0
    order = pc.less if strictly else pc.less_equal
    return pc.all(order(arr[:-1], arr[1:]), skip_nulls=False).as_py() is True


def has_duplicates(values: object) -> bool:
    arr = to_arrow(values)
    if is_sorted(arr, strictly=True):  # codes exported in order: no hash table needed
        return False
    return len(pc.unique(arr)) < len(arr)  # unique is ~7x faster than count_distinct


def map_distinct(values: pd.Series | pa.ChunkedArray, func) -> pd.Series:
    """Apply ``func`` to each distinct value once and spread the results (e.g. parse periods)."""
    arr = to_arrow(values)
    uniq = pc.unique(arr)
    mapped = pa.array([func(v) for v in uniq.to_pylist()], type=TEXT)
    return text_series(mapped.take(pc.index_in(arr, value_set=uniq)), _index(values))


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1


def printable(text: str) -> str:
    """Text for a terminal: control characters (ANSI escapes among them) shown as U+FFFD."""
    return CONTROL.sub("\ufffd", text)
