"""The checks of one node of a rule set (a dimension, an indicator, its bands and range, a veto,
an escalation rule) and the walk over the raw YAML that finds them; ``checks`` runs them."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .grades import GRADE_KEYS
from .models import METHODS
from .yaml_source import format_path

PathKey = tuple[str | int, ...]
Found = tuple[PathKey, str, str, object]  # path, code, message, offending value


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


def check_dimension(path: PathKey, dim: dict) -> list[Found]:
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


def check_indicator(path: PathKey, ind: dict, columns: set[str]) -> list[Found]:
    found = check_range(path, ind.get("valid_range")) + check_rate(path, ind, columns)
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
        found += check_bands(sp, scoring.get("bands"), direction)
    return found


def check_rate(path: PathKey, ind: dict, columns: set[str]) -> list[Found]:
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
                        f"已有的列: {some_names(columns)}",
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


def check_bands(path: PathKey, bands: object, direction: object) -> list[Found]:
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


def check_range(path: PathKey, rng: object) -> list[Found]:
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


def check_veto(path: PathKey, veto: dict, columns: set[str]) -> list[Found]:
    col = veto.get("column")
    if isinstance(col, str) and col not in columns:
        return [
            (
                (*path, "column"),
                "unknown_input",
                f"否决项引用的列“{col}”不存在:请使用某个指标或 inputs 中声明的列。已有的列: "
                f"{some_names(columns)}",
                col,
            )
        ]
    return []


def check_escalation(path: PathKey, rule: dict) -> list[Found]:
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


def some_names(names: set) -> str:
    names = sorted(n for n in names if isinstance(n, str))
    text = ", ".join(names[:12])
    return text + (f" 等 {len(names)} 个" if len(names) > 12 else "") if names else "(无)"


def fmt_path(path: PathKey) -> str:
    return format_path(path)
