"""审计日志 (administrators): who did what and when, filtered and exported."""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from app.common import address_holds, grid, service, sidebar
from assessment.outputs.exports import csv_bytes
from assessment.service import ACTION_LABELS
from assessment.service.sessions import end_all_sessions, sessions_frame

svc = service()
address_holds()
sidebar(svc)
st.title("审计日志")
st.caption("每一次导入、评定、发布、规则修改、督办办理、账户变更、登录和越权尝试都记录在此。")
c1, c2, c3 = st.columns([1, 2, 2])
who = c1.text_input("账户", key="audit_who", placeholder="全部")
actions = c2.multiselect(
    "操作",
    list(ACTION_LABELS),
    format_func=ACTION_LABELS.get,
    key="audit_actions",
    placeholder="全部操作",
)
today = dt.date.today()
days = c3.date_input(
    "日期", value=(today - dt.timedelta(days=30), today), key="audit_days", format="YYYY-MM-DD"
)
since, until = (days[0], days[-1]) if isinstance(days, tuple) and days else (None, None)
log = svc.audit(
    limit=5000,
    who=who.strip() or None,
    actions=actions or None,
    since=None if since is None else dt.datetime.combine(since, dt.time()),
    until=None if until is None else dt.datetime.combine(until + dt.timedelta(days=1), dt.time()),
)
shown = log.assign(
    action=log["action"].map(lambda a: ACTION_LABELS.get(a, a)),
    detail=log["detail"].map(lambda d: json.dumps(d, ensure_ascii=False, default=str)),
).rename(
    columns={"id": "编号", "at": "时间(UTC)", "who": "账户", "action": "操作", "detail": "详情"}
)
st.write(f"共 {len(shown)} 条(最多显示 5000 条,最新的在前)。")
grid(shown, hide_index=True, width="stretch", key="audit_table")
st.download_button(
    "导出(CSV)", csv_bytes(shown), file_name=f"审计日志_{today}.csv", mime="text/csv"
)

st.subheader("在线会话")
st.caption(
    "每个已登录的浏览器一行;结束某账户的全部会话后,它各处打开的页面在下一次操作时要求重新登录。"
)
open_now = sessions_frame(svc.db, svc.user)
grid(
    open_now.rename(
        columns={
            "user_name": "账户",
            "created_at": "登录时间(UTC)",
            "last_seen": "最近操作(UTC)",
            "idle_expires_at": "闲置到期(UTC)",
            "expires_at": "最长到期(UTC)",
            "client_address": "地址",
            "user_agent": "浏览器",
        }
    ),
    hide_index=True,
    width="stretch",
    key="open_sessions",
)
names = sorted(set(open_now["user_name"]))
if names:
    e1, e2 = st.columns([2, 1])
    ending = e1.selectbox("账户", names, key="end_sessions_for")
    if e2.button("结束该账户的全部会话", key="end_sessions"):
        ended = end_all_sessions(svc.db, svc.user, ending)
        st.success(f"已结束 {ending} 的 {ended} 个会话。")
