"""五色图: the live color grid of the hierarchy, counts per color, drill-down."""

from __future__ import annotations

import streamlit as st

from app.charts import tile_grid
from app.common import legend_bar, period_picker, selected, service, sidebar
from app.publishing import month_banner, publish_panel
from assessment.grades import GRADE_ORDER, MISSING_LABEL
from assessment.service import Action

MAX_TILES = 600  # above this the unit level is shown one street at a time

svc = service()
d = svc.view()
sidebar(svc)
st.title("五色图")
zoom = st.session_state.pop("zoom_to", None)
if zoom:  # a street was clicked last run: apply it before the widgets are drawn
    st.session_state["level"] = "村/社区"
    st.session_state["parent_select"] = zoom
c1, c2, c3 = st.columns([1, 1, 2])
with c1:
    period = period_picker(d)
if period is None:
    st.stop()
names = d.names
table = d.table(period)
parents = d.parents(period)
streets = parents[parents["unit_type"].isin(["街道", "镇", "乡"])].sort_values("unit_code")
with c2:
    level = st.radio("层级", ["村/社区", "街道/乡镇", "区县"], horizontal=True, key="level")
with c3:
    options = ["全部", *streets["unit_code"]]
    if st.session_state.get("parent_select") not in options:
        st.session_state["parent_select"] = "全部"
    parent = st.selectbox(
        "上级单位",
        options,
        format_func=lambda c: "全部" if c == "全部" else names.get(c, c),
        key="parent_select",
    )
if parent != "全部":
    table = table[table["parent_code"] == parent]

# Counts per color with the change from the month before.
before = None
if d.periods.index(period) > 0:
    before = d.table(d.periods[d.periods.index(period) - 1])
    if parent != "全部":
        before = before[before["parent_code"] == parent]
cols = st.columns(6)
for col, (key, text) in zip(
    cols, [(g.key, g.display()) for g in GRADE_ORDER] + [("", MISSING_LABEL)], strict=True
):
    n = int((table["grade"] == key).sum())
    delta = None if before is None else n - int((before["grade"] == key).sum())
    col.metric(
        text,
        n,
        delta=delta,
        delta_color="off"
        if key in ("", "blue")
        else ("inverse" if key in ("yellow", "orange", "red") else "normal"),
    )
legend_bar()
month_banner(svc, period)
if svc.user.can(Action.ASSESS) and any(s.status != "published" for s in d.shown(period)):
    with st.expander(f"发布 {period} 的评定"):
        publish_panel(svc, period, key="overview")

if level == "区县":
    counties = parents[parents["unit_type"] == "区县"].assign(
        parent_name="区县(按下属街道/乡镇汇总)", reasons=""
    )
    st.caption("区县按下属街道/乡镇的得分汇总评定(规则集的 rollup)。")
    st.altair_chart(tile_grid(counties, columns=6, name="county"), key="counties")
elif level == "街道/乡镇":
    shown = streets if parent == "全部" else streets[streets["unit_code"] == parent]
    shown = shown.assign(parent_name="街道/乡镇(按下属单位汇总)", reasons="")
    st.caption(
        "点击一个街道/乡镇,进入其下属村/社区。评定方法: 规则集的 rollup(下属单位总分的平均)。"
    )
    event = st.altair_chart(
        tile_grid(shown, columns=6, name="zoom"), on_select="rerun", key="streets"
    )
    picked = selected(event, "zoom")
    if picked:
        st.session_state["zoom_to"] = picked[0]["unit_code"]
        st.rerun()
else:
    if len(table) > MAX_TILES:
        st.info(f"共 {len(table)} 个单位:请先选择一个上级单位,或切换到“街道/乡镇”层级。")
        st.stop()
    units = table.assign(parent_name=table["parent_code"].map(names))
    st.caption("点击一个单位查看详情:为什么是这个颜色、失分最多的指标、如何提升。")
    event = st.altair_chart(tile_grid(units), on_select="rerun", key="grid")
    picked = selected(event, "pick")
    if picked:
        st.session_state["unit"] = picked[0]["unit_code"]
        st.switch_page("app/unit.py")
