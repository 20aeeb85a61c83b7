"""The unit registry: unit_code, unit_name, unit_type, parent_code (empty for the root)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .headers import KEY_ALIASES, normalise
from .problems import ERROR, Problem, ProblemCollector, errors_only
from .readers import RawTable
from .textcols import (
    clean_code,
    clean_text,
    has_duplicates,
    member,
    positions,
    printable,
    to_arrow,
)

REGISTRY_COLUMNS = ("unit_code", "unit_name", "unit_type", "parent_code")
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
    up = positions(frame["parent_code"], frame["unit_code"])  # parent's row, or -1
    for _ in range(max(1, len(up)).bit_length() + 1):
        up = np.where(up >= 0, up[np.maximum(up, 0)], -1)
    return up >= 0


def registry_text_headers() -> set[str]:
    return {normalise(h) for key in REGISTRY_COLUMNS for h in (key, *KEY_ALIASES[key])}


def ingest_registry(raw: RawTable) -> Registry:
    if raw.table is None:
        return Registry(None, list(raw.problems))
    file = raw.file
    problems = ProblemCollector(raw.problems)

    def add(code: str, message: str, row: int | None = None, column: str = "", value: str = ""):
        if problems.full(code):
            return
        problems.append(
            Problem(code, message, file, row=row, column=column, value=value, severity=ERROR)
        )

    lookup = {normalise(h): key for key in REGISTRY_COLUMNS for h in (key, *KEY_ALIASES[key])}
    lookup |= {normalise(h): "merged_into" for h in ("merged_into", *MERGED_ALIASES)}
    found: dict[str, int] = {}  # key -> column position (headers may repeat)
    for i, header in enumerate(raw.table.column_names):
        key = lookup.get(normalise(header))
        if key and key not in found:
            found[key] = i
    missing = [k for k in REGISTRY_COLUMNS if k not in found]
    for k in missing:
        add(
            "missing_column",
            f"单位名册缺少“{k}”列(可用中文表头: {'、'.join(KEY_ALIASES[k][:3])})",
            row=1,
            column=k,
        )
    if missing:
        return Registry(None, problems.finished(file))
    columns = [*REGISTRY_COLUMNS, *(["merged_into"] if "merged_into" in found else [])]
    codes = ("unit_code", "parent_code", "merged_into")
    frame = pd.DataFrame(
        {k: (clean_code if k in codes else clean_text)(raw.table.column(found[k])) for k in columns}
    )
    if "merged_into" not in frame:
        frame["merged_into"] = ""
    rows = frame.index + 2
    for i in frame.index[frame["unit_code"] == ""]:
        add("empty_code", "单位代码为空", row=int(rows[i]), column="unit_code")
    repeated = []
    if has_duplicates(frame["unit_code"]):  # the common case (none) costs one hash pass
        repeated = frame.index[frame["unit_code"].duplicated() & (frame["unit_code"] != "")]
    for i in repeated:
        code = frame["unit_code"].iat[i]
        add(
            "duplicate_unit",
            f"单位代码 {code} 重复:每个单位只能登记一次",
            row=int(rows[i]),
            column="unit_code",
            value=code,
        )
    for i in frame.index[_orphans(frame)]:
        parent = frame["parent_code"].iat[i]
        add(
            "unknown_parent",
            f"上级代码 {parent} 不在名册中:请先登记上级单位,或改正代码",
            row=int(rows[i]),
            column="parent_code",
            value=parent,
        )
    for i in frame.index[_cyclic(frame)]:
        code, parent = frame["unit_code"].iat[i], frame["parent_code"].iat[i]
        add(
            "parent_cycle",
            f"单位 {code} 是自己的上级"
            if code == parent
            else f"单位 {code} 的上级链(上级 {parent})绕回了自身,到不了顶级单位",
            row=int(rows[i]),
            column="parent_code",
            value=parent,
        )
    for column in ("unit_name", "unit_type"):
        controls = pc.match_substring_regex(to_arrow(frame[column]), r"[\x00-\x1f\x7f-\x9f]")
        for i in np.flatnonzero(controls.to_numpy(zero_copy_only=False)):
            add(
                "control_characters",
                "含有控制字符(如换行、NUL 或终端转义符):请删除后重新导入",
                row=int(rows[i]),
                column=column,
                value=printable(frame[column].iat[i]),
            )
    for i in frame.index[frame["unit_type"] == ""]:
        add(
            "empty_type",
            "单位类型为空(如 区县、街道、乡镇、社区、村)",
            row=int(rows[i]),
            column="unit_type",
        )
    if (frame["parent_code"] == "").sum() == 0 and len(frame):
        add("no_root", "名册中没有顶级单位(上级代码为空的那一行,如区县)")
    merging = (frame["merged_into"] != "").to_numpy()
    active = frame[~merging]
    if merging.any():  # the hash joins below only when a merge is declared
        bad_target = merging & ~member(frame["merged_into"], active["unit_code"])
        for i in frame.index[bad_target]:
            target = frame["merged_into"].iat[i]
            add(
                "unknown_merge_target",
                f"并入单位 {target} 不在名册的现有单位中:被合并的单位须并入一个仍在册的单位",
                row=int(rows[i]),
                column="merged_into",
                value=target,
            )
        orphans = member(active["parent_code"], frame.loc[merging, "unit_code"])
        for i in active.index[orphans]:
            add(
                "parent_merged",
                f"上级单位 {active['parent_code'].at[i]} 已被合并:请改为合并后的上级代码",
                row=int(rows[i]),
                column="parent_code",
                value=active["parent_code"].at[i],
            )
    if errors_only(problems):
        return Registry(None, problems.finished(file))
    merged = dict(
        zip(frame.loc[merging, "unit_code"], frame.loc[merging, "merged_into"], strict=True)
    )
    return Registry(
        active[list(REGISTRY_COLUMNS)].reset_index(drop=True), problems.finished(file), merged
    )
