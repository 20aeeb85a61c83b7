"""Problems as a check finds them, bounded per code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .codes import ERROR, title
from .problem import Problem

PER_CODE = 100  # problems of one code listed one by one; the rest are counted


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
