"""消息: reminders for the signed-in user (tasks due or overdue, streets not reported), each
with a link to what it is about."""

from __future__ import annotations

import streamlit as st

from app.common import address_holds, local_time, safe, safe_href, service, sidebar
from assessment.service.inbox import messages, read

KINDS = {
    "task_due": "即将到期",
    "task_overdue": "已逾期",
    "not_reported": "未上报",
    "form_returned": "填报被退回",
}

svc = service()
address_holds()
sidebar(svc)
st.title("消息")
found = messages(svc)
if not found:
    st.info("还没有消息。督办事项到期、逾期,或街道未按时上报时,提醒会出现在这里。")
    st.stop()
unread = [m.id for m in found if not m.read]
if unread and st.button(f"全部标为已读({len(unread)})", key="read_all"):
    read(svc)
    st.rerun()
for m in found:
    with st.container(border=True):
        tag = "" if m.read else "🔴 "
        st.markdown(f"{tag}**{safe(m.title)}** · {KINDS.get(m.kind, m.kind)}")
        st.caption(local_time(m.created_at))
        st.text(m.body)
        c1, c2 = st.columns([1, 1])
        if m.link.startswith("/") and not m.link.startswith("//"):
            c1.markdown(
                f'<a href="{safe_href(m.link)}" target="_self">打开 →</a>', unsafe_allow_html=True
            )
        if not m.read and c2.button("标为已读", key=f"read_{m.id}"):
            read(svc, [m.id])
            st.rerun()
