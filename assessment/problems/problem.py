"""A problem in user input and the error that carries them all.

One record per problem (where, what, a stable code, a message saying how to fix it), and one error
that carries them all. Rule files fill ``path`` and ``line``; tables fill ``row`` and ``column``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from .codes import ERROR

VALUE_CHARS = 80  # at most this much of a cell or YAML value is echoed back
MESSAGE_CHARS = 400


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    file: str = ""
    path: str = ""  # YAML path in a rule file, e.g. dimensions[2].indicators[0].weight
    line: int | None = None
    row: int | None = None  # 1-based spreadsheet row (the header is row 1)
    column: str = ""
    value: str = ""
    severity: str = ERROR
    more: int = 0  # on a count line: how many more of ``code`` were found but not listed

    def __post_init__(self) -> None:
        # Whatever a file holds, a problem echoes a bounded amount of it: a 300 MB cell or an
        # expanded YAML value must not become a 300 MB message, row in the database or line.
        for name, limit in (("value", VALUE_CHARS), ("message", MESSAGE_CHARS)):
            text = getattr(self, name)
            if len(text) > limit:
                object.__setattr__(self, name, text[: limit - 1] + "…")

    def location(self) -> str:
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"第{self.line}行")
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.path:
            parts.append(self.path)
        if self.column:
            parts.append(f"列“{self.column}”")
        return " ".join(parts)

    def render(self) -> str:
        tag = "错误" if self.severity == ERROR else "警告"
        where = self.location()
        return (
            f"[{tag}] {where}: {self.message} ({self.code})" if where else f"[{tag}] {self.message}"
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ProblemsError(Exception):
    """Raised once with every problem found, so the user can fix them all in one go."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        errors = how_many(errors_only(self.problems))
        return f"发现 {errors} 个错误:\n" + "\n".join(p.render() for p in self.problems)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def how_many(problems: Iterable[Problem]) -> int:
    """How many problems the records stand for: one each, and a collector's count line
    ("另有 70 处") for the ones it counted without listing."""
    return sum(p.more or 1 for p in problems)


def tally(problems: Sequence[Problem]) -> tuple[int, int]:
    """(errors, warnings) as many as the records stand for (``how_many``)."""
    errors = how_many(errors_only(problems))
    return errors, how_many(problems) - errors


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable, readable order: by file, then line/row, then path and column."""
    return sorted(
        problems,
        key=lambda p: (p.file, p.line or 0, p.row or 0, p.path, p.column, p.code),
    )
