"""单位详情: why this color, the indicators that cost the most, the way up, the months before,
and the suggested follow-ups, each one click from a tracked task."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from app.charts import dimension_bars, score_trend
from app.common import (
    address_holds,
    badge,
    copy_link,
    from_link,
    grid,
    keep_in_address,
    on_phone,
    period_picker,
    phone_friendly,
    safe,
    service,
    sidebar,
)
from app.unit_events import events_section
from assessment.insight.explanation import (
    NO_REASON,
    STATUS_TEXT,
    next_grade_headline,
    plan_headline,
    reason_line,
)
from assessment.insight.plans import full_marks
from assessment.problems import ProblemsError
from assessment.rules.grades import display
from assessment.service import Action

PLAN_WHY = {"points": "补足分数", "floor": "补足维度底线"}
NARROW = ["指标", "原始值", "得分", "失分"]  # the indicator table on a phone

svc = service()
phone_friendly()
narrow = on_phone()  # the tables a screen wide: what the unit acts on, nothing sideways
address_holds("unit", "month")
d = svc.view()
sidebar(svc)
st.title("单位详情")
copy_link(key="copy_unit")
units = d.leaves()
if units.empty:
    st.info(d.empty_reason() if d.empty else "您的辖区内没有村/社区。")
    st.stop()
labels = {c: f"{n}({c})" for c, n in zip(units["unit_code"], units["unit_name"], strict=True)}
codes = list(labels)
asked = st.query_params.get("unit")
if asked is not None and asked not in labels:  # outside the scope, or no such unit: nothing of it
    st.warning(f"链接中的单位 {safe(asked[:40])} 不在您可查看的范围内,无法显示。")
    st.stop()
before = st.session_state.get("unit")
from_link("unit", "unit", codes)
if st.session_state.get("unit") != before and "unit_select" in st.session_state:
    st.session_state["unit_select"] = st.session_state["unit"]
current = st.session_state.get("unit")
c1, c2 = st.columns([2, 1])
with c1:
    code = st.selectbox(
        "单位",
        codes,
        index=codes.index(current) if current in codes else 0,
        format_func=labels.get,
        key="unit_select",
    )
    st.session_state["unit"] = code
    keep_in_address(unit=code)
with c2:
    period = period_picker(d)
if period is None:
    st.stop()
a = d.assessment_of(code, period)
e = d.explain(code, period)
if a is None or e is None:
    st.warning("该单位不在任何规则集的评定范围内。")
    st.stop()

st.markdown(f"### {safe(e.unit_name)}")
st.markdown(badge(e.grade or "", "1.1rem"), unsafe_allow_html=True)  # our grade table only
m1, m2, m3, m4 = st.columns(4)
m1.metric("总分", "—" if math.isnan(e.score) else f"{e.score:.1f}")
m2.metric("按分数应为", display(e.score_grade or ""))
m3.metric("规则集版本", a.rules.version, help=a.rules.name)
sure = d.stability(period, [code]).set_index("unit_code")
if code in sure.index and not math.isnan(sure.loc[code, "stability"]):
    share = float(sure.loc[code, "stability"])
    m4.metric(
        "等级稳定性",
        f"{share:.0%}",
        help="权重在 ±25% 内随机浮动 1000 次,保持当前等级的比例;低于 80% 为边界单位",
    )
    if share < 0.8:
        others = {
            g: float(sure.loc[code, f"p_{g}"]) for g in ("green", "blue", "yellow", "orange", "red")
        }
        alt_grade = max((g for g in others if g != e.grade), key=others.get)
        st.warning(
            f"边界单位:权重稍有变化,{others[alt_grade]:.0%} 的情况下会是{display(alt_grade)}。"
            "定级前请复核其数据和扣分项。",
            icon=":material/balance:",
        )
shown = next((s for s in d.shown(period) if s.rules_id == a.rules.id), None)
status = (
    f"已发布(评定 #{shown.run_id})"
    if shown and shown.status == "published"
    else f"发布时的结果(评定 #{shown.run_id}),之后数据有更新;指标明细按当前数据"
    if shown and shown.status == "stale"
    else "试评,尚未发布"
)
st.caption(f"评定依据: {safe(a.rules.name)}(版本 {safe(a.rules.version)})· {status}")

peers = d.fair(period)
mine = peers[peers["unit_code"] == code]
if len(mine) and mine["profile"].iloc[0]:
    r = mine.iloc[0]
    progress = "" if pd.isna(r["progress"]) else f",近三个月 {r['progress']:+.1f} 分"
    st.info(
        f"同类比较:在 {safe(r['peer_group'])}({int(r['peer_size'])} 个)中排第 "
        f"{int(r['peer_rank'])} 名,同类中位 {r['peer_median']:.1f} 分{progress}——{r['profile']}。",
        icon=":material/groups:",
    )

st.subheader("为什么是这个颜色")
if e.grade is None:
    st.warning(f"数据不全:{e.reasons[0].detail if e.reasons else ''}。不显示颜色,不计入排名。")
elif e.reasons:
    for r in e.reasons:
        st.error(safe(reason_line(r)))
quiet_vetoes = e.vetoes_triggered if not any(r.kind == "veto" for r in e.reasons) else ()
quiet_floors = [d for d in e.floors_breached if not any(r.id == d.id for r in e.reasons)]
if quiet_vetoes:
    st.warning(
        "触发了否决项(按分数已不高于其所限等级,未再降级): "
        + "、".join(safe(v) for v in quiet_vetoes)
    )
if quiet_floors:
    st.warning(
        "低于维度底线(按分数已不高于底线所限等级,未再降级): "
        + "、".join(f"{safe(d.name)} {d.score:.1f} < {d.floor:g}" for d in quiet_floors)
    )
if e.grade is not None and not (e.reasons or quiet_vetoes or quiet_floors):
    st.success(NO_REASON)

if e.grade is not None:
    left, right = st.columns([1, 1])
    with left:
        st.subheader("维度得分")
        dims = pd.DataFrame(
            [{"name": x.name, "score": x.score, "floor": x.floor} for x in e.dimensions]
        )
        st.altair_chart(dimension_bars(dims), width="stretch")
    with right:
        st.subheader("提升路径")
        ng = e.next_grade
        headline = next_grade_headline(ng)
        if ng.held_by:
            st.info(safe(headline))
        elif ng.target is None:
            st.success(safe(headline))
        else:
            st.markdown(safe(headline))
            if ng.candidates:
                grid(
                    pd.DataFrame(
                        [
                            {
                                "指标": c.name,
                                "当前值": c.raw_now,
                                "需要达到": c.raw_needed,
                                "方向": "降到 ≤" if c.lower_is_better else "提高到 ≥",
                            }
                            for c in ng.candidates
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "指标": st.column_config.TextColumn(width=110 if narrow else None),
                        "当前值": st.column_config.NumberColumn(format="%.2f"),
                        "需要达到": st.column_config.NumberColumn(format="%.2f"),
                    },
                )
        plan = e.plan
        if plan is not None and (ng.held_by or not ng.candidates):
            st.markdown(f"**{safe(plan_headline(plan))}**")
            if plan.moves:
                grid(
                    pd.DataFrame(
                        [
                            {
                                "指标": m.name,
                                "当前值": m.raw_now,
                                "目标值": m.target,
                                "方向": "降到 ≤" if m.lower_is_better else "提高到 ≥",
                                "目的": PLAN_WHY.get(m.why, ""),
                            }
                            for m in plan.moves
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                    key="plan",
                    column_config={
                        "指标": st.column_config.TextColumn(width=110 if narrow else None),
                        **({"目的": None} if narrow else {}),  # None: the column not shown
                        "当前值": st.column_config.NumberColumn(format="%.2f"),
                        "目标值": st.column_config.NumberColumn(format="%.2f"),
                    },
                )

    st.subheader("指标明细(失分从多到少)")
    targets = full_marks(a.compiled, a.periods[period])
    veto_lines = {v.column: f"{v.op} {v.value:g} 即否决" for v in a.rules.vetoes}
    rows = [
        {
            "指标": x.name,
            "原始值": x.raw,
            "满分值": targets.get(x.id),
            "否决线": veto_lines.get(x.id, ""),
            "单位": x.unit,
            "得分": x.score,
            "权重": x.weight * 100,
            "失分": x.lost,
            "说明": STATUS_TEXT.get(x.status, ""),
        }
        for x in e.indicators
    ]
    table = pd.DataFrame(rows)  # on a phone: each indicator's value, score and points lost
    grid(
        table[NARROW] if narrow else table,
        hide_index=True,
        width="stretch",
        column_config={
            "指标": st.column_config.TextColumn(width=120 if narrow else None),
            "原始值": st.column_config.NumberColumn(format="%.2f"),
            "满分值": st.column_config.NumberColumn(
                format="%.2f", help="达到此值得满分(按名次计分的指标随其他单位变化,不显示)"
            ),
            "得分": st.column_config.NumberColumn(format="%.1f"),
            "权重": st.column_config.NumberColumn("权重(%)", format="%.1f"),
            "失分": st.column_config.ProgressColumn(
                format="%.2f",
                min_value=0,
                max_value=max(1.0, max(r["失分"] for r in rows)),
                width=90 if narrow else None,
            ),
        },
    )

    events_section(svc, a.rules, code, period)

st.subheader("历月得分")
st.altair_chart(score_trend(d.unit_history(code), list(a.compiled.min_scores)), width="stretch")

st.subheader("处理意见")
flash = st.session_state.pop("unit_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
todo = d.suggestions(code, period)
if todo.empty:
    st.write("本月没有需要跟进的问题。")
existing = svc.tasks()
existing = existing[(existing["unit_code"] == code) & (existing["period"] == period)]
for k, row in enumerate(todo.to_dict("records")):
    done = existing[existing["source"] == row["source"]]
    with st.container(border=True):
        st.markdown(
            f"**{safe(row['action'])}**  \n责任: {safe(row['owner'])}"
            f" · 期限: 生成督办后 {int(row['due_days'])} 天内 · 依据: {safe(row['basis'])}"
        )
        if len(done):
            st.caption(f"已生成督办事项 #{int(done['id'].iloc[0])}({done['status'].iloc[0]})")
        elif svc.user.can(Action.MANAGE_TASKS) and st.button("生成督办事项", key=f"task_{k}"):
            try:
                ids = svc.create_tasks(pd.DataFrame([row]))
            except ProblemsError as exc:
                st.error(safe(exc.problems[0].message))
            else:
                st.session_state["unit_flash"] = f"已生成督办事项 #{ids[0]},可在“跟进督办”中跟踪。"
                st.rerun()
