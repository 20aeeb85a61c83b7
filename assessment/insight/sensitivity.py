"""Weight tweaking: a rule set with new weights or bands, what it changes, and how two versions
differ. The app shows the result at once; nothing published changes until an assessment is."""

from __future__ import annotations

import json

import pandas as pd
import yaml

from ..grading.engine import Assessment
from ..rules.grades import GRADE_KEYS
from ..rules.loader import LoadedRules, parse_rules
from ..rules.models import RuleSet


def with_changes(
    loaded: LoadedRules,
    weights: dict[str, float] | None = None,
    min_scores: dict[str, float] | None = None,
    version: str | None = None,
) -> LoadedRules:
    """The rule set with new weights (by dimension or indicator id) and grade min_scores,
    validated like any rule file (a zero weight or bands out of order are reported).

    Only the changed values are rewritten, in place in the YAML text: comments, key order,
    alignment and quoting stay as the rule's author wrote them, so a saved version differs
    from the one before by exactly the changed numbers."""
    weights = weights or {}
    root = yaml.compose(loaded.text, Loader=yaml.SafeLoader)
    edits: list[tuple[yaml.Node, str]] = []

    def walk(dims: yaml.Node | None) -> None:
        for dim in dims.value if isinstance(dims, yaml.SequenceNode) else []:
            for node in [dim, *_items(_value(dim, "indicators"))]:
                key = _value(node, "id")
                if key is not None and key.value in weights:
                    edits.append((_value(node, "weight"), _number(weights[key.value])))
            walk(_value(dim, "dimensions"))

    walk(_value(root, "dimensions"))
    for grade, value in (min_scores or {}).items():
        edits.append((_value(_value(_value(root, "grades"), grade), "min_score"), _number(value)))
    if version is not None:
        edits.append((_value(root, "version"), json.dumps(version, ensure_ascii=False)))
    text = _replace(loaded.text, [(node, new) for node, new in edits if node is not None])
    return parse_rules(text, source=f"{loaded.rules.id}(调整)")


def _value(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((v for k, v in mapping.value if k.value == key), None)


def _items(sequence: yaml.Node | None) -> list[yaml.Node]:
    return sequence.value if isinstance(sequence, yaml.SequenceNode) else []


def _number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _replace(text: str, edits: list[tuple[yaml.Node, str]]) -> str:
    """Each scalar node's text (quotes included) replaced, from the end so offsets hold.
    (The pure-Python SafeLoader's marks count characters of ``text``; libyaml's count bytes.)"""
    for node, new in sorted(edits, key=lambda e: e[0].start_mark.index, reverse=True):
        text = text[: node.start_mark.index] + new + text[node.end_mark.index :]
    return text


def effective_weights(table: pd.DataFrame) -> pd.Series:
    """Each row's share of the total score in percent (its weight over its siblings', times its
    parent's share), from a ``weight_table`` frame whose ``weight`` may have been edited."""
    parent = table["parent"].fillna("")
    share = table["weight"] / table.groupby(parent)["weight"].transform("sum")
    share = share.fillna(0.0)
    out = pd.Series(0.0, index=table.index)
    by_id = dict(zip(table["id"], table.index, strict=True))
    for depth in sorted(table["depth"].unique()):
        rows = table.index[table["depth"] == depth]
        up = [out[by_id[p]] if p in by_id else 1.0 for p in parent[rows]]
        out[rows] = share[rows].to_numpy() * up
    return out * 100


def weight_table(rules: RuleSet) -> pd.DataFrame:
    """Every dimension and indicator with its weight and its share of the parent."""
    rows = []

    def walk(dims, parent: str, depth: int) -> None:
        total = sum(d.weight for d in dims)
        for d in dims:
            rows.append(
                {
                    "id": d.id,
                    "name": d.name,
                    "kind": "dimension",
                    "parent": parent,
                    "depth": depth,
                    "weight": d.weight,
                    "share": d.weight / total,
                }
            )
            if d.indicators:
                t = sum(i.weight for i in d.indicators)
                for i in d.indicators:
                    rows.append(
                        {
                            "id": i.id,
                            "name": i.name,
                            "kind": "indicator",
                            "parent": d.id,
                            "depth": depth + 1,
                            "weight": i.weight,
                            "share": i.weight / t,
                        }
                    )
            walk(d.dimensions or [], d.id, depth + 1)

    walk(rules.dimensions, "", 0)
    return pd.DataFrame(rows)


def compare(
    before: Assessment, after: Assessment, period: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per grade before and after, and every unit whose color changes (from -> to)."""
    return compare_tables(before.table([period]), after.table([period]))


def compare_tables(before: pd.DataFrame, after: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``compare`` on two graded tables of one month (e.g. already cut to a scope)."""
    a = before[["unit_code", "unit_name", "parent_code", "score", "grade"]]
    b = after[["unit_code", "score", "grade"]]
    m = a.merge(b, on="unit_code", suffixes=("_before", "_after"))
    m["grade_before"] = m["grade_before"].astype(str)
    m["grade_after"] = m["grade_after"].astype(str)
    counts = pd.DataFrame(
        {
            "grade": [*GRADE_KEYS, ""],
            "before": [int((m["grade_before"] == g).sum()) for g in [*GRADE_KEYS, ""]],
            "after": [int((m["grade_after"] == g).sum()) for g in [*GRADE_KEYS, ""]],
        }
    )
    counts["change"] = counts["after"] - counts["before"]
    changed = m[m["grade_before"] != m["grade_after"]].copy()
    changed["score_change"] = changed["score_after"] - changed["score_before"]
    rank = {g: i for i, g in enumerate([*GRADE_KEYS, ""])}
    changed["direction"] = [
        "变好" if rank[t] < rank[f] else "变差"
        for f, t in zip(changed["grade_before"], changed["grade_after"], strict=True)
    ]
    return counts, changed.sort_values(["direction", "score_change"], ignore_index=True)


def diff_rule_sets(a: RuleSet, b: RuleSet) -> pd.DataFrame:
    """Weights, bands and scoring parameters that differ between two rule-set versions."""
    rows = []
    wa, wb = weight_table(a).set_index("id"), weight_table(b).set_index("id")
    for key in wa.index.union(wb.index):
        va = wa["weight"].get(key)
        vb = wb["weight"].get(key)
        if va != vb:
            name = (wb if key in wb.index else wa).loc[key, "name"]
            rows.append({"item": f"权重 · {name}", "id": key, "before": va, "after": vb})
    for g in GRADE_KEYS[:-1]:
        sa, sb = getattr(a.grades, g).min_score, getattr(b.grades, g).min_score
        if sa != sb:
            rows.append(
                {
                    "item": f"分数线 · {getattr(b.grades, g).label}",
                    "id": g,
                    "before": sa,
                    "after": sb,
                }
            )
    ia = {i.id: i.scoring.model_dump() for i in a.indicators()}
    ib = {i.id: i.scoring.model_dump() for i in b.indicators()}
    for key in sorted(set(ia) | set(ib)):
        if ia.get(key) != ib.get(key):
            rows.append(
                {
                    "item": f"评分方法 · {key}",
                    "id": key,
                    "before": str(ia.get(key)),
                    "after": str(ib.get(key)),
                }
            )
    return pd.DataFrame(rows, columns=["item", "id", "before", "after"])
