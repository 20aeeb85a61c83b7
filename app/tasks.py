"""跟进督办: follow-ups by status, owner and deadline, overdue first; move them along with a
comment; see whether next month's data cleared the cause."""

from __future__ import annotations

import streamlit as st

from app.common import safe, service, sidebar
from assessment.problems import ProblemsError
from assessment.service import TASK_STATUSES as STATUSES

svc = service()
d = svc.view()
sidebar(svc)
st.title("跟进督办")
tasks = svc.tasks()
if tasks.empty:
    st.info("还没有督办事项:在“单位详情”的处理意见中点击“生成督办事项”。")
    st.stop()
names = d.names


def resolution(row) -> str:
    result = d.cleared(row.unit_code, row.period, row.source)
    return {True: "已消除", False: "未消除", None: "待下月数据"}[result]


tasks = tasks.assign(
    unit_name=tasks["unit_code"].map(names),
    next_month=[resolution(r) for r in tasks.itertuples()],
    flag=tasks["overdue"].map({True: "⚠ 逾期", False: ""}),
)
c1, c2, c3 = st.columns(3)
status = c1.multiselect("状态", list(STATUSES), default=list(STATUSES[:3]), key="task_status")
owners = sorted(tasks["owner_role"].unique())
owner = c2.selectbox("责任方", ["全部", *owners], key="task_owner")
c3.metric("逾期", int(tasks.loc[tasks["status"] != "已销号", "overdue"].sum()))
shown = tasks[tasks["status"].isin(status)]
if owner != "全部":
    shown = shown[shown["owner_role"] == owner]
st.dataframe(
    shown[
        [
            "id",
            "flag",
            "status",
            "unit_name",
            "period",
            "action",
            "owner_role",
            "due_date",
            "next_month",
        ]
    ].rename(
        columns={
            "id": "编号",
            "flag": "",
            "status": "状态",
            "unit_name": "单位",
            "period": "月份",
            "action": "处理意见",
            "owner_role": "责任方",
            "due_date": "期限",
            "next_month": "下月数据",
        }
    ),
    hide_index=True,
    width="stretch",
    key="task_table",
)

st.subheader("办理")
ids = list(shown["id"])
if not ids:
    st.stop()
labels = {r.id: f"#{r.id} {r.unit_name} · {r.action[:30]}" for r in shown.itertuples()}
task_id = st.selectbox("督办事项", ids, format_func=labels.get, key="task_pick")
task = tasks[tasks["id"] == task_id].iloc[0]
# The status the user was shown when they opened the task: a step is taken from it, so a task
# someone else moved meanwhile is refused (已被他人修改), never moved on from a state not seen.
seen_key = f"task_seen_{task_id}"
seen = st.session_state.setdefault(seen_key, task["status"])
st.markdown(
    f"**{safe(task['action'])}**  \n状态: {seen} · 期限: {task['due_date']}"
    f" · 下月数据: {task['next_month']}"
)
if seen != task["status"]:
    st.warning(f"该事项已被他人修改:您打开时为“{seen}”,现为“{task['status']}”。")
    if st.button("载入最新状态", key="task_reload"):
        del st.session_state[seen_key]
        st.rerun()
allowed = svc.task_steps(seen)
if allowed:
    c1, c2 = st.columns([1, 2])
    to = c1.selectbox("改为", allowed, key="task_to")
    comment = c2.text_input("办理说明", key="task_comment", placeholder="如:已约谈,整改方案已报送")
    if st.button("提交", type="primary"):
        try:
            svc.move_task(int(task_id), to, comment, expected=seen)
        except ProblemsError as exc:
            st.error(safe(exc.problems[0].message))
        else:
            st.session_state[seen_key] = to
            st.success(f"#{task_id} → {to}")
            st.rerun()
elif seen == "已销号":
    st.success("已销号。")
else:
    st.caption(f"{svc.user.role.label}不能办理处于“{seen}”的事项。")
st.caption("办理记录")
st.dataframe(
    svc.task_events(int(task_id)).rename(
        columns={"at": "时间", "who": "办理人", "from": "原状态", "to": "新状态", "comment": "说明"}
    ),
    hide_index=True,
    width="stretch",
)
