"""Problems printed for a person at a terminal, as the app shows them: a problem repeated on
many rows (170 rows of the wrong month) is one line with its count and its first rows, errors
before warnings; ``--all`` prints every row. A file refused for a limit names the setting that
raises it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from ..intake.limits import SETTING_OF
from ..problems import ERROR, Problem

SHOWN_ROWS = 8
AllOpt = Annotated[
    bool, typer.Option("--all", help="逐行列出每个问题(每类最多列 100 行;默认同类问题合并为一行)")
]


def problem_lines(problems: Sequence[Problem], every: bool = False) -> list[str]:
    """One line per kind of problem (code, file, column and message alike), or per problem
    when ``every``; the collector's "另有 N 处" lines fold into their kind's count."""
    if every:
        return [_with_setting(p, p.render()) for p in problems]
    groups: dict[tuple, list[Problem]] = {}
    more: dict[tuple, int] = {}
    for p in problems:
        if p.more:
            more[(p.code, p.file)] = more.get((p.code, p.file), 0) + p.more
            continue
        groups.setdefault((p.severity, p.code, p.file, p.column, p.message), []).append(p)
    ordered = sorted(groups.values(), key=lambda g: g[0].severity != ERROR)  # stable
    lines = []
    for group in ordered:
        first = group[0]
        extra = more.pop((first.code, first.file), 0)
        line = first.render()
        if len(group) + extra > 1:
            rows = [p.row for p in group if p.row is not None][:SHOWN_ROWS]
            listed = "、".join(map(str, rows)) + ("…" if len(group) + extra > len(rows) else "")
            line += f"  共 {len(group) + extra} 处" + (f"(第 {listed} 行)" if rows else "")
        lines.append(_with_setting(first, line))
    for (code, file), extra in more.items():  # a count line whose kind was not listed
        lines.append(f"[另有] {file}: 另有 {extra} 处同类问题({code})")
    return lines


def _with_setting(p: Problem, line: str) -> str:
    setting = SETTING_OF.get(p.code)
    return (
        f"{line}\n    上限可用环境变量 {setting} 调高(单位见 README 的“上限”)。"
        if setting
        else line
    )


def echo_problems(problems: Sequence[Problem], every: bool = False) -> None:
    """Print ``problems`` on standard error; a hint at ``--all`` when lines were folded."""
    lines = problem_lines(problems, every)
    for line in lines:
        typer.echo(line, err=True)
    if not every and len(lines) < len(problems):
        typer.echo("(同类问题已合并为一行;加 --all 逐行列出。)", err=True)
