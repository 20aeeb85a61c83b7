"""The unit registry: unit_code, unit_name, unit_type, parent_code (empty for the root)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..problems import Problem, ProblemCollector, errors_only
from .divisions import (
    division_level,
    division_numbers,
    implied_parent,
    implied_type,
    is_division_code,
)
from .headers import (
    KEY_ALIASES,
    REGISTRY_COLUMNS,
    normalise,
    registry_text_headers,  # noqa: F401 (callers find it beside ingest_registry)
)
from .readers import RawTable
from .textcols import (
    clean_code,
    clean_text,
    control_characters,
    has_duplicates,
    member,
    positions,
    printable,
    text_series,
    to_arrow,
)

MERGED_ALIASES = ("并入单位代码", "并入", "合并至", "合并到")


@dataclass
class Registry:
    frame: pd.DataFrame | None  # the active units
    problems: list[Problem] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # retired code -> the unit it joined

    @property
    def ok(self) -> bool:
        return self.frame is not None and not errors_only(self.problems)


def leaf_mask(registry: pd.DataFrame, types: Iterable[str] | None = None) -> np.ndarray:
    """Per registry row: is it a unit nobody reports to (村/社区, the graded ones), of
    ``types`` when given?"""
    leaf = ~member(registry["unit_code"], registry["parent_code"])
    return leaf if types is None else leaf & member(registry["unit_type"], list(types))


def leaf_units(registry: pd.DataFrame, types: Iterable[str] | None = None) -> pd.DataFrame:
    """The units nobody reports to (村/社区): the ones that are graded. Optionally of ``types``."""
    return registry[leaf_mask(registry, types)]


def _orphans(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose parent_code is not a unit of the registry. The few distinct parents are
    looked up among the codes, not every row's parent in a hash table of every code."""
    parents = pc.unique(to_arrow(frame["parent_code"]))
    parents = parents.filter(pc.not_equal(parents, ""))
    codes = to_arrow(frame["unit_code"])
    registered = pc.unique(codes.filter(member(codes, parents)))
    return member(frame["parent_code"], parents.filter(pc.invert(pc.is_in(parents, registered))))


def _cyclic(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose chain of parents never reaches a top unit (a unit that is its own parent, or
    a loop, and everything hanging below one): by pointer doubling, log2(n) vectorised steps.
    A parent missing from the registry counts as a top here (``unknown_parent`` reports it)."""
    parents = to_arrow(frame["parent_code"])
    falling = pc.or_(pc.equal(parents, ""), pc.less(parents, to_arrow(frame["unit_code"])))
    if pc.all(falling).as_py():  # every parent's code sorts before its child's (division
        return np.zeros(len(frame), dtype=bool)  # codes): chains only fall, none can loop
    up = positions(frame["parent_code"], frame["unit_code"])  # parent's row, or -1
    for _ in range(max(1, len(up)).bit_length() + 1):
        up = np.where(up >= 0, up[np.maximum(up, 0)], -1)
    return up >= 0


def ingest_registry(raw: RawTable) -> Registry:
    """The registry file as a frame of active units, or every problem in it: a short sequence
    of named checks, each one vectorised pass."""
    if raw.table is None:
        return Registry(None, list(raw.problems))
    roster = _Roster(raw)
    if not _find_columns(roster):
        return roster.rejected()
    _read_frame(roster)
    for check in (
        _imply_from_codes,
        _check_codes,
        _check_parents,
        _check_text,
        _check_root,
        _check_merges,
    ):
        check(roster)
    return roster.rejected() if errors_only(roster.problems) else roster.accepted()


class _Roster:
    """The registry file as the checks see it."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw
        self.problems = ProblemCollector(raw.problems)
        self.found: dict[str, int] = {}  # key -> column position (headers may repeat)
        self.frame = pd.DataFrame()
        self.codes: pd.Series | None = None  # unit codes cleaned, when a check needed them early
        self.shaped: np.ndarray | None = None  # which of them are 12-digit division codes

    @property
    def rows(self) -> pd.Index:
        return self.frame.index + 2

    @property
    def merging(self) -> np.ndarray:
        return (self.frame["merged_into"] != "").to_numpy()

    def add(self, code, message, at=None, column="", value="", row=None) -> None:
        """A problem at frame position ``at`` (or at spreadsheet ``row``, e.g. 1: the header)."""
        if self.problems.full(code):
            return
        row = row if at is None else int(self.rows[at])
        self.problems.append(
            Problem(code, message, self.raw.file, row=row, column=column, value=value)
        )

    def rejected(self) -> Registry:
        return Registry(None, self.problems.finished(self.raw.file))

    def accepted(self) -> Registry:
        frame, merging = self.frame, self.merging
        merged = dict(
            zip(frame.loc[merging, "unit_code"], frame.loc[merging, "merged_into"], strict=True)
        )
        active = frame.loc[~merging, list(REGISTRY_COLUMNS)].reset_index(drop=True)
        return Registry(active, self.problems.finished(self.raw.file), merged)


def _find_columns(roster: _Roster) -> bool:
    lookup = {normalise(h): key for key in REGISTRY_COLUMNS for h in (key, *KEY_ALIASES[key])}
    lookup |= {normalise(h): "merged_into" for h in ("merged_into", *MERGED_ALIASES)}
    for i, header in enumerate(roster.raw.table.column_names):
        key = lookup.get(normalise(header))
        if key and key not in roster.found:
            roster.found[key] = i
    missing = [k for k in REGISTRY_COLUMNS if k not in roster.found]
    implied = [k for k in missing if k in IMPLIED]
    if implied and "unit_code" in roster.found and _all_division_codes(roster):
        missing = [k for k in missing if k not in IMPLIED]  # read from the codes and names
    for k in missing:
        roster.add(
            "missing_column",
            f"单位名册缺少“{k}”列(可用中文表头: {'、'.join(KEY_ALIASES[k][:3])})",
            column=k,
            row=1,
        )
    return not missing


IMPLIED = ("unit_type", "parent_code")  # a registry of 12-digit division codes may omit them


def _all_division_codes(roster: _Roster) -> bool:
    roster.codes = clean_code(roster.raw.table.column(roster.found["unit_code"]))
    roster.shaped = is_division_code(roster.codes)
    return bool(len(roster.codes)) and bool(roster.shaped.all())


def _read_frame(roster: _Roster) -> None:
    codes = ("unit_code", "parent_code", "merged_into")
    table, found = roster.raw.table, roster.found
    roster.frame = pd.DataFrame(
        {
            k: roster.codes
            if k == "unit_code" and roster.codes is not None
            else (clean_code if k in codes else clean_text)(table.column(i))
            for k, i in found.items()
        }
    )
    for k in ("merged_into", *IMPLIED):
        if k not in roster.frame:
            roster.frame[k] = ""


def _imply_from_codes(roster: _Roster) -> None:
    """Rows with 12-digit division codes and no parent take the parent their code names, when
    the registry lists it; a row at the registry's top level stays a root (a district's own
    county), one below it whose implied parent is missing is refused. Rows without a type
    take the one their level and official name say. Whole columns at a time: a registry as
    the bureau publishes it leaves every row's parent and type to be read."""
    frame = roster.frame
    blank_parent = (frame["parent_code"] == "").to_numpy()
    blank_type = (frame["unit_type"] == "").to_numpy()
    if not (blank_parent | blank_type).any():  # a registry that names every parent and type
        return
    codes = frame["unit_code"]
    every = roster.shaped if roster.shaped is not None else is_division_code(codes)
    shaped = every & (blank_parent | blank_type)
    if not shaped.any():
        return
    level = division_level(codes, shaped)
    no_type = shaped & blank_type
    if no_type.any():
        frame["unit_type"] = _filled(
            frame["unit_type"], no_type, implied_type(frame["unit_name"], level)
        )
    orphan = shaped & blank_parent & (level > 0)
    if not orphan.any():
        return
    implied = implied_parent(codes, np.where(orphan, level, -1))  # only the rows it fills
    listed = np.zeros(len(frame), dtype=bool)  # the implied parents the registry lists
    listed[orphan] = _among(division_numbers(implied, orphan), division_numbers(codes, every))
    frame["parent_code"] = _filled(frame["parent_code"], orphan & listed, implied)
    top = level[shaped & blank_parent].min()  # the level of the registry's roots
    for i in roster.problems.first("unknown_parent", orphan & ~listed & (level > top)):
        roster.add(
            "unknown_parent",
            f"上级单位 {implied.iat[i]}(由单位代码 {codes.iat[i]} 推出)不在名册中:"
            "请补上这一级单位,或在“上级代码”列写明上级",
            i,
            "unit_code",
            codes.iat[i],
        )


def _among(wanted: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """For each wanted number: is it one of ``numbers``? (a binary search; a registry comes
    in code order, so sorting it is one pass)"""
    numbers = np.sort(numbers)
    at = np.minimum(np.searchsorted(numbers, wanted), max(len(numbers) - 1, 0))
    return numbers[at] == wanted if len(numbers) else np.zeros(len(wanted), dtype=bool)


def _filled(column: pd.Series, where: np.ndarray, values: pd.Series) -> pd.Series:
    """``column`` with ``values`` in the rows ``where`` says, as one new column (assigning
    into 600,000 rows of a text column in place costs several times as much)."""
    mixed = pc.if_else(pa.array(where), to_arrow(values), to_arrow(column))
    return text_series(mixed, column.index)


def _check_codes(roster: _Roster) -> None:
    """Every unit has a code, and only one row."""
    codes = roster.frame["unit_code"]
    for i in roster.problems.first("empty_code", (codes == "").to_numpy()):
        roster.add("empty_code", "单位代码为空", i, "unit_code")
    if not has_duplicates(codes):  # the common case (none) costs one hash pass
        return
    repeated = (codes.duplicated() & (codes != "")).to_numpy()
    for i in roster.problems.first("duplicate_unit", repeated):
        code = codes.iat[i]
        roster.add(
            "duplicate_unit",
            f"单位代码 {code} 重复:每个单位只能登记一次",
            i,
            "unit_code",
            code,
        )


def _check_parents(roster: _Roster) -> None:
    """Every parent is a registered unit, and every chain of parents reaches a top unit."""
    frame = roster.frame
    for i in roster.problems.first("unknown_parent", _orphans(frame)):
        parent = frame["parent_code"].iat[i]
        roster.add(
            "unknown_parent",
            f"上级代码 {parent} 不在名册中:请先登记上级单位,或改正代码",
            i,
            "parent_code",
            parent,
        )
    for i in roster.problems.first("parent_cycle", _cyclic(frame)):
        code, parent = frame["unit_code"].iat[i], frame["parent_code"].iat[i]
        roster.add(
            "parent_cycle",
            f"单位 {code} 是自己的上级"
            if code == parent
            else f"单位 {code} 的上级链(上级 {parent})绕回了自身,到不了顶级单位",
            i,
            "parent_code",
            parent,
        )


def _check_text(roster: _Roster) -> None:
    """Names and types hold no control characters (they reach terminals and spreadsheets), and
    every unit has a type."""
    frame = roster.frame
    for column in ("unit_name", "unit_type"):
        for i in roster.problems.first("control_characters", control_characters(frame[column])):
            roster.add(
                "control_characters",
                "含有控制字符(如换行、NUL 或终端转义符):请删除后重新导入",
                i,
                column,
                printable(frame[column].iat[i]),
            )
    for i in roster.problems.first("empty_type", (frame["unit_type"] == "").to_numpy()):
        roster.add("empty_type", "单位类型为空(如 区县、街道、乡镇、社区、村)", i, "unit_type")


def _check_root(roster: _Roster) -> None:
    frame = roster.frame
    if len(frame) and not (frame["parent_code"] == "").any():
        roster.add("no_root", "名册中没有顶级单位(上级代码为空的那一行,如区县)")


def _check_merges(roster: _Roster) -> None:
    """A merged unit joins a unit still in the registry, and nobody reports to a merged one
    (the hash joins run only when a merge is declared)."""
    frame, merging = roster.frame, roster.merging
    if not merging.any():
        return
    active = frame[~merging]
    bad_target = merging & ~member(frame["merged_into"], active["unit_code"])
    for i in roster.problems.first("unknown_merge_target", bad_target):
        target = frame["merged_into"].iat[i]
        roster.add(
            "unknown_merge_target",
            f"并入单位 {target} 不在名册的现有单位中:被合并的单位须并入一个仍在册的单位",
            i,
            "merged_into",
            target,
        )
    orphans = np.zeros(len(frame), bool)
    orphans[np.flatnonzero(~merging)] = member(
        active["parent_code"], frame.loc[merging, "unit_code"]
    )
    for i in roster.problems.first("parent_merged", orphans):
        parent = frame["parent_code"].iat[i]
        roster.add(
            "parent_merged",
            f"上级单位 {parent} 已被合并:请改为合并后的上级代码",
            i,
            "parent_code",
            parent,
        )
