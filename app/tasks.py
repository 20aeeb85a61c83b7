"""跟进督办: follow-ups by status, owner and deadline, overdue first; open one by clicking its
row; sign for it, report it done, accept it or send it back with a comment; change the owner or
deadline; attach 整改材料; see whether next month's data cleared the cause."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from app.common import (
    address_holds,
    copy_link,
    day_text,
    from_link,
    grid,
    keep_in_address,
    local_time,
    on_phone,
    phone_friendly,
    safe,
    service,
    sidebar,
)
from assessment.intake.divisions import short_name
from assessment.problems import ProblemsError
from assessment.service import TASK_STATUSES as STATUSES
from assessment.service import Action, Role

COLUMNS = ["id", "flag", "status", "unit_name", "period", "action", "owner_role", "due_date"]
COLUMNS += ["next_month"]
NARROW = ["flag", "status", "unit_name", "due_date"]  # a street's list on a phone: what to act on

svc = service()
phone_friendly()
narrow = on_phone()  # the lists a screen wide; the rest is in a task when it is opened
address_holds("task")
d = svc.view()
sidebar(svc)
st.title("跟进督办")
flash = st.session_state.pop("tasks_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

if svc.user.can(Action.MANAGE_TASKS) and d.periods:
    latest = d.periods[-1]
    if st.button(f"为 {latest} 全部红/橙单位和否决项生成督办", key="tasks_urgent"):
        try:
            made = svc.create_urgent_tasks(latest)
        except ProblemsError as exc:
            st.error(safe(exc.problems[0].message))
        else:
            st.session_state["tasks_flash"] = (
                f"已生成 {len(made)} 项督办事项(#{made[0]}–#{made[-1]})。"
                if made
                else f"{latest} 的红/橙单位和否决项都已有督办事项,没有新生成。"
            )
            st.rerun()

tasks = svc.tasks()
if tasks.empty:
    st.info("还没有督办事项:在“单位详情”的处理意见中点击“生成督办事项”,或用上面的按钮一次生成。")
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
as_cards = svc.user.role == Role.REPORTER  # a village on a phone: its own tasks as cards
if as_cards:
    shown = tasks[tasks["status"] != "已销号"].reset_index(drop=True)
    event = None
else:
    c1, c2, c3, c4 = st.columns([2, 1, 2, 1])
    status = c1.multiselect("状态", list(STATUSES), default=list(STATUSES[:3]), key="task_status")
    owners = sorted(tasks["owner_role"].unique())
    owner = c2.selectbox("责任方", ["全部", *owners], key="task_owner")
    search = c3.text_input("查找(单位名称或编号,含已销号)", key="task_search").strip()
    c4.metric("逾期", int(tasks.loc[tasks["status"] != "已销号", "overdue"].sum()))
    if search:  # a search looks through every status: closed tasks stay findable
        number = search.lstrip("#")
        shown = tasks[
            tasks["unit_name"].fillna("").str.contains(search, regex=False)
            | (tasks["id"].astype(str) == number)
        ]
    else:
        shown = tasks[tasks["status"].isin(status)]
    if owner != "全部":
        shown = shown[shown["owner_role"] == owner]
    shown = shown.reset_index(drop=True)
    st.caption(f"共 {len(shown)} 项。点击一行打开该事项。")
    listed = shown[COLUMNS]
    if narrow:
        listed = shown[NARROW].assign(
            unit_name=shown["unit_name"].map(short_name, na_action="ignore")
        )
    event = grid(
        listed,
        hide_index=True,
        width="stretch",
        key="task_table",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "id": st.column_config.NumberColumn("编号", width=52, format="#%d"),
            "flag": st.column_config.TextColumn("", width=58),
            "status": st.column_config.TextColumn("状态", width=62),
            "unit_name": st.column_config.TextColumn("单位", width=92),
            "period": st.column_config.TextColumn("月份", width=66),
            "action": st.column_config.TextColumn("处理意见", width=210, help="打开事项可看全文"),
            "owner_role": st.column_config.TextColumn("责任方", width=92),
            "due_date": st.column_config.DateColumn("期限", width=88),
            "next_month": st.column_config.TextColumn("下月数据", width=76),
        },
    )
ids = [int(i) for i in shown["id"]]
if not ids:
    if as_cards:
        st.success("没有待办的督办事项。")
    st.stop()
picked_rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
if picked_rows and picked_rows != st.session_state.get("task_rows_seen"):
    st.session_state["task_rows_seen"] = picked_rows  # a new click opens that task
    st.session_state["task_pick"] = ids[picked_rows[0]]
asked = st.query_params.get("task")
if asked is not None and asked.isdigit() and int(asked) not in ids:
    st.warning(
        f"链接中的督办事项 #{int(asked)} 不在当前列表中:可能已销号(在上方“状态”中勾选已销号再找),"
        "或不在您可查看的范围内。"
    )
from_link("task", "task_pick", ids)
if st.session_state.get("task_pick") not in ids:
    st.session_state["task_pick"] = ids[0]

if not as_cards:  # on a phone the step to take comes first; a link is for the desk
    st.subheader("办理")
labels = {int(r.id): f"#{r.id} {r.unit_name} · {r.action[:30]}" for r in shown.itertuples()}
task_id = st.selectbox("督办事项", ids, format_func=labels.get, key="task_pick")
keep_in_address(task=task_id)
if not as_cards:
    copy_link(key="copy_task")
task = tasks[tasks["id"] == task_id].iloc[0]
# The status the user was shown when they opened the task: a step is taken from it, so a task
# someone else moved meanwhile is refused (已被他人修改), never moved on from a state not seen.
seen_key = f"task_seen_{task_id}"
seen = st.session_state.setdefault(seen_key, task["status"])
st.markdown(
    f"**{safe(task['action'])}**  \n状态: {seen} · 责任方: {safe(task['owner_role'])}"
    f" · 期限: {day_text(task['due_date'])}{'(已逾期)' if task['overdue'] else ''}"
    f" · 下月数据: {task['next_month']}"
)
if seen != task["status"]:
    st.warning(f"该事项已被他人修改:您打开时为“{seen}”,现为“{task['status']}”。")
    if st.button("载入最新状态", key="task_reload"):
        del st.session_state[seen_key]
        st.rerun()
allowed = svc.task_steps(seen)
if allowed:
    # widgets keyed by task and status: another task, or the next step, starts empty
    c1, c2 = st.columns([1, 2])
    to = c1.selectbox("改为", allowed, key=f"task_to_{task_id}_{seen}")
    comment_key = f"task_comment_{task_id}_{seen}"
    comment = c2.text_input("办理说明", key=comment_key, placeholder="如:已约谈,整改方案已报送")
    if st.button("提交", type="primary", key="task_submit", use_container_width=as_cards):
        try:
            svc.move_task(int(task_id), to, comment, expected=seen)
        except ProblemsError as exc:
            st.error(safe(exc.problems[0].message))
        else:
            st.session_state[seen_key] = to
            st.session_state["tasks_flash"] = f"#{task_id}: {seen} → {to}"
            st.rerun()
elif seen == "已销号":
    st.success("已销号。")
else:
    st.caption(f"{svc.user.role.label}不能办理处于“{seen}”的事项。")

if svc.user.can(Action.MANAGE_TASKS) and seen != "已销号":
    with st.expander("修改责任方或期限"):
        e1, e2 = st.columns(2)
        new_owner = e1.text_input("责任方", value=task["owner_role"], key=f"task_owner_{task_id}")
        new_due = e2.date_input(
            "期限", value=task["due_date"], min_value=dt.date(2000, 1, 1), key=f"task_due_{task_id}"
        )
        why = st.text_input("修改原因", key=f"task_why_{task_id}")
        if st.button("保存修改", key=f"task_edit_{task_id}"):
            try:
                svc.edit_task(int(task_id), new_owner, new_due, why)
            except ProblemsError as exc:
                st.error(safe(exc.problems[0].message))
            else:
                st.session_state["tasks_flash"] = f"#{task_id} 已修改,修改记录见办理记录。"
                st.rerun()

st.caption("整改材料")
files = svc.evidence(int(task_id))
for f in files.itertuples():
    name, data = svc.evidence_file(int(f.id))
    st.download_button(
        f"{name}({f.size / 1024:.0f} KB,{safe(f.who)} 上传于 {local_time(f.at)})",
        data,
        file_name=name,
        mime="application/octet-stream",  # saved, never opened in the browser
        key=f"evidence_{f.id}",
    )
if files.empty:
    st.caption("暂无材料。")
if svc.user.can(Action.WORK_TASKS) or svc.user.can(Action.MANAGE_TASKS):
    upload = st.file_uploader(
        "上传整改材料(手机上可直接拍照;PDF、图片、Word、Excel、WPS、文本)",
        type=["pdf", "jpg", "jpeg", "png", "doc", "docx", "xls", "xlsx", "wps", "txt"],
        key=f"evidence_upload_{task_id}_{len(files)}",
    )
    if upload is not None:
        try:
            svc.attach_evidence(int(task_id), upload.name, upload.getvalue())
        except ProblemsError as exc:
            st.error(safe(exc.problems[0].message))
        else:
            st.session_state["tasks_flash"] = f"已上传材料“{safe(upload.name)}”。"
            st.rerun()

st.caption("办理记录")
history = svc.task_events(int(task_id))
if "at" in history:  # stored in UTC: shown as the time where people are
    history["at"] = history["at"].map(local_time)
widths = {}
if narrow:  # each step's new status (the one before it is the row above)
    history = history.drop(columns="from", errors="ignore")
    widths = {"时间": 96, "办理人": 64, "新状态": 62, "说明": 110}
grid(
    history.rename(
        columns={"at": "时间", "who": "办理人", "from": "原状态", "to": "新状态", "comment": "说明"}
    ),
    hide_index=True,
    width="stretch",
    column_config={name: st.column_config.TextColumn(width=w) for name, w in widths.items()},
)
