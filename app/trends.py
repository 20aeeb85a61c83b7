"""趋势: the unit x month color map, month-to-month transitions, units falling month after month."""

from __future__ import annotations

import streamlit as st

from app.charts import grade_heatmap, transition_heatmap
from app.common import selected, service, sidebar
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
    st.caption("按街道/乡镇分组,每行一个单位、每列一个月。点击一个格子打开该单位。")
    shown = history.assign(street=history["parent_code"].map(names).fillna(history["parent_code"]))
    event = st.altair_chart(
        grade_heatmap(shown.sort_values("unit_code")), on_select="rerun", key="trend_map"
    )
    picked = selected(event, "unit_pick")
    if picked:
        st.session_state["unit"] = picked[0]["unit_code"]
        st.switch_page("app/unit.py")

left, right = st.columns([1, 1])
with left:
    st.subheader("月度颜色变化")
    st.caption("行: 上月颜色;列: 本月颜色;数字: 单位数(所有相邻月份合计)")
    st.altair_chart(transition_heatmap(transitions(history)))
with right:
    st.subheader("连续下滑的单位")
    f1, f2 = st.columns(2)
    months = f1.slider("连续下滑月数 ≥", 2, 6, 3, key="fall_months")
    until = f2.selectbox("截至月份", d.periods[::-1], key="fall_until")
    upto = history[history["period"] <= until]
    first = d.periods[max(0, d.periods.index(until) - 6)]
    st.caption(f"统计截至 {until} 的连续月份(最早看到 {first}):每个月得分都比上个月低。")
    falling = worsening(upto, months)
    if falling.empty:
        st.write("没有连续下滑的单位。")
    else:
        latest = history[history["period"] == until].set_index("unit_code")["grade"]
        st.dataframe(
            falling.assign(
                单位=falling["unit_code"].map(names),
                等级=falling["unit_code"].map(latest).map(display),
            )
            .rename(
                columns={
                    "months_falling": "连续下滑月数",
                    "score_from": "起始得分",
                    "score_to": f"{until} 得分",
                }
            )[["单位", "等级", "连续下滑月数", "起始得分", f"{until} 得分"]]
            .round(1),
            hide_index=True,
            width="stretch",
        )
