"""The checks of the ``sources`` section and of each column's ``derive`` rule, on the raw YAML:
every name a rule uses must be a declared column of its source, of a type that makes sense for
what the rule does with it (a span runs between two dates, a mean reads numbers)."""

from __future__ import annotations

from .checks_nodes import Found, PathKey, items, some_names, walk_indicators
from .models import normalise

KEYS = ("event_id", "month_by")
FORMS = ["in", "op", "filled", "within"]  # with column: in, op (+value), filled; or within


def check_sources(data: dict) -> list[Found]:
    """Each source on its own, then every ``derive`` against the sources."""
    found: list[Found] = []
    seen: dict[str, PathKey] = {}
    sources: dict[str, dict[str, str]] = {}  # source id -> column id -> type
    for i, source in items(data, "sources"):
        path = ("sources", i)
        sid = source.get("id")
        if isinstance(sid, str) and sid in seen:
            found.append(((*path, "id"), "duplicate_id", f"来源 id“{sid}”重复", sid))
        columns = _source_columns(path, source, found)
        if isinstance(sid, str):
            seen.setdefault(sid, path)
            sources.setdefault(sid, columns)
        found += _check_keys(path, source, columns)
    for path, node in _derived_nodes(data):
        found += _check_derive((*path, "derive"), node, sources)
    return found


def _source_columns(path: PathKey, source: dict, found: list[Found]) -> dict[str, str]:
    columns: dict[str, str] = {}
    headers: dict[str, str] = {}
    for k, col in items(source, "columns"):
        cid = col.get("id")
        if not isinstance(cid, str):
            continue
        where = (*path, "columns", k)
        if cid in columns:
            found.append(((*where, "id"), "duplicate_id", f"来源的列 id“{cid}”重复", cid))
        columns.setdefault(cid, col.get("type", "text"))
        aliases = col.get("aliases") if isinstance(col.get("aliases"), list) else []
        for text in [cid, col.get("name"), *aliases]:
            if not isinstance(text, str):
                continue
            owner = headers.setdefault(normalise(text), cid)
            if owner != cid:
                found.append(
                    (
                        (*path, "columns", k),
                        "ambiguous_header",
                        f"表头“{text}”同时指向来源的列“{owner}”和“{cid}”:请改名或删除这个别名",
                        text,
                    )
                )
    return columns


def _check_keys(path: PathKey, source: dict, columns: dict[str, str]) -> list[Found]:
    """event_id, month_by and the unit's columns name declared columns; month_by is a date."""
    found: list[Found] = []
    refs = [((key,), source.get(key)) for key in KEYS]
    unit = source.get("unit")
    if isinstance(unit, dict):
        refs += [(("unit", key), unit.get(key)) for key in ("code", "name", "parent")]
        if not isinstance(unit.get("code"), str) and not isinstance(unit.get("name"), str):
            found.append(
                (
                    (*path, "unit"),
                    "source_unit",
                    "unit 须写明事件所属单位的列: code(单位代码列),或 name(单位名称列,"
                    "可加 parent: 上级单位名称或代码列)",
                    "",
                )
            )
        elif isinstance(unit.get("parent"), str) and not isinstance(unit.get("name"), str):
            found.append(
                ((*path, "unit", "parent"), "source_unit", "parent 须与 name 一起使用", "")
            )
    for where, ref in refs:
        if isinstance(ref, str) and ref not in columns:
            found.append(_unknown((*path, *where), ref, columns))
    month_by = source.get("month_by")
    if isinstance(month_by, str) and columns.get(month_by, "date") != "date":
        found.append(
            (
                (*path, "month_by"),
                "source_column_type",
                f"month_by 须是日期列(type: date),“{month_by}”是 {columns[month_by]}",
                month_by,
            )
        )
    return found


def _derived_nodes(data: dict) -> list[tuple[PathKey, dict]]:
    nodes = [(p, n) for p, n in walk_indicators(data) if isinstance(n.get("derive"), dict)]
    nodes += [
        (("inputs", i), n) for i, n in items(data, "inputs") if isinstance(n.get("derive"), dict)
    ]
    return nodes


def _check_derive(path: PathKey, node: dict, sources: dict[str, dict[str, str]]) -> list[Found]:
    rule = node["derive"]
    found: list[Found] = []
    if node.get("rate") is not None:
        found.append(
            (
                path,
                "derive_and_rate",
                "一个指标不能同时写 rate 和 derive:占比请用 derive 的 aggregate: share",
                "",
            )
        )
    sid = rule.get("source")
    if not isinstance(sid, str):
        return found
    if sid not in sources:
        found.append(
            (
                (*path, "source"),
                "unknown_reference",
                f"derive.source 引用的来源“{sid}”不存在。已声明的来源: {some_names(sources)}",
                sid,
            )
        )
        return found
    columns = sources[sid]
    aggregate = rule.get("aggregate")
    for key in ("where", "among"):
        for k, condition in items(rule, key):
            found += _check_filter((*path, key, k), condition, columns)
    if "among" in rule and aggregate != "share":
        found.append(((*path, "among"), "derive_shape", "among(分母)只用于 aggregate: share", ""))
    value = rule.get("value")
    if aggregate in ("mean", "median", "max"):
        if value is None:
            found.append(
                (
                    path,
                    "derive_shape",
                    f"aggregate: {aggregate} 须写 value:一个数值列,或 {{from: 日期列, to: 日期列}}",
                    "",
                )
            )
        elif isinstance(value, str):
            found += _typed((*path, "value"), value, columns, ("number",))
        elif isinstance(value, dict):
            found += _check_span((*path, "value"), value, columns, bound=False)
    elif aggregate in ("count", "share") and value is not None:
        found.append(((*path, "value"), "derive_shape", f"aggregate: {aggregate} 不需要 value", ""))
    return found


def _check_filter(path: PathKey, condition: dict, columns: dict[str, str]) -> list[Found]:
    forms = [k for k in FORMS if k in condition]
    if len(forms) != 1 or ("within" in forms) == ("column" in condition):
        return [
            (
                path,
                "filter_shape",
                "条件须是以下之一: {column: 列, in: [值…]}、{column: 列, op: '>=', value: 数}、"
                "{column: 列, filled: true}、{within: {from: 日期列, to: 日期列, days: 天数}}",
                ", ".join(sorted(condition)),
            )
        ]
    form = forms[0]
    if form == "within":
        within = condition["within"]
        return _check_span((*path, "within"), within, columns) if isinstance(within, dict) else []
    column = condition["column"]
    if form == "op" and "value" not in condition:
        return [(path, "filter_shape", "op 须与 value 一起写,如 {op: '>=', value: 3}", "")]
    allowed = {"in": ("text", "flag", "number"), "op": ("number",), "filled": None}[form]
    return _typed((*path, "column"), column, columns, allowed)


def _check_span(path: PathKey, span: dict, columns: dict[str, str], bound=True) -> list[Found]:
    found: list[Found] = []
    for key in ("from", "to"):
        if isinstance(span.get(key), str):
            found += _typed((*path, key), span[key], columns, ("date",))
    limits = [k for k in ("days", "hours") if k in span]
    if bound and len(limits) != 1:
        found.append((path, "filter_shape", "within 须写 days 或 hours 之一,如 {days: 7}", ""))
    if not bound and limits:
        found.append(
            (path, "filter_shape", "作为 value 的时长不写 days/hours;用 unit: days 或 hours", "")
        )
    return found


def _typed(
    path: PathKey, column: object, columns: dict[str, str], types: tuple[str, ...] | None
) -> list[Found]:
    if not isinstance(column, str):
        return []
    if column not in columns:
        return [_unknown(path, column, columns)]
    if types is not None and columns[column] not in types:
        want = "、".join(types)
        return [
            (
                path,
                "source_column_type",
                f"列“{column}”的类型是 {columns[column]},此处须是 {want}",
                column,
            )
        ]
    return []


def _unknown(path: PathKey, ref: str, columns: dict[str, str]) -> Found:
    return (
        path,
        "unknown_source_column",
        f"“{ref}”不是该来源声明的列。已声明的列: {some_names(columns)}",
        ref,
    )
