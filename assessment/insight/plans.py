"""A combined improvement plan: the fewest indicators, each with a realistic raw target, that
together lift a unit to the next better grade; proved by grading the changed row the engine's
way (the same scoring methods, aggregation, vetoes, floors and escalation).

Where no single indicator can close the gap (``closing_moves``), people still need to know what
to do. The plan names the vetoes that hold the unit down (they are dealt with by their follow-ups,
not by a target value), lifts each dimension under its floor with its own indicators, then
closes the remaining points greedily, largest possible gain first, so as few indicators as possible move, the last
one only as far as needed. Every target is a value the indicator can take (within its scoring
range, rounded to two decimals in the safe direction) and is re-scored before the proof.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..grading.engine import Assessment
from ..grading.scoring import MISSING, OPS, PeriodScores, aggregate, grade_rank, runs_before
from ..rules.compiled import CompiledRules
from ..rules.grades import GRADE_KEYS
from ..rules.methods import METHOD_REGISTRY, score_indicator
from ..rules.models import RELATIVE

MARGIN = 1e-6


@dataclass(frozen=True)
class Move:
    indicator: str
    name: str
    raw_now: float
    target: float  # the raw value to reach (or pass, for lower-is-better: to get down to)
    score_now: float
    score_target: float
    lower_is_better: bool
    why: str  # points | floor


@dataclass(frozen=True)
class Plan:
    target: str  # the grade key aimed at: the next better one
    moves: tuple[Move, ...]
    score_after: float
    grade_after: str | None
    reaches: bool  # the re-graded row reaches ``target`` (or better)
    blocked_by: tuple[str, ...] = ()  # vetoes to deal with first (the proof takes them as cleared)


def improvement_plan(a: Assessment, unit_code: str, period: str) -> Plan | None:
    """The plan for ``unit_code`` in ``period``; None when it is green or has no grade."""
    p = a.periods[period]
    hits = np.flatnonzero(np.asarray(p.codes) == unit_code)
    if not len(hits):
        raise KeyError(unit_code)
    return _Planner(a, p, int(hits[0])).plan()


class _Planner:
    def __init__(self, a: Assessment, p: PeriodScores, i: int) -> None:
        self.a, self.c, self.p, self.i = a, a.compiled, p, i
        self.raw = p.raw[i].copy()
        self.scores = p.scores[i].copy()
        self.weights = p.weights[i]
        self.why: dict[int, str] = {}
        self.blocked: list[str] = []
        self.cleared: set[int] = set()  # vetoes the proof takes as dealt with

    # -- the plan ------------------------------------------------------------------------

    def plan(self) -> Plan | None:
        rank = int(self.p.rank[self.i])
        if rank in (MISSING, 0):
            return None
        goal = rank - 1
        self._clear_vetoes(goal)
        self._lift_floors(goal)
        self._close_points(self._score_goal(goal))
        total, final = self._grade()
        moves = tuple(self._move(j) for j in self.why)
        return Plan(
            target=GRADE_KEYS[goal],
            moves=moves,
            score_after=float(total),
            grade_after=None if final == MISSING else GRADE_KEYS[final],
            reaches=final != MISSING and final <= goal,
            blocked_by=tuple(self.blocked),
        )

    def _score_goal(self, goal: int) -> int:
        """The grade the score itself must reach: ``goal``, or better when an escalation would
        otherwise turn the new grade back (a run of bad months that this month would extend)."""
        out = goal
        for rule in self.c.rules.escalation:
            color = GRADE_KEYS.index(rule.color)
            if goal >= color and self._run_before(color) + 1 >= rule.months:
                out = min(out, color - 1)
        return max(out, 0)

    def _clear_vetoes(self, goal: int) -> None:
        """A veto that holds the unit below the goal is named, not planned away: what it
        counts (a death, a vacancy, an incident) is dealt with by its follow-up, not by a
        target value. The proof grades the row as if it were cleared."""
        c, p, i = self.c, self.p, self.i
        for v, veto in enumerate(c.rules.vetoes):
            if p.veto_hits[i, v] and GRADE_KEYS.index(veto.cap) > goal:
                self.blocked.append(veto.name)
                self.cleared.add(v)

    def _lift_floors(self, goal: int) -> None:
        for d, dim in enumerate(self.c.dimensions):
            if dim.floor is None or GRADE_KEYS.index(dim.floor.cap) <= goal:
                continue
            inside = self._indicators_of(d)
            for _ in range(len(inside)):
                dims, _ = aggregate(self.c, self.scores[None, :])
                gap = dim.floor.min_score - dims[0, d]
                if not gap > 0:
                    break
                share = self.weights[inside].sum()
                j = self._best(inside)
                if j is None or share <= 0:
                    break
                needed = self.scores[j] + (gap + MARGIN) * share / self.weights[j]
                self._raise(j, min(needed, 100.0), "floor")

    def _close_points(self, score_goal: int) -> None:
        need = float(self.c.min_scores[score_goal])
        everything = np.arange(len(self.c.indicators))
        for _ in range(len(everything)):
            _, total = aggregate(self.c, self.scores[None, :])
            gap = need - float(total[0])
            if not gap > 0:
                return
            j = self._best(everything)
            if j is None:
                return
            self._raise(j, min(self.scores[j] + (gap + MARGIN) / self.weights[j], 100.0), "points")

    # -- helpers -------------------------------------------------------------------------

    def _best(self, candidates: np.ndarray) -> int | None:
        """The indicator that can still gain the most points: largest weight x room to 100,
        among the scored ones (an empty one would change every weight) not yet at full marks."""
        w, s = self.weights[candidates], self.scores[candidates]
        with np.errstate(invalid="ignore"):
            room = np.where((w > 0) & ~np.isnan(s) & (s < 100.0 - 1e-9), w * (100.0 - s), 0.0)
        if not len(room) or room.max() <= 0:
            return None
        return int(candidates[int(np.argmax(room))])

    def _raise(self, j: int, score: float, why: str) -> None:
        """Move indicator j to a raw value that scores at least ``score``."""
        ind = self.c.indicators[j]
        method = METHOD_REGISTRY[ind.scoring.method]
        value = method.invert(ind, self.p.raw[:, j], np.array([self.i]), np.array([score]))[0]
        if np.isnan(value):  # no value scores that: never pick it again
            self.weights = self.weights.copy()
            self.weights[j] = 0.0
            return
        if method.strictly_above:  # a value to pass, not to reach
            value = value - 0.01 if ind.effective_direction == "lower" else value + 0.01
        self._set(j, value, why)

    def _set(self, j: int, value: float, why: str) -> None:
        ind = self.c.indicators[j]
        lower = ind.effective_direction == "lower"
        value = safe_round(value, lower)
        if ind.valid_range is not None:
            value = float(np.clip(value, *ind.valid_range))
        better = value < self.raw[j] if lower else value > self.raw[j]
        if not np.isnan(self.raw[j]) and not better:  # never a step back, nor a non-move
            return
        self.raw[j] = value
        self.scores[j] = self._score_at(j, value)
        self.why.setdefault(j, why)

    def _score_at(self, j: int, value: float) -> float:
        ind = self.c.indicators[j]
        if ind.scoring.method in RELATIVE:  # scored against the other units, as graded
            column = self.p.raw[:, j].copy()
            column[self.i] = value
            return float(score_indicator(ind, column)[self.i])
        return float(score_indicator(ind, np.array([value]))[0])

    def _indicators_of(self, d: int) -> np.ndarray:
        """The indicators under dimension d (nested dimensions included)."""
        c = self.c
        inside = np.zeros(len(c.dimensions), dtype=bool)
        inside[d] = True
        for k in range(d + 1, len(c.dimensions)):
            if c.dim_parent[k] >= 0 and inside[c.dim_parent[k]]:
                inside[k] = True
        return np.flatnonzero(inside[c.ind_parent])

    def _run_before(self, color: int) -> int:
        return int(runs_before(self.a.periods, self.p.period, color)[self.i])

    def _grade(self) -> tuple[float, int]:
        """The changed row graded: total, then vetoes, floors and escalation."""
        c, p, i = self.c, self.p, self.i
        dims, total = aggregate(c, self.scores[None, :])
        rank = int(grade_rank(total, c.min_scores)[0])
        if rank == MISSING:
            return float(total[0]), MISSING
        for v, veto in enumerate(c.rules.vetoes):
            if v in self.cleared:
                continue
            j = c.ind_index.get(veto.column)
            with np.errstate(invalid="ignore"):
                hit = (
                    bool(OPS[veto.op](self.raw[j], veto.value)) and not np.isnan(self.raw[j])
                    if j is not None
                    else bool(p.veto_hits[i, v])
                )
            if hit:
                rank = max(rank, GRADE_KEYS.index(veto.cap))
        for d, dim in enumerate(c.dimensions):
            if dim.floor is not None and dims[0, d] < dim.floor.min_score:
                rank = max(rank, GRADE_KEYS.index(dim.floor.cap))
        final = rank
        for rule in c.rules.escalation:
            color = GRADE_KEYS.index(rule.color)
            if rank >= color and self._run_before(color) + 1 >= rule.months:
                final = max(final, GRADE_KEYS.index(rule.to))
        return float(total[0]), final

    def _move(self, j: int) -> Move:
        ind = self.c.indicators[j]
        return Move(
            indicator=ind.id,
            name=ind.name,
            raw_now=float(self.p.raw[self.i, j]),
            target=float(self.raw[j]),
            score_now=float(self.p.scores[self.i, j]),
            score_target=float(self.scores[j]),
            lower_is_better=ind.effective_direction == "lower",
            why=self.why[j],
        )


def safe_round(x: float, lower_is_better: bool) -> float:
    """Round a target to two decimals in the safe direction, so the value shown is enough."""
    scaled = x * 100
    return float((np.floor(scaled + 1e-6) if lower_is_better else np.ceil(scaled - 1e-6)) / 100)


def full_marks(c: CompiledRules, p: PeriodScores) -> dict[str, float]:
    """Per indicator: the raw value at which it scores full marks (for the first unit: the
    same for every unit of an absolute method; relative methods depend on the others)."""
    out = {}
    for j, ind in enumerate(c.indicators):
        method = METHOD_REGISTRY[ind.scoring.method]
        if ind.scoring.method in RELATIVE or not len(p.codes):
            continue
        value = method.invert(ind, p.raw[:, j], np.array([0]), np.array([100.0]))[0]
        if not np.isnan(value):
            out[ind.id] = float(value)
    return out
