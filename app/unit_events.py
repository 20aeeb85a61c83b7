"""单位详情 · 事件: the events behind a unit's derived indicators (the 12345 tickets that make
its on-time rate), each marked whether the rule counts it."""

from __future__ import annotations

import streamlit as st

from app.common import grid, safe
from assessment.intake.derive import derived_by, describe, matches
from assessment.service import event_imports


def events_section(svc, rules, code: str, period: str) -> None:
    """One expander per source the unit's rule set derives from."""
    names = {c.id: c.name for c in [*rules.indicators(), *rules.inputs]}
    for source in rules.sources:
        derived = derived_by(rules, source.id)
        if not derived:
            continue
        events = event_imports.events_of(svc, code, period, source.id)
        title = (
            f"{source.name}:本月 {len(events)} 个事件(计算 {'、'.join(names[c] for c in derived)})"
        )
        with st.expander(title, expanded=False):
            if events.empty:
                st.write("本月没有导入该单位的事件。")
                continue
            column = st.selectbox(
                "按哪项计算标出事件",
                list(derived),
                format_func=names.get,
                key=f"events_{source.id}",
            )
            rule = derived[column]
            st.caption(safe(describe(rule, source)))
            shown = events.copy()
            shown.insert(0, "计入", matches(events, rule.where, source))
            if rule.aggregate == "share":
                shown.insert(1, "分母", matches(events, rule.among, source))
                shown["计入"] &= shown["分母"]
            headers = {c.id: c.name for c in source.columns}
            flags = [c.id for c in source.columns if c.type == "flag"]
            for flag in flags:
                shown[flag] = shown[flag].map({1.0: "是", 0.0: "否"})
            shown = shown.drop(columns=["unit_code"]).rename(
                columns={"event_id": headers[source.event_id], **headers}
            )
            grid(
                shown,
                hide_index=True,
                width="stretch",
                key=f"events_table_{source.id}",
                column_config={
                    "计入": st.column_config.CheckboxColumn(help="该事件是否计入所选指标"),
                    **{
                        headers[c.id]: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
                        for c in source.columns
                        if c.type == "date"
                    },
                },
            )
            st.caption(f"计入 {int(shown['计入'].sum())} 个事件。")
