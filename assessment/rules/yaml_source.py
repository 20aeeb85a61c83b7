"""Safe YAML with line numbers: the data, plus where every value stands in the file.

Only PyYAML's SafeLoader is used (no tags that build objects, nothing executed). Duplicate keys,
which PyYAML silently resolves to the last one, are reported as problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from ..problems import Problem

PathKey = tuple[str | int, ...]
# libyaml's C parser when present (PyYAML ships it in its wheels), else the pure-Python one;
# both are the *safe* loader: plain scalars, lists and mappings only.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class YamlDocument:
    data: object
    lines: dict[PathKey, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(text: str, file: str = "") -> YamlDocument:
    try:
        anchor = _first_anchor(text)
        if anchor is not None:  # aliases can multiply a small file into gigabytes (YAML bombs)
            return YamlDocument(
                data=None,
                problems=[
                    Problem(
                        code="yaml_anchor",
                        message=f"不允许使用 YAML 锚点和别名(&{anchor[0][:40]} / *{anchor[0][:40]}):"
                        "请把重复的内容直接写出来",
                        file=file,
                        line=anchor[1],
                    )
                ],
            )
        node = yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        return YamlDocument(data=None, problems=[_syntax_problem(exc, file)])
    except yaml.YAMLError as exc:
        problem = Problem(code="yaml_syntax", message=f"YAML 语法错误: {exc}", file=file)
        return YamlDocument(data=None, problems=[problem])
    doc = YamlDocument(data=None)
    if node is not None:
        _index(node, (), doc, file)
    try:
        doc.data = yaml.load(text, Loader=LOADER)  # safe: LOADER builds no objects
    except yaml.MarkedYAMLError as exc:  # a tag that would build an object: refused
        mark = exc.problem_mark or exc.context_mark
        doc.problems.append(
            Problem(
                code="yaml_tag",
                message=f"不允许使用 YAML 标签({exc.problem}):规则文件只能包含普通的文字、数字、列表和键值对",
                file=file,
                line=mark.line + 1 if mark else None,
            )
        )
    return doc


def _first_anchor(text: str) -> tuple[str, int] | None:
    """The first anchor or alias in the text and its line, from the event stream (nothing is
    composed or expanded)."""
    for event in yaml.parse(text, Loader=LOADER):
        name = getattr(event, "anchor", None)
        if name is not None:
            return name, event.start_mark.line + 1
    return None


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    return Problem(
        code="yaml_syntax",
        message=f"YAML 语法错误: {exc.problem or exc}。请检查缩进、冒号、括号和引号是否成对",
        file=file,
        line=mark.line + 1 if mark else None,
    )


def _index(node: yaml.Node, path: PathKey, doc: YamlDocument, file: str) -> None:
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):  # `? [a, b]: …`, a list as a key
                doc.problems.append(
                    Problem(
                        code="yaml_syntax",
                        message="YAML 语法错误: 键须是文本(如 name:),不能是列表或键值对。"
                        "请检查是否多写了“?”或括号",
                        file=file,
                        path=format_path(path),
                        line=line,
                    )
                )
                continue
            key = key_node.value
            if key in seen:
                doc.problems.append(
                    Problem(
                        code="duplicate_key",
                        message=f"键“{key}”重复出现(第{seen[key]}行和第{line}行),"
                        "只会保留后一个:请删除或合并其中一个",
                        file=file,
                        path=format_path((*path, key)),
                        line=line,
                    )
                )
            seen[key] = line
            doc.lines[(*path, key)] = line
            _index(value_node, (*path, key), doc, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), doc, file)
