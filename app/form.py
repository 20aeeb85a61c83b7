"""在线填报: a village or community enters its month on a phone. One field per column its rule
set reads, grouped by dimension, checked as it is entered with the upload's own messages,
last month's value beside each field; save a draft, submit, and see the grade it would give."""

from __future__ import annotations

import streamlit as st

from app.common import (
    address_holds,
    badge,
    from_link,
    keep_in_address,
    month_text,
    own_unit,
    phone_friendly,
    safe,
    service,
    sidebar,
)
from assessment.insight.explanation import next_grade_headline, reason_line
from assessment.problems import ProblemsError, errors_only
from assessment.service.forms import (
    STATUS_TEXT,
    check,
    entry,
    fields,
    not_applicable,
    open_months,
    save_draft,
    submit,
    trial,
)

svc = service()
phone_friendly()
address_holds("month")
sidebar(svc)
d = svc.view()
code = own_unit(d)
st.title("本月填报")
months = open_months(svc, code)  # this month, and a missed one filled late
from_link("month", "form_month", months)
period = st.selectbox("月份", months, format_func=month_text, key="form_month")
keep_in_address(month=period)
st.caption(safe(d.names.get(code, code)))

saved = entry(svc, code, period)
status = saved.status if saved else ""
st.markdown(f"**状态:{STATUS_TEXT[status]}**")
if status == "returned":
    st.warning(f"街道退回意见:{safe(saved.comment)}")
if status in ("submitted", "approved"):
    if status == "submitted":
        st.info("已提交,等待街道审核。审核通过前可再修改后重新提交。")
    else:
        st.success("街道已审核通过,数据已入库。")
form = fields(svc, code, period)
na = not_applicable(svc)
if status == "approved":
    st.stop()

values: dict[str, str] = {}
for f in form:  # a saved draft (or submission) comes back on any device
    key = f"f_{f.id}"
    if key not in st.session_state and saved is not None:
        kept = saved.values.get(f.id, "")
        st.session_state[key] = (kept or None) if f.kind == "yes_no" else kept
top = st.container(key="form_actions")  # the actions and their answer: on the first screen
slots = {}
group = None
for f in form:
    if f.group != group:
        group = f.group
        st.subheader(group)
    key = f"f_{f.id}"
    label = f"{f.name}" + (f"({f.unit})" if f.unit else "")
    rng = "" if f.low is None else f"有效范围 {f.low:g}~{f.high:g}"
    help_text = " ".join(x for x in (f.hint, rng, f"不适用请填“{na}”" if na else "") if x)
    if f.kind == "yes_no":
        options = ["是", "否", *([na] if na else [])]
        picked = st.radio(label, options, index=None, horizontal=True, key=key, help=help_text)
        values[f.id] = picked or ""
    else:
        kind = "整数" if f.kind == "count" else "数字"
        values[f.id] = st.text_input(
            label, key=key, help=help_text, placeholder=f"填{kind}" + (f",{rng}" if rng else "")
        )
    if f.last:
        st.caption(f"上月:{f.last}")
    slots[f.id] = st.empty()  # this field's messages, filled once every value is checked

entered = {k: v for k, v in values.items() if v.strip()}
if entered:  # the upload's own checks, on what has been entered so far
    for p in check(svc, code, period, values):
        if p.column in slots and p.column in entered:
            show = slots[p.column].error if p.severity == "error" else slots[p.column].warning
            show(safe(p.message))

c1, c2 = top.columns(2)  # drawn above the fields, filled once they are read
if c1.button("保存草稿", key="form_draft", use_container_width=True):
    save_draft(svc, code, period, values)
    top.success("草稿已保存,换台设备登录也能接着填。")
if c2.button("提交", key="form_submit", type="primary", use_container_width=True):
    try:
        submit(svc, code, period, values)
    except ProblemsError as exc:
        top.error(f"还有 {len(errors_only(exc.problems))} 处需要修改,已存为草稿:")
        for p in errors_only(exc.problems)[:20]:
            top.error(safe(p.message))
    else:
        st.session_state["form_submitted"] = True
        st.rerun()
if st.session_state.get("form_submitted") or status == "submitted":
    e = trial(svc, code, period, values)
    if e is not None:
        top.subheader("试算")
        top.markdown("若审核通过,预计为 " + badge(e.grade or "", "1.1rem"), unsafe_allow_html=True)
        if e.grade is not None:
            top.metric("预计总分", f"{e.score:.1f}")
            for r in e.reasons:
                top.error(safe(reason_line(r)))
            top.info(safe(next_grade_headline(e.next_grade)))
