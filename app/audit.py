"""审计日志 (administrators): who did what and when, filtered and exported."""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from app.common import service, sidebar
from assessment.outputs.exports import csv_bytes
from assessment.service import ACTION_LABELS

svc = service()
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
st.dataframe(shown, hide_index=True, width="stretch", key="audit_table")
st.download_button(
    "导出(CSV)", csv_bytes(shown), file_name=f"审计日志_{today}.csv", mime="text/csv"
)
