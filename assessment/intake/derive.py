"""Columns computed from a source's events instead of uploaded (``derive:`` in a rule set):
per unit, a count, a share (in percent, like ``rate``), a mean, a median or a maximum of the
month's events that pass the rule's filters. Pure and vectorised: one mask per filter, one
bincount or grouped reduction per column.

A unit with no events of the month gets the rule's ``empty`` value, or no value (N/A) when the
rule gives none: a silent export is not evidence of zero. A unit with events none of which pass
the filters gets 0 from a count, and no value from a share, mean, median or maximum that has
nothing to divide or average.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..problems import Problem, ProblemsError
from ..rules.models import Derive, Filter, RuleSet, Source, Span, normalise
from .registry import leaf_mask
from .textcols import map_distinct

SECONDS = {"days": 86_400.0, "hours": 3_600.0}


def sources_of(rule_sets: Sequence[RuleSet]) -> dict[str, Source]:
    """The sources the rule sets declare, by id; one source declared by two rule sets (the
    community and the village set both reading the 12345 export) must be declared alike."""
    out: dict[str, tuple[Source, str]] = {}
    problems = []
    for rules in rule_sets:
        for source in rules.sources:
            if source.id in out and out[source.id][0] != source:
                problems.append(
                    Problem(
                        "source_mismatch",
                        f"规则集“{out[source.id][1]}”与“{rules.id}”对来源“{source.id}”的定义不同:"
                        "同一来源的列须在各规则集中写得一样",
                    )
                )
            out.setdefault(source.id, (source, rules.id))
    if problems:
        raise ProblemsError(problems)
    return {sid: source for sid, (source, _) in out.items()}


def source_of(rule_sets: Sequence[RuleSet], source_id: str) -> Source:
    sources = sources_of(rule_sets)
    if source_id not in sources:
        named = "、".join(f"{s.id}({s.name})" for s in sources.values()) or "(无)"
        raise ProblemsError(
            [
                Problem(
                    "unknown_source",
                    f"现行规则集中没有来源“{source_id}”。已声明的来源: {named}",
                    value=source_id,
                )
            ]
        )
    return sources[source_id]


def derived_by(rules: RuleSet, source_id: str) -> dict[str, Derive]:
    """The rule set's columns computed from ``source_id``."""
    return {col: rule for col, rule in rules.derived().items() if rule.source == source_id}


def derived_columns(rule_sets: Sequence[RuleSet]) -> dict[str, str]:
    """Every derived column id -> the source it comes from (never in a monthly table)."""
    return {col: rule.source for r in rule_sets for col, rule in r.derived().items()}


def source_units(
    registry: pd.DataFrame, rule_sets: Sequence[RuleSet], source_id: str
) -> pd.DataFrame:
    """The registry's graded units whose rule set derives a column from ``source_id``, with
    their parent's name and the id of that rule set: the units an export of it covers."""
    parts = []
    for rules in rule_sets:
        if not derived_by(rules, source_id):
            continue
        mask = leaf_mask(registry, rules.applies_to)
        parts.append(registry[mask].assign(rules_id=rules.id))
    if not parts:
        return pd.DataFrame(
            columns=["unit_code", "unit_name", "unit_type", "parent_code", "parent_name"]
        )
    units = pd.concat(parts, ignore_index=True).drop_duplicates("unit_code")
    names = dict(zip(registry["unit_code"], registry["unit_name"], strict=True))
    units["parent_name"] = units["parent_code"].map(names).fillna("")
    return units.sort_values("unit_code", ignore_index=True)


def derive(
    events: pd.DataFrame,
    rule_sets: Sequence[RuleSet],
    source: Source,
    units: pd.DataFrame,
    period: str,
) -> pd.DataFrame:
    """One row per unit of ``units`` (``source_units``): unit_code, period and every column
    its rule set derives from ``source``, from ``events`` (``ingest_events``' frame)."""
    codes = units["unit_code"].to_numpy(dtype=object)
    at = pd.Index(codes).get_indexer(events["unit_code"].to_numpy(dtype=object))
    inside = at >= 0
    events, at = events[inside], at[inside]
    n = len(codes)
    has_events = np.bincount(at, minlength=n) > 0
    out = pd.DataFrame({"unit_code": codes, "period": period})
    for rules in rule_sets:
        rows = (units["rules_id"] == rules.id).to_numpy()
        for column, rule in derived_by(rules, source.id).items():
            if column not in out:
                out[column] = np.nan
            values = aggregate(events, at, n, rule, source)
            if rule.empty is not None:
                values = np.where(has_events, values, float(rule.empty))
            else:
                values = np.where(has_events, values, np.nan)
            out.loc[rows, column] = values[rows]
    return out


def aggregate(
    events: pd.DataFrame, at: np.ndarray, n: int, rule: Derive, source: Source
) -> np.ndarray:
    """The rule's figure for each of ``n`` units (``at``: each event's unit position), before
    the no-events rule."""
    where = matches(events, rule.where, source)
    if rule.aggregate == "count":
        return np.bincount(at[where], minlength=n).astype(np.float64)
    if rule.aggregate == "share":
        among = matches(events, rule.among, source)
        den = np.bincount(at[among], minlength=n).astype(np.float64)
        num = np.bincount(at[among & where], minlength=n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num * 100.0 / den, np.nan)  # as rate: exactly
    values = measure(events, rule.value)
    keep = where & ~np.isnan(values)
    grouped = pd.Series(values[keep]).groupby(at[keep])
    reduced = {"mean": grouped.mean, "median": grouped.median, "max": grouped.max}[rule.aggregate]()
    out = np.full(n, np.nan)
    out[reduced.index.to_numpy(dtype=np.int64)] = reduced.to_numpy(dtype=np.float64)
    return out


def matches(events: pd.DataFrame, filters: Sequence[Filter], source: Source) -> np.ndarray:
    """Which events pass every filter (all of them when there is none)."""
    mask = np.ones(len(events), dtype=bool)
    for condition in filters:
        mask &= _passes(events, condition, source)
    return mask


def _passes(events: pd.DataFrame, condition: Filter, source: Source) -> np.ndarray:
    if condition.within is not None:
        span = condition.within
        limit = span.days * SECONDS["days"] if span.days is not None else span.hours * 3_600.0
        seconds = _seconds(events, span)
        with np.errstate(invalid="ignore"):
            return (seconds >= 0) & (seconds <= limit)
    values = events[condition.column]
    kind = source.column(condition.column).type
    if condition.filled is not None:
        filled = values.notna().to_numpy() & (values.astype(str) != "").to_numpy()
        return filled if condition.filled else ~filled
    if condition.op is not None:
        numbers = values.to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return _compare(numbers, condition.op, float(condition.value))
    wanted = condition.one_of or []
    if kind in ("flag", "number"):
        targets = [float(v) for v in wanted if not isinstance(v, str)]
        targets += [1.0 for v in wanted if isinstance(v, str) and normalise(v) in ("是", "true")]
        targets += [0.0 for v in wanted if isinstance(v, str) and normalise(v) in ("否", "false")]
        return np.isin(values.to_numpy(dtype=np.float64), targets)
    keys = map_distinct(values.astype(str), normalise)
    return keys.isin({normalise(str(v)) for v in wanted}).to_numpy()


def _compare(values: np.ndarray, op: str, bound: float) -> np.ndarray:
    return {
        ">": values > bound,
        ">=": values >= bound,
        "<": values < bound,
        "<=": values <= bound,
        "==": values == bound,
        "!=": (values != bound) & ~np.isnan(values),
    }[op]


def measure(events: pd.DataFrame, value: str | Span | None) -> np.ndarray:
    """The number each event contributes to a mean, median or maximum: a number column, or the
    days (hours) between two dates; NaN where it has none (or the span runs backwards)."""
    if isinstance(value, str):
        return events[value].to_numpy(dtype=np.float64)
    seconds = _seconds(events, value)
    with np.errstate(invalid="ignore"):
        return np.where(seconds >= 0, seconds / SECONDS[value.unit], np.nan)


def _seconds(events: pd.DataFrame, span: Span) -> np.ndarray:
    start = events[span.start].to_numpy(dtype="datetime64[s]")
    end = events[span.end].to_numpy(dtype="datetime64[s]")
    seconds = (end - start).astype("timedelta64[s]").astype(np.float64)
    seconds[np.isnat(start) | np.isnat(end)] = np.nan
    return seconds


AGGREGATE_WORDS = {
    "count": "计数",
    "share": "占比(%)",
    "mean": "平均",
    "median": "中位数",
    "max": "最大值",
}


def describe(rule: Derive, source: Source) -> str:
    """The rule in words, for the unit page: 占比(%): 回访结果为 满意/基本满意 的事件,在
    回访结果为 满意/基本满意/不满意 的事件中;无事件时为不适用."""
    names = {c.id: c.name for c in source.columns}

    def condition(f: Filter) -> str:
        if f.within is not None:
            span = f.within
            limit = f"{span.days:g} 天" if span.days is not None else f"{span.hours:g} 小时"
            return f"{names[span.start]}到{names[span.end]}不超过 {limit}"
        name = names.get(f.column, f.column)
        if f.filled is not None:
            return f"{name}{'已填' if f.filled else '为空'}"
        if f.op is not None:
            return f"{name} {f.op} {f.value:g}"
        shown = ["是" if v is True else "否" if v is False else str(v) for v in f.one_of or []]
        return f"{name}为 {'/'.join(shown)}"

    def events(filters: list[Filter]) -> str:
        return "、".join(map(condition, filters)) + "的事件" if filters else "全部事件"

    text = f"{AGGREGATE_WORDS[rule.aggregate]}: "
    if rule.aggregate == "share":
        text += f"{events(rule.where)},在{events(rule.among)}中"
    elif rule.aggregate == "count":
        text += events(rule.where)
    else:
        value = rule.value
        measured = (
            names.get(value, value)
            if isinstance(value, str)
            else f"{names[value.start]}到{names[value.end]}的{'天数' if value.unit == 'days' else '小时数'}"
        )
        text += f"{events(rule.where)}的{measured}"
    empty = "不适用" if rule.empty is None else f"{rule.empty:g}"
    return text + f";本月无事件时为{empty}"
