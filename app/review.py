"""审核: a street's organizer sees each unit's form for the month against the deadline, opens a
submission with the values far from last month's flagged, approves or returns it with a
comment, or approves every unflagged one at once. The district sees the status per street."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.common import (
    METRIC_WIDTH,
    address_holds,
    day_text,
    from_link,
    grid,
    keep_in_address,
    local_time,
    metric_row,
    month_text,
    on_phone,
    phone_friendly,
    safe,
    service,
    sidebar,
)
from assessment.intake.divisions import short_name
from assessment.problems import ProblemsError
from assessment.service import Action
from assessment.service.forms import (
    STATUS_TEXT,
    approve,
    approve_unflagged,
    fields,
    fillable_months,
    flagged,
    return_form,
    tracker,
)
from assessment.service.forms import entry as form_entry

svc = service()
phone_friendly()
narrow = on_phone()  # the narrow lists: what a street's organizer decides on, nothing sideways
address_holds("month")
sidebar(svc)
st.title("填报审核")
flash = st.session_state.pop("review_flash", None)  # what the last step did, after its rerun
if flash:
    st.success(flash)
d = svc.view()
months = fillable_months()  # this month's and the missed ones, latest first
from_link("month", "review_month", months)
period = st.selectbox("月份", months, format_func=month_text, key="review_month")
keep_in_address(month=period)
table = tracker(svc, period)
if table.empty:
    st.info("您的辖区内没有村/社区。")
    st.stop()
deadline = table.attrs.pop("deadline")  # not for the grid: a date does not go into JSON
st.caption(f"截止日 {day_text(deadline)}。只有审核通过的数据计入评定。")
counts = table["status_text"].value_counts()
status_row = metric_row()  # on a phone: wrapped, not one count under the other
for label in STATUS_TEXT.values():
    status_row.metric(label, int(counts.get(label, 0)), width=METRIC_WIDTH)

names = d.names
if table["parent_code"].nunique() > 1:  # the district: the status per street
    st.subheader("各街道/乡镇")
    per = table.assign(street=table["parent_code"].map(lambda c: names.get(c, c)))
    summary = per.pivot_table(
        index="street", columns="status_text", values="unit_code", aggfunc="count", fill_value=0
    )
    summary["表单报送"] = per[per["by"] == "表单"].groupby("street").size()
    summary["文件报送"] = per[per["by"] == "文件"].groupby("street").size()
    summary["未报送"] = per[per["by"] == ""].groupby("street").size()
    summary["逾期"] = per[per["late"]].groupby("street").size()
    summary["平均审核用时(小时)"] = per.groupby("street")["review_hours"].mean().round(1)
    grid(summary.fillna(0), width="stretch", key="review_streets")

shown = table.assign(
    unit_name=table["unit_name"].map(short_name) if narrow else table["unit_name"],
    submitted_at=table["submitted_at"].map(local_time),
    late=table["late"].map({True: "⚠ 逾期", False: ""}),
)
columns = {
    "unit_code": "单位代码",
    "unit_name": "单位",
    "status_text": "状态",
    "late": "",
    "by": "报送方式",
    "submitted_at": "提交时间",
}
if narrow:  # the unit's short name, its status and when it came: the code and channel wait
    columns = {k: v for k, v in columns.items() if k in ("unit_name", "status_text", "late")}
    columns["submitted_at"] = "提交"
grid(
    shown[list(columns)].rename(columns=columns),
    hide_index=True,
    width="stretch",
    key="review_table",
)
waiting = table[table["status"] == "submitted"]
if waiting.empty:
    st.caption("没有待审核的填报。")
    st.stop()
if not svc.user.can(Action.UPLOAD):
    st.caption("审核由街道组织员进行。")
    st.stop()
if st.button(f"全部通过无异常的填报({len(waiting)} 份待审核)", key="approve_clean"):
    done = approve_unflagged(svc, period)
    st.session_state["review_flash"] = f"已通过 {len(done)} 份;有异常值的请逐份查看。"
    st.rerun()
labels = dict(zip(waiting["unit_code"], waiting["unit_name"], strict=True))
if narrow:
    labels = {code: short_name(name) for code, name in labels.items()}
unit = st.selectbox("查看一份填报", list(labels), format_func=labels.get, key="review_unit")
e = form_entry(svc, unit, period)
warned = {p.column: p.message for p in flagged(svc, unit, period)}
rows = []
for f in fields(svc, unit, period):
    row = {"指标": f.name, "填报值": e.values.get(f.id, ""), "上月": f.last}
    if not narrow:
        row["提示"] = warned.get(f.id, "")
    elif f.id in warned:  # three columns on a phone: the name marked, the message read above
        row["指标"] = f"⚠ {f.name}"
    rows.append(row)
if warned:
    lines = [f"{len(warned)} 项与上月相比变化很大,请核实。"]
    if narrow:  # the messages whole, here: the grid marks the flagged values only
        lines += [f"- {safe(message)}" for message in warned.values()]
    st.warning("\n".join(lines))
grid(pd.DataFrame(rows), hide_index=True, width="stretch", key="review_values")
comment = st.text_input("退回意见(退回时必填)", key=f"review_comment_{unit}")
c1, c2 = st.columns(2)
try:
    if c1.button("审核通过", type="primary", key="review_approve", use_container_width=True):
        approve(svc, unit, period)
        st.session_state["review_flash"] = f"{safe(labels[unit])} 的填报已通过并入库。"
        st.rerun()
    if c2.button("退回修改", key="review_return", use_container_width=True):
        return_form(svc, unit, period, comment)
        st.session_state["review_flash"] = "已退回,填报员会在消息中收到意见。"
        st.rerun()
except ProblemsError as exc:
    for p in exc.problems:
        st.error(safe(p.message))
