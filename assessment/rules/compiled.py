"""A rule set flattened for vectorised scoring: indicators and dimensions as index arrays."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .grades import GRADE_KEYS
from .loader import LoadedRules
from .models import Dimension, Indicator, RuleSet


@dataclass(frozen=True)
class CompiledRules:
    loaded: LoadedRules
    indicators: tuple[Indicator, ...]
    dimensions: tuple[Dimension, ...]  # depth first: a parent comes before its children
    ind_parent: np.ndarray  # dimension index of each indicator
    dim_parent: np.ndarray  # parent dimension index, -1 for a top-level dimension
    dim_depth: np.ndarray

    @property
    def rules(self) -> RuleSet:
        return self.loaded.rules

    @cached_property
    def ind_weight(self) -> np.ndarray:
        return np.array([i.weight for i in self.indicators], dtype=np.float64)

    @cached_property
    def dim_weight(self) -> np.ndarray:
        return np.array([d.weight for d in self.dimensions], dtype=np.float64)

    @cached_property
    def min_scores(self) -> np.ndarray:
        """min_score of green..orange (strictly decreasing)."""
        return np.array(self.rules.grades.min_scores(), dtype=np.float64)

    @cached_property
    def dim_index(self) -> dict[str, int]:
        return {d.id: i for i, d in enumerate(self.dimensions)}

    @cached_property
    def ind_index(self) -> dict[str, int]:
        return {ind.id: i for i, ind in enumerate(self.indicators)}

    def label(self, rank: int) -> str:
        """The rule set's label for a grade rank (labels may be renamed in the YAML)."""
        return getattr(self.rules.grades, GRADE_KEYS[rank]).label

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every column the scoring reads: indicators (or their rate parts) and veto columns."""
        cols: list[str] = []
        for ind in self.indicators:
            cols += [ind.rate.numerator, ind.rate.denominator] if ind.rate else [ind.id]
        cols += [v.column for v in self.rules.vetoes]
        return tuple(dict.fromkeys(cols))


def compile_rules(loaded: LoadedRules) -> CompiledRules:
    dims = loaded.rules.iter_dimensions()
    index = {id(d): i for i, (d, _) in enumerate(dims)}
    dim_parent = np.array([index[id(p)] if p is not None else -1 for _, p in dims], dtype=np.int64)
    depth = np.zeros(len(dims), dtype=np.int64)
    for i, p in enumerate(dim_parent):
        depth[i] = depth[p] + 1 if p >= 0 else 0
    indicators: list[Indicator] = []
    ind_parent: list[int] = []
    for i, (d, _) in enumerate(dims):
        for ind in d.indicators or []:
            indicators.append(ind)
            ind_parent.append(i)
    return CompiledRules(
        loaded=loaded,
        indicators=tuple(indicators),
        dimensions=tuple(d for d, _ in dims),
        ind_parent=np.array(ind_parent, dtype=np.int64),
        dim_parent=dim_parent,
        dim_depth=depth,
    )


def children_of(compiled: CompiledRules) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each dimension: the indices of its indicators and of its sub-dimensions."""
    ind = [np.flatnonzero(compiled.ind_parent == d) for d in range(len(compiled.dimensions))]
    sub = [np.flatnonzero(compiled.dim_parent == d) for d in range(len(compiled.dimensions))]
    return ind, sub
