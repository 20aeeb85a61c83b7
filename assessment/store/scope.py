"""Who may see what: a scope is the set of subtrees (by root unit code) a caller may read and
write. ``Scope.everything()`` is for the district administrator and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Scope:
    roots: frozenset[str] | None  # None: every unit

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def of(cls, *roots: str) -> Scope:
        return cls(frozenset(roots))

    def codes(self, registry: pd.DataFrame) -> set[str]:
        """Every unit code inside the scope (the roots and all their descendants)."""
        all_codes = set(registry["unit_code"])
        if self.roots is None:
            return all_codes
        children: dict[str, list[str]] = {}
        for code, parent in zip(registry["unit_code"], registry["parent_code"], strict=True):
            children.setdefault(parent, []).append(code)
        inside, stack = set(), [r for r in self.roots if r in all_codes]
        while stack:
            code = stack.pop()
            if code not in inside:
                inside.add(code)
                stack.extend(children.get(code, []))
        return inside
