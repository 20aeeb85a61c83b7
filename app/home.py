"""我的村/社区: a reporter's home on a phone: this month's reporting status and deadline, the
unit's grade and why, the path to the next grade, and its open tasks. One column, big targets,
the main facts in the first screen."""

from __future__ import annotations

import streamlit as st

from app.common import (
    address_holds,
    badge,
    day_text,
    month_text,
    own_unit,
    phone_friendly,
    safe,
    safe_href,
    service,
    sidebar,
)
from assessment.insight.explanation import NO_REASON, next_grade_headline, reason_line
from assessment.service.actions import reporting_month
from assessment.service.forms import open_months

svc = service()
phone_friendly()
address_holds()
sidebar(svc)
d = svc.view()
code = own_unit(d)
st.title(safe(d.names.get(code, code)))

reporting = reporting_month()
sent = svc.submissions(reporting) if reporting in d.periods else None
deadline = (sent.attrs["deadline"] if sent is not None else None) or None
if sent is not None and bool(sent.loc[sent["unit_code"] == code, "reported"].any()):
    st.success(f"{month_text(reporting)}的数据已上报。")
else:
    due = f",截止 {day_text(deadline)}" if deadline else ""
    st.warning(f"{month_text(reporting)}的数据尚未上报{due}。")
    st.page_link("app/form.py", label="去填报 →", icon=":material/edit_note:")

for missed in open_months(svc, code)[1:]:  # a month it never reported: still open a while
    st.warning(f"{month_text(missed)}的数据漏报,可补报。")
    st.page_link("app/form.py", label=f"补报{month_text(missed)} →", query_params={"month": missed})

if d.periods:
    period = d.periods[-1]
    e = d.explain(code, period)
    if e is not None:
        st.subheader(f"{month_text(period)}的等级")
        st.markdown(badge(e.grade or "", "1.3rem"), unsafe_allow_html=True)
        if e.grade is not None:
            st.metric("总分", f"{e.score:.1f}")
        for r in e.reasons:
            st.error(safe(reason_line(r)))
        if e.grade is not None and not e.reasons:
            st.caption(NO_REASON)
        if e.grade is not None:
            st.info(safe(next_grade_headline(e.next_grade)))
        link = safe_href(f"/unit?unit={code}&month={period}")
        st.markdown(f'<a href="{link}" target="_self">查看各项指标 →</a>', unsafe_allow_html=True)

st.subheader("待办的督办事项")
tasks = svc.tasks()
open_tasks = tasks[(tasks["unit_code"] == code) & (tasks["status"] != "已销号")]
if open_tasks.empty:
    st.caption("没有待办的督办事项。")
for t in open_tasks.itertuples():
    late = "(已逾期)" if t.overdue else ""
    with st.container(border=True):
        st.markdown(f"**{safe(t.action)}**")
        st.caption(f"{t.status} · 期限 {day_text(t.due_date)}{late}")
        link = safe_href(f"/tasks?task={t.id}")
        st.markdown(f'<a href="{link}" target="_self">办理 →</a>', unsafe_allow_html=True)
