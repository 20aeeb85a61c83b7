"""趋势: the unit x month color map, month-to-month transitions, units falling month after month."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import grade_heatmap, level_progress, transition_heatmap
from app.common import address_holds, grid, open_picked_unit, service, sidebar
from assessment.insight.trends import transitions, worsening
from assessment.rules.grades import display

MAX_OPTIONS = 2000  # a level with more units is reached through the map's choice
svc = service()
address_holds("month")
d = svc.view()
sidebar(svc)
st.title("趋势")
if not d.periods:
    st.info(d.empty_reason())
    st.stop()
history = d.history()
names = d.names
levels = d.levels()
above = [lv for lv in levels[:-1] if lv.units <= MAX_OPTIONS]  # every level a list can hold
on_map = st.session_state.get("parent_select")  # where the map was opened, and above it
options = ["全部", *d.path(on_map if isinstance(on_map, str) else "")]
options += [c for lv in above for c in d.units_at(lv.index) if c not in options]
parent = st.selectbox(
    "上级单位(任一层级)",
    options,
    format_func=lambda c: "全部" if c == "全部" else names.get(c, c),
    key="trend_parent",
)
if parent != "全部":
    history = d.under(history, parent)

st.subheader("各单位逐月颜色")
if history["unit_code"].nunique() > 400:
    st.info("单位较多:请选择一个上级单位查看逐月颜色。")
else:
    st.caption("按上级单位分组,每行一个单位、每列一个月。点击一个格子打开该单位。")
    shown = history.assign(
        street=names.names_of(history["parent_code"]).fillna(history["parent_code"])
    )
    event = st.altair_chart(
        grade_heatmap(shown.sort_values("unit_code")), on_select="rerun", key="trend_map"
    )
    open_picked_unit(event, "unit_pick")

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
        grid(
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

st.subheader("预警:下月可能变差的单位")
upto = st.session_state.get("fall_until") or d.periods[-1]
ahead = d.forecast(upto)
if ahead.empty:
    st.write("数据不足,无法预测。")
else:
    month = ahead["period"].iloc[0]
    risky = ahead[(ahead["p_orange_or_red"] >= 0.5) | ahead["worse"]].sort_values(
        "p_orange_or_red", ascending=False
    )
    st.caption(
        f"按截至 {upto} 的各月得分预测 {month}:稳健趋势(中位斜率,按数据噪声收缩)加上各单位"
        "自身的波动。只看得分,预见不了否决项。"
    )
    grid(
        pd.DataFrame(
            {
                "单位": risky["unit_code"].map(names),
                "本月等级": risky["grade_now"].map(lambda g: display(g) if g else "数据不全"),
                "本月得分": risky["score_now"].round(1),
                f"{month} 预测得分": risky["predicted_score"].round(1),
                "橙/红概率": risky["p_orange_or_red"],
                "主要拖累指标": risky["drivers"],
            }
        ),
        hide_index=True,
        width="stretch",
        key="forecast",
        column_config={"橙/红概率": st.column_config.NumberColumn(format="percent")},
    )
    checks = d.backtest()
    better = checks[
        (checks["model_precision"] > checks["naive_precision"])
        & (checks["model_recall"] >= checks["naive_recall"])
    ]
    st.caption(
        "回测(每个月只用此前的月份预测下月“橙或红”,与“下月等级不变”比较):"
        + ";".join(
            f"{r.rules}: 精确率 {r.model_precision:.0%}(不变法 {r.naive_precision:.0%}),"
            f"召回率 {r.model_recall:.0%}(不变法 {r.naive_recall:.0%})"
            for r in checks.itertuples()
        )
        + "。"
        + (
            "预测优于“等级不变”的: " + "、".join(better["rules"]) + ";其余仅供参考。"
            if len(better)
            else "预测未优于“等级不变”,仅供参考。"
        )
    )

st.subheader("水平与进步(同类比较)")
fair = d.fair(upto)
if fair.empty or fair["progress"].isna().all():
    st.write("需要至少四个月的数据才能比较进步。")
else:
    st.caption(
        f"横轴:{upto} 得分;纵轴:近三个月的得分变化。左上是基础弱但进步快的单位,右下是"
        "基础尚可但在下滑的单位。同类 = 同类型、户数和党员人数相近的单位(规则集的 peers)。"
    )
    st.altair_chart(level_progress(fair.assign(unit_name=fair["unit_code"].map(names))))
    counts = fair["profile"].value_counts()
    st.caption(" · ".join(f"{k} {v}" for k, v in counts.items() if k))
