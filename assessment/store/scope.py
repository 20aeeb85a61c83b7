"""Who may see what: a scope is the set of subtrees (by root unit code) a caller may read and
write. ``Scope.everything()`` is for the district administrator and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..intake.textcols import member


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
        """Every unit code inside the scope (the roots and all their descendants): one
        vectorised pass over the registry per level of the tree, not a Python loop per unit."""
        if self.roots is None:
            return set(registry["unit_code"])
        if not self.roots:
            return set()
        codes, parents = registry["unit_code"], registry["parent_code"]
        frontier = set(codes[member(codes, sorted(self.roots))])
        inside = set(frontier)
        while frontier:
            below = set(codes[member(parents, sorted(frontier))]) - inside
            inside |= below
            frontier = below
        return inside
