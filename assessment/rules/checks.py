"""Cross-field checks of a rule set, run on the raw YAML data.

They run whatever the structural validation found, so a file with a bad weight *and* a veto naming
a missing column reports both. Each check skips values of the wrong type: the structural pass
(pydantic) reports those. Paths are YAML paths as tuples; the loader adds file and line.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator

from .grades import GRADE_KEYS
from .rules import METHODS
from .yaml_source import format_path

PathKey = tuple[str | int, ...]
Found = tuple[PathKey, str, str, object]  # path, code, message, offending value

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


def num(x: object) -> float | None:
    """A YAML number (int or float, not a bool), else None."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def items(node: object, key: str) -> Iterator[tuple[int, dict]]:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def walk_dimensions(root: dict) -> Iterator[tuple[PathKey, dict]]:
    def walk(node: object, path: PathKey) -> Iterator[tuple[PathKey, dict]]:
        for i, dim in items(node, "dimensions"):
            yield (*path, "dimensions", i), dim
            yield from walk(dim, (*path, "dimensions", i))

    yield from walk(root, ())


def walk_indicators(root: dict) -> Iterator[tuple[PathKey, dict]]:
    for path, dim in walk_dimensions(root):
        for i, ind in items(dim, "indicators"):
            yield (*path, "indicators", i), ind


def check_rule_data(data: object) -> list[Found]:
    if not isinstance(data, dict):
        return []
    found: list[Found] = []
    found += _check_grades(data.get("grades"))
    found += _check_ids(data)
    found += _check_headers(data)
    columns = _column_ids(data)
    for path, dim in walk_dimensions(data):
        found += _check_dimension(path, dim)
    for path, ind in walk_indicators(data):
        found += _check_indicator(path, ind, columns)
    for i, inp in items(data, "inputs"):
        found += _check_range(("inputs", i), inp.get("valid_range"))
    for i, veto in items(data, "vetoes"):
        found += _check_veto(("vetoes", i), veto, columns)
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
        found += _check_escalation(("escalation", i), rule)
    found += _check_follow_ups(data)
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
                    f"id“{node_id}”重复:已在 {_fmt(seen[node_id])} 使用。维度、指标和输入列的 id "
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
                        f"否决项 id“{vid}”重复:已在 {_fmt(veto_seen[vid])} 使用",
                        vid,
                    )
                )
            veto_seen.setdefault(vid, ("vetoes", i))
    return found


def _check_headers(data: dict) -> list[Found]:
    """Every column's id, name and aliases are headers an upload may use: one header must not
    name two columns (an alias equal to another indicator's name sent its values astray)."""
    from .headers import normalise

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
                        f"表头“{text}”同时指向“{owner[header][0]}”({_fmt(owner[header][1])}):"
                        "每个名称和别名只能对应一列,请改名或删除这个别名",
                        text,
                    )
                )
            owner.setdefault(header, (column, where))
    return found


def _check_dimension(path: PathKey, dim: dict) -> list[Found]:
    has_ind, has_dim = "indicators" in dim, "dimensions" in dim
    if has_ind and has_dim:
        return [
            (
                path,
                "node_has_both",
                "一个维度只能包含 indicators 或 dimensions 之一(嵌套维度下再放指标),不能两者都有",
                dim.get("id", ""),
            )
        ]
    if not has_ind and not has_dim:
        return [
            (
                path,
                "node_empty",
                "维度必须包含 indicators(指标列表)或 dimensions(子维度列表)",
                dim.get("id", ""),
            )
        ]
    key = "indicators" if has_ind else "dimensions"
    if isinstance(dim[key], list) and not dim[key]:
        return [((*path, key), "node_empty", f"{key} 不能为空列表", "[]")]
    return []


def _check_indicator(path: PathKey, ind: dict, columns: set[str]) -> list[Found]:
    found = _check_range(path, ind.get("valid_range")) + _check_rate(path, ind, columns)
    scoring = ind.get("scoring")
    direction = ind.get("direction")
    if not isinstance(scoring, dict) or scoring.get("method") not in METHODS:
        return found
    method = scoring["method"]
    sp = (*path, "scoring")
    if method == "linear":
        worst, best = num(scoring.get("worst")), num(scoring.get("best"))
        if worst is not None and best is not None:
            if worst == best:
                found.append(
                    (
                        (*sp, "best"),
                        "linear_flat",
                        f"linear 的 best 与 worst 相同({best:g}),无法打分:请拉开两者",
                        best,
                    )
                )
            else:
                implied = "higher" if best > worst else "lower"
                if direction in ("higher", "lower") and direction != implied:
                    found.append(
                        (
                            (*path, "direction"),
                            "direction_contradiction",
                            f"direction: {direction} 与 scoring 矛盾: worst={worst:g}, best={best:g} "
                            f"表示{'越高越好' if implied == 'higher' else '越低越好'}。"
                            f"请改为 direction: {implied},或交换 worst 与 best",
                            direction,
                        )
                    )
    elif method == "deduct" and direction == "higher":
        found.append(
            (
                (*path, "direction"),
                "direction_contradiction",
                "deduct(按次扣分)总是越低越好,不能与 direction: higher 同用:请删除 direction 或改为 lower",
                direction,
            )
        )
    elif method == "bands":
        found += _check_bands(sp, scoring.get("bands"), direction)
    return found


def _check_rate(path: PathKey, ind: dict, columns: set[str]) -> list[Found]:
    found: list[Found] = []
    rate = ind.get("rate")
    if isinstance(rate, dict):
        for part in ("numerator", "denominator"):
            col = rate.get(part)
            if isinstance(col, str) and col not in columns:
                found.append(
                    (
                        (*path, "rate", part),
                        "unknown_input",
                        f"rate.{part} 引用的列“{col}”不存在:请先在 inputs 中声明它。"
                        f"已有的列: {_some(columns)}",
                        col,
                    )
                )
        if rate.get("numerator") == rate.get("denominator") and isinstance(
            rate.get("numerator"), str
        ):
            found.append(
                (
                    (*path, "rate"),
                    "rate_same_columns",
                    "rate 的分子与分母是同一列,比率恒为 100%:请检查",
                    rate.get("numerator"),
                )
            )
    return found


def _check_bands(path: PathKey, bands: object, direction: object) -> list[Found]:
    if not isinstance(bands, list):
        return []
    found: list[Found] = []
    thresholds: list[float] = []
    for i, band in enumerate(bands):
        pair = [num(v) for v in band] if isinstance(band, list) else []
        if len(pair) != 2 or None in pair:
            found.append(
                (
                    (*path, "bands", i),
                    "band_shape",
                    f"每一档须写成 [阈值, 得分] 两个数字,现在是 {band!r}",
                    band,
                )
            )
            continue
        threshold, score = pair
        if not 0 <= score <= 100:
            found.append(
                (
                    (*path, "bands", i),
                    "band_score_range",
                    f"得分 {score:g} 超出 0-100",
                    score,
                )
            )
        thresholds.append(threshold)
    lower = direction == "lower"
    for a, b in itertools.pairwise(thresholds):
        if (b <= a) if lower else (b >= a):
            want = (
                "严格递增(越低越好时从低到高列出)" if lower else "严格递减(越高越好时从高到低列出)"
            )
            found.append(
                (
                    (*path, "bands"),
                    "bands_order",
                    f"bands 的阈值须{want};现在是 {', '.join(f'{t:g}' for t in thresholds)}",
                    ", ".join(f"{t:g}" for t in thresholds),
                )
            )
            break
    return found


def _check_range(path: PathKey, rng: object) -> list[Found]:
    if rng is None or not isinstance(rng, list):
        return []
    values = [num(v) for v in rng]
    if len(values) != 2 or None in values:
        return [
            (
                (*path, "valid_range"),
                "range_shape",
                f"valid_range 须写成 [最小值, 最大值] 两个数字,现在是 {rng!r}",
                rng,
            )
        ]
    if values[0] > values[1]:
        return [
            (
                (*path, "valid_range"),
                "range_order",
                f"valid_range 的最小值 {values[0]:g} 大于最大值 {values[1]:g}:请交换",
                rng,
            )
        ]
    return []


def _check_veto(path: PathKey, veto: dict, columns: set[str]) -> list[Found]:
    col = veto.get("column")
    if isinstance(col, str) and col not in columns:
        return [
            (
                (*path, "column"),
                "unknown_input",
                f"否决项引用的列“{col}”不存在:请使用某个指标或 inputs 中声明的列。已有的列: "
                f"{_some(columns)}",
                col,
            )
        ]
    return []


def _check_escalation(path: PathKey, rule: dict) -> list[Found]:
    color, to = rule.get("color"), rule.get("to")
    if color in GRADE_KEYS and to in GRADE_KEYS and GRADE_KEYS.index(to) <= GRADE_KEYS.index(color):
        return [
            (
                (*path, "to"),
                "escalation_not_lower",
                f"升级规则只能把等级降低: to: {to} 不比 color: {color} 差。请选择更差的等级",
                to,
            )
        ]
    return []


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
                            f"when.{key} 引用的“{ref}”不存在。可用的: {_some(known)}",
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


def _some(names: set) -> str:
    names = sorted(n for n in names if isinstance(n, str))
    text = ", ".join(names[:12])
    return text + (f" 等 {len(names)} 个" if len(names) > 12 else "") if names else "(无)"


def _fmt(path: PathKey) -> str:
    return format_path(path)
