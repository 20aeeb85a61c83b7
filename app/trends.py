"""趋势: the unit x month color map, month-to-month transitions, units falling month after month."""

from __future__ import annotations

import streamlit as st

from app.charts import grade_heatmap, transition_heatmap
from app.common import service, sidebar
from assessment.grades import display
from assessment.trends import transitions, worsening

svc = service()
d = svc.view()
sidebar(svc)
st.title("趋势")
if not d.periods:
    st.info(d.empty_reason())
    st.stop()
history = d.history()
names = d.names
parents = sorted(set(history["parent_code"]))
parent = st.selectbox(
    "上级单位",
    ["全部", *parents],
    format_func=lambda c: "全部" if c == "全部" else names.get(c, c),
    key="trend_parent",
)
if parent != "全部":
    history = history[history["parent_code"] == parent]

st.subheader("各单位逐月颜色")
if history["unit_code"].nunique() > 400:
    st.info("单位较多:请选择一个上级单位查看逐月颜色。")
else:
    st.altair_chart(grade_heatmap(history.sort_values("unit_code")), width="stretch")

left, right = st.columns([1, 1])
with left:
    st.subheader("月度颜色变化")
    st.caption("行: 上月颜色;列: 本月颜色;数字: 单位数(所有相邻月份合计)")
    st.altair_chart(transition_heatmap(transitions(history)))
with right:
    st.subheader("连续下滑的单位")
    months = st.slider("连续下滑月数 ≥", 2, 6, 3, key="fall_months")
    falling = worsening(history, months)
    if falling.empty:
        st.write("没有连续下滑的单位。")
    else:
        latest = history[history["period"] == d.periods[-1]].set_index("unit_code")["grade"]
        st.dataframe(
            falling.assign(
                单位=falling["unit_code"].map(names),
                本月=falling["unit_code"].map(latest).map(display),
            )
            .rename(
                columns={
                    "months_falling": "连续下滑月数",
                    "score_from": "起始得分",
                    "score_to": "本月得分",
                }
            )[["单位", "本月", "连续下滑月数", "起始得分", "本月得分"]]
            .round(1),
            hide_index=True,
            width="stretch",
        )
