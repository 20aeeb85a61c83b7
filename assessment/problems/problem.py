"""Problems in user input, collected rather than raised one at a time.

One record per problem (where, what, a stable code, a message saying how to fix it), and one error
that carries them all. Rule files fill ``path`` and ``line``; tables fill ``row`` and ``column``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

ERROR = "error"
WARNING = "warning"
VALUE_CHARS = 80  # at most this much of a cell or YAML value is echoed back
MESSAGE_CHARS = 400
PER_CODE = 100  # problems of one code listed one by one; the rest are counted


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
        errors = [p for p in self.problems if p.severity == ERROR]
        return f"发现 {len(errors)} 个错误:\n" + "\n".join(p.render() for p in self.problems)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == ERROR]


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable, readable order: by file, then line/row, then path and column."""
    return sorted(
        problems,
        key=lambda p: (p.file, p.line or 0, p.row or 0, p.path, p.column, p.code),
    )


class ProblemCollector(list):
    """Problems as a check finds them, bounded: the first ``per_code`` of each code are kept
    one by one, the rest only counted (a million bad rows make a hundred lines and a count,
    not a million records in memory, in the database and in the spreadsheet)."""

    def __init__(self, items: Iterable[Problem] = (), per_code: int = PER_CODE) -> None:
        super().__init__()
        self.per_code = per_code
        self.kept: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.severity: dict[str, str] = {}
        self.extend(items)

    def full(self, code: str, severity: str = ERROR) -> bool:
        """True (and the problem is counted) when ``code`` already has its share: the caller
        need not build the record."""
        if self.kept[code] < self.per_code:
            return False
        self.dropped[code] += 1
        self.severity.setdefault(code, severity)
        return True

    def first(self, code: str, mask, severity: str = ERROR):
        """The positions where ``mask`` holds that still get a record of their own (the first
        ones under the cap, for ``code``); the others are only counted, with no Python loop
        over them. The one way a vectorised check turns its mask into problems."""
        import numpy as np

        hits = np.flatnonzero(mask)
        room = max(0, self.per_code - self.kept[code])
        if len(hits) > room:
            self.dropped[code] += len(hits) - room
            self.severity.setdefault(code, severity)
        return hits[:room]

    def append(self, problem: Problem) -> None:
        if not self.full(problem.code, problem.severity):
            self.kept[problem.code] += 1
            self.severity.setdefault(problem.code, problem.severity)
            super().append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        for p in problems:
            self.append(p)

    def __iadd__(self, problems: Iterable[Problem]):
        self.extend(problems)
        return self

    def finished(self, file: str = "") -> list[Problem]:
        """The kept problems, then one line per code that had more (naming ``file``)."""
        from .problem_codes import title  # declared there, next to the codes

        out = list(self)
        for code, extra in self.dropped.items():
            n = self.kept[code] + extra
            out.append(
                Problem(
                    code,
                    f"另有 {extra} 处同类问题({title(code)})未逐条列出,共 {n} 处:"
                    "请按上面同类问题的说明一并修改后重新上传",
                    file=file,
                    severity=self.severity[code],
                    value=str(n),
                    more=extra,
                )
            )
        return out
