"""Read a rule file: safe YAML, structural validation, cross-field checks; every problem at once.

Problems carry the file, the YAML path (``dimensions[2].indicators[0].weight``), the line and a
Chinese message naming the bad value and the allowed ones.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..problems import Problem, ProblemsError, sort_problems
from .checks import check_rule_data
from .models import NODE_MODELS, SCORING_MODELS, Model, RuleSet
from .yaml_source import PathKey, YamlDocument, format_path, load_yaml


@dataclass(frozen=True)
class LoadedRules:
    """A validated rule set with the text it came from (stored results keep text and sha256)."""

    rules: RuleSet
    text: str
    sha256: str
    source: str = ""


def load_rules(path: str | Path) -> LoadedRules:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProblemsError(
            [Problem(code="file_unreadable", message=f"无法读取规则文件: {exc}", file=str(path))]
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemsError(
            [
                Problem(
                    code="rules_encoding",
                    message="规则文件须为 UTF-8 编码:请在编辑器中“另存为 UTF-8”",
                    file=str(path),
                )
            ]
        ) from exc
    return parse_rules(text, source=str(path))


def parse_rules(text: str, source: str = "") -> LoadedRules:
    """Validate rule text; raise ProblemsError with every problem, or return the rule set.
    The same text is parsed once (the result is immutable)."""
    return _parse_rules(text, source)


@functools.lru_cache(maxsize=64)
def _parse_rules(text: str, source: str) -> LoadedRules:
    doc = load_yaml(text, file=source)
    problems = list(doc.problems)
    if doc.data is None and not problems:
        problems.append(Problem(code="rules_empty", message="规则文件为空", file=source))
    if doc.data is None and any(p.code.startswith("yaml_") for p in problems):
        raise ProblemsError(problems)
    if not isinstance(doc.data, dict):
        raise ProblemsError(
            [
                *problems,
                Problem(
                    code="rules_not_mapping",
                    message="规则文件的顶层须是键值对(id:, name:, dimensions: …)",
                    file=source,
                    line=1,
                ),
            ]
        )
    rules = None
    try:
        rules = RuleSet.model_validate(doc.data)
    except ValidationError as exc:
        problems += [_translate(err, doc, source) for err in exc.errors()]
    for path, code, message, value in check_rule_data(doc.data):
        problems.append(
            Problem(
                code=code,
                message=message,
                file=source,
                path=format_path(path),
                line=doc.line_of(path),
                value=_short(value),
            )
        )
    if problems or rules is None:
        raise ProblemsError(sort_problems(problems))
    return LoadedRules(
        rules=rules, text=text, sha256=hashlib.sha256(text.encode()).hexdigest(), source=source
    )


# ---- pydantic errors in the user's words ----------------------------------------------------


def _translate(err: dict, doc: YamlDocument, source: str) -> Problem:
    path = _data_path(err["loc"], doc.data)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    field = path[-1] if path else ""
    code, message = "invalid_value", err["msg"]
    if kind == "missing":
        code, message = "missing_field", f"缺少必填字段“{field}”"
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1], doc.data)
        hint = difflib.get_close_matches(str(field), allowed, n=1)
        code, value = "unknown_field", field
        message = f"未知字段“{field}”" + (f",是否应为“{hint[0]}”?" if hint else "。")
        message += f" 此处允许的字段: {', '.join(allowed)}"
    elif kind == "union_tag_invalid":
        code = "unknown_method"
        message = f"未知的评分方法“{ctx.get('tag')}”。可用的方法: {ctx.get('expected_tags')}"
        path = (*path, "method") if path and path[-1] != "method" else path
        value = ctx.get("tag")
    elif kind == "union_tag_not_found":
        path = (*path, "method")
        code, message = (
            "missing_field",
            "scoring 缺少 method(评分方法): linear, bands, pass_fail, deduct, minmax, percentile",
        )
    elif kind == "literal_error":
        code = "invalid_choice"
        message = f"值“{value}”无效。允许的值: {str(ctx.get('expected')).replace(' or ', ', ')}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        code = "out_of_range"
        bound = {
            "greater_than": "大于",
            "greater_than_equal": "不小于",
            "less_than": "小于",
            "less_than_equal": "不大于",
        }[kind]
        limit = next(iter(ctx.values()), "")
        limit = f"{limit:g}" if isinstance(limit, int | float) else limit
        message = f"“{field}”的值 {value!r} 不允许:必须{bound} {limit}"
    elif kind in ("float_type", "int_type", "float_parsing", "int_parsing", "int_from_float"):
        code = "not_a_number"
        want = "整数" if kind.startswith("int") else "数字"
        message = f"“{field}”须为{want},现在是 {value!r}" + (
            "(去掉引号)" if isinstance(value, str) else ""
        )
    elif kind == "string_type":
        code = "not_text"
        message = f"“{field}”须为文本,现在是 {value!r}" + (
            ':YAML 把 yes、no、on、off 读作真假值,作文本时请加引号,如 "no"'
            if isinstance(value, bool)
            else ':数字形式的版本号请加引号,如 "2026.1"'
            if isinstance(value, int | float)
            else ""
        )
    elif kind == "string_pattern_mismatch":
        code = "bad_id"
        message = (
            f"id“{value}”格式不对:只能用英文字母、数字和下划线,并以字母开头"
            if field != "id" or path != ("id",)
            else f"规则集 id“{value}”格式不对:只能用小写字母、数字、- 和 _"
        )
    elif kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        code = "wrong_shape"
        want = "列表(- 开头的多行,或 [a, b])" if kind == "list_type" else "键值对"
        message = f"“{field}”须为{want},现在是 {value!r}"
    elif kind == "too_short":
        code = "empty_list"
        message = f"“{field}”不能为空"
    elif kind in ("bool_type", "bool_parsing"):
        code = "not_bool"
        message = f"“{field}”须为 true 或 false,现在是 {value!r}"
    return Problem(
        code=code,
        message=message,
        file=source,
        path=format_path(path),
        line=doc.line_of(path),
        value=_short(value) if not isinstance(value, dict | list) else "",
    )


def _data_path(loc: tuple, data: object) -> PathKey:
    """Pydantic's loc without its union-member segments (``scoring.linear.best`` -> ``scoring.best``)."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
            elif last:
                out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            out.append(part)
            node = node[part]
        elif last:
            out.append(part)
    return tuple(out)


def _allowed_keys(path: PathKey, data: object) -> list[str]:
    model = _model_at(path, data)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def _model_at(path: PathKey, data: object) -> type[Model] | None:
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return NODE_MODELS[""]
    last = names[-1]
    if last == "scoring":
        node = data
        for part in path:
            node = node[part]
        return SCORING_MODELS.get(node.get("method")) if isinstance(node, dict) else None
    if len(names) >= 2 and names[-2] == "grades":
        from .models import Band

        return Band
    return NODE_MODELS.get(last)


def _short(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "…"
