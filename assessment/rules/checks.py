"""Cross-field checks of a rule set, run on the raw YAML data.

They run whatever the structural validation found, so a file with a bad weight *and* a veto naming
a missing column reports both. Each check skips values of the wrong type: the structural pass
(pydantic) reports those. Paths are YAML paths as tuples; the loader adds file and line. This
module holds the checks across the whole file (grades, ids, headers, follow-ups) and runs the
checks of each node, which ``checks_nodes`` holds.
"""

from __future__ import annotations

import string

from .checks_nodes import (
    Found,
    PathKey,
    check_dimension,
    check_escalation,
    check_indicator,
    check_range,
    check_veto,
    fmt_path,
    items,
    num,
    some_names,
    walk_dimensions,
    walk_indicators,
)
from .checks_sources import check_sources
from .grades import GRADE_KEYS
from .models import normalise

PLACEHOLDERS = {
    "unit_name",
    "unit_code",
    "period",
    "value",
    "score",
    "indicator_name",
    "dimension_name",
    "grade_label",
    "due_date",
    "owner",
    "veto_name",
}


def check_rule_data(data: object) -> list[Found]:
    if not isinstance(data, dict):
        return []
    found: list[Found] = []
    found += _check_grades(data.get("grades"))
    found += _check_ids(data)
    found += _check_headers(data)
    columns = _column_ids(data)
    for path, dim in walk_dimensions(data):
        found += check_dimension(path, dim)
    for path, ind in walk_indicators(data):
        found += check_indicator(path, ind, columns)
    for i, inp in items(data, "inputs"):
        found += check_range(("inputs", i), inp.get("valid_range"))
    for i, veto in items(data, "vetoes"):
        found += check_veto(("vetoes", i), veto, columns)
    peers = data.get("peers")
    for i, col in enumerate(peers if isinstance(peers, list) else []):  # the model checks the type
        if isinstance(col, str) and col not in columns:
            found.append(
                (
                    ("peers", i),
                    "unknown_input",
                    f"peers 引用的列“{col}”不存在:请使用 inputs 中声明的列(如户数、党员人数)",
                    col,
                )
            )
    for i, rule in items(data, "escalation"):
        found += check_escalation(("escalation", i), rule)
    found += _check_follow_ups(data)
    found += check_sources(data)
    return found


def _column_ids(data: dict) -> set[str]:
    ids = {ind.get("id") for _, ind in walk_indicators(data)}
    ids |= {inp.get("id") for _, inp in items(data, "inputs")}
    return {i for i in ids if isinstance(i, str)}


def _check_grades(grades: object) -> list[Found]:
    if not isinstance(grades, dict):
        return []
    found: list[Found] = []
    keys = [k for k in grades if k in GRADE_KEYS]
    if keys != [k for k in GRADE_KEYS if k in keys]:
        found.append(
            (
                ("grades",),
                "grades_order",
                f"等级须按从好到差的顺序书写: {', '.join(GRADE_KEYS)};现在的顺序是 {', '.join(keys)}",
                ", ".join(keys),
            )
        )
    for key in GRADE_KEYS[:-1]:
        band = grades.get(key)
        if isinstance(band, dict) and "min_score" not in band:
            found.append(
                (
                    ("grades", key, "min_score"),
                    "missing_field",
                    f"{key} 缺少 min_score(达到该等级的最低分)",
                    "",
                )
            )
    red = grades.get("red")
    if isinstance(red, dict) and "min_score" in red:
        found.append(
            (
                ("grades", "red", "min_score"),
                "red_min_score",
                "red(差)不设 min_score:低于 orange.min_score 的都是差。请删除这一项",
                red["min_score"],
            )
        )
    previous: tuple[str, float] | None = None
    for key in GRADE_KEYS[:-1]:
        band = grades.get(key)
        score = num(band.get("min_score")) if isinstance(band, dict) else None
        if score is None:
            continue
        if previous is not None and score >= previous[1]:
            found.append(
                (
                    ("grades", key, "min_score"),
                    "grades_not_decreasing",
                    f"{key}.min_score = {score:g} 必须小于 {previous[0]}.min_score = "
                    f"{previous[1]:g}(分数线须从 green 到 orange 严格递减)",
                    score,
                )
            )
        previous = (key, score)
    return found


def _check_ids(data: dict) -> list[Found]:
    """Dimension, indicator and input ids share one namespace (columns and score.<id>)."""
    found: list[Found] = []
    seen: dict[str, PathKey] = {}
    places = [(p, d) for p, d in walk_dimensions(data)]
    places += list(walk_indicators(data))
    places += [(("inputs", i), inp) for i, inp in items(data, "inputs")]
    for path, node in places:
        node_id = node.get("id")
        if not isinstance(node_id, str):
            continue
        if node_id in seen:
            found.append(
                (
                    (*path, "id"),
                    "duplicate_id",
                    f"id“{node_id}”重复:已在 {fmt_path(seen[node_id])} 使用。维度、指标和输入列的 id "
                    "必须各不相同",
                    node_id,
                )
            )
        else:
            seen[node_id] = path
    veto_seen: dict[str, PathKey] = {}
    for i, veto in items(data, "vetoes"):
        vid = veto.get("id")
        if isinstance(vid, str):
            if vid in veto_seen:
                found.append(
                    (
                        ("vetoes", i, "id"),
                        "duplicate_id",
                        f"否决项 id“{vid}”重复:已在 {fmt_path(veto_seen[vid])} 使用",
                        vid,
                    )
                )
            veto_seen.setdefault(vid, ("vetoes", i))
    return found


def _check_headers(data: dict) -> list[Found]:
    """Every column's id, name and aliases are headers an upload may use: one header must not
    name two columns (an alias equal to another indicator's name sent its values astray)."""
    found: list[Found] = []
    owner: dict[str, tuple[str, PathKey]] = {}
    places = list(walk_indicators(data)) + [(("inputs", i), n) for i, n in items(data, "inputs")]
    for path, node in places:
        column = node.get("id")
        aliases = node.get("aliases") if isinstance(node.get("aliases"), list) else []
        for key, text in [("id", column), ("name", node.get("name"))] + [
            (("aliases", k), a) for k, a in enumerate(aliases)
        ]:
            if not isinstance(text, str) or not isinstance(column, str):
                continue
            header = normalise(text)
            where = (*path, *(key if isinstance(key, tuple) else (key,)))
            if header in owner and owner[header][0] != column:
                found.append(
                    (
                        where,
                        "ambiguous_header",
                        f"表头“{text}”同时指向“{owner[header][0]}”({fmt_path(owner[header][1])}):"
                        "每个名称和别名只能对应一列,请改名或删除这个别名",
                        text,
                    )
                )
            owner.setdefault(header, (column, where))
    return found


def _check_follow_ups(data: dict) -> list[Found]:
    found: list[Found] = []
    indicators = {ind.get("id") for _, ind in walk_indicators(data)}
    dimensions = {dim.get("id") for _, dim in walk_dimensions(data)}
    vetoes = {v.get("id") for _, v in items(data, "vetoes")}
    for i, rule in items(data, "follow_ups"):
        path = ("follow_ups", i)
        when = rule.get("when")
        if isinstance(when, dict):
            conditions = [
                k for k in ("indicator", "dimension", "grade", "veto", "escalated") if k in when
            ]
            if len(conditions) != 1:
                found.append(
                    (
                        (*path, "when"),
                        "when_conditions",
                        "when 须恰好有一个条件: indicator(+score_below)、dimension(+score_below)、"
                        f"grade、veto 或 escalated;现在是 {conditions or '无'}",
                        ", ".join(conditions),
                    )
                )
            for key, known in (
                ("indicator", indicators),
                ("dimension", dimensions),
                ("veto", vetoes),
            ):
                ref = when.get(key)
                if isinstance(ref, str) and ref not in known:
                    found.append(
                        (
                            (*path, "when", key),
                            "unknown_reference",
                            f"when.{key} 引用的“{ref}”不存在。可用的: {some_names(known)}",
                            ref,
                        )
                    )
            if ("indicator" in when or "dimension" in when) and "score_below" not in when:
                found.append(
                    (
                        (*path, "when"),
                        "when_conditions",
                        "按指标或维度触发的处理意见须写 score_below(得分低于多少时触发)",
                        "",
                    )
                )
        action = rule.get("action")
        if isinstance(action, str):
            try:
                names = {f for _, f, _, _ in string.Formatter().parse(action) if f is not None}
            except ValueError as exc:
                found.append(((*path, "action"), "bad_template", f"action 模板有误: {exc}", action))
                continue
            for name in sorted(names - PLACEHOLDERS):
                found.append(
                    (
                        (*path, "action"),
                        "unknown_placeholder",
                        f"action 中的占位符 {{{name}}} 未知。可用的: "
                        + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS)),
                        name,
                    )
                )
    return found
