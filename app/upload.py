"""数据上传: pick the month, see who has not reported yet, upload CSV/XLSX, see every problem at
once (repeated ones collapsed), preview in Chinese, confirm; or correct one cell online."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.common import address_holds, from_link, grid, keep_in_address, safe, service, sidebar
from app.event_upload import events_section
from app.problem_table import show_problems
from assessment.grading.scoring import next_period
from assessment.intake.numbers import is_yes_no
from assessment.service import Action, event_imports

svc = service()
address_holds("month")
d = svc.view()
sidebar(svc)
st.title("数据上传")
if d.empty or not d.rules:
    st.info(d.empty_reason())
    st.stop()
specs = {c.id: c for r in d.rules for c in [*r.rules.indicators(), *r.rules.inputs]}
derived = {c for r in d.rules for c in r.rules.derived()}  # computed from exports, not typed
NAMES = {
    "unit_code": "单位代码",
    "unit_name": "单位名称",
    "unit_type": "单位类型",
    "period": "月份",
    **{k: v.name or k for k, v in specs.items()},
}
flash = st.session_state.pop("upload_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")

months = sorted({*d.periods, next_period(d.periods[-1])} if d.periods else {"2026-01"})[::-1]
wanted = st.session_state.pop("upload_period_next", None)  # "use the month the file says"
if wanted:
    months = sorted({*months, wanted}, reverse=True)
    st.session_state["upload_period"] = wanted
c1, c2 = st.columns([1, 2])
with c1:
    from_link("month", "upload_period", months)
    period = st.selectbox("哪个月的数据", months, key="upload_period")
    keep_in_address(month=period)


def submission_tracker() -> None:
    status = svc.submissions(period)
    if status.empty:
        return
    deadline = status.attrs["deadline"]
    missing = status[~status["reported"]]
    late = pd.Timestamp.today().date() > deadline
    head = f"{period} 报送情况:应报 {len(status)} 个单位,已报 {len(status) - len(missing)} 个"
    head += f",未报 {len(missing)} 个 · 截止 {deadline}"
    if missing.empty:
        st.success(head + ",已全部报送。", icon=":material/task_alt:")
        return
    (st.error if late else st.info)(head + ("(已过截止日期)" if late else ""))
    by_street = (
        status.assign(street=d.names.names_of(status["parent_code"]).fillna(status["parent_code"]))
        .groupby("street", sort=True)
        .agg(应报=("reported", "size"), 已报=("reported", "sum"))
        .assign(未报=lambda t: t["应报"] - t["已报"])
        .reset_index()
        .rename(columns={"street": "街道/乡镇"})
    )
    names = missing.groupby("parent_code")["unit_name"].apply(lambda s: "、".join(s))
    by_street["未报单位"] = (
        by_street["街道/乡镇"].map({d.names.get(k, k): v for k, v in names.items()}).fillna("")
    )
    with st.expander(f"各街道/乡镇报送情况(未报 {len(missing)} 个单位)", expanded=late):
        grid(
            by_street.sort_values("未报", ascending=False),
            hide_index=True,
            width="stretch",
            key="tracker",
        )


submission_tracker()

if not svc.user.can(Action.UPLOAD):
    st.info(f"{svc.user.role.label}不上传数据(由各街道/乡镇组织员上传)。下面是您辖区的上传记录。")
else:
    with c2:
        st.download_button(
            "下载填报模板(.xlsx)",
            svc.template(period),
            file_name=f"五色图填报模板_{period}.xlsx",
            help="按规则集生成:中文表头、本辖区单位已预填、有效范围校验",
        )
    st.caption(
        "把 CSV 或 Excel 文件拖到下方框内,或点击“Browse files”(浏览文件)选择;"
        "单个文件不超过 100 MB(“Limit 100MB per file”)。上传后先检查,确认后才导入。"
    )
    uploaded = st.file_uploader(
        "上传月度指标表(CSV 或 Excel)", type=["csv", "xlsx"], key="upload_file"
    )
    if uploaded is not None:
        data = uploaded.getvalue()
        frame, problems = svc.check_upload(data, uploaded.name, period)
        show_problems(problems, NAMES, uploaded.name, key="problems")
        errors = [p for p in problems if p.severity == "error"]
        other = sorted({p.value for p in errors if p.code == "period_mismatch" and not p.more})
        if len(other) == 1:  # every row says one other month: offer it
            st.warning(f"文件中的月份是 {other[0]},而上传时选择的是 {period}。")
            if st.button(f"改为按 {other[0]} 上传", key="use_file_month"):
                st.session_state["upload_period_next"] = other[0]
                st.rerun()
        if frame is not None:
            st.subheader("预览")
            preview = frame.head(20).copy()
            for col in preview.columns:
                if col in specs and is_yes_no(specs[col]):
                    preview[col] = preview[col].map({1.0: "是", 0.0: "否"})
            grid(preview.rename(columns=NAMES), hide_index=True, width="stretch", key="preview")
            if st.button(f"确认导入 {len(frame)} 行", type="primary"):
                out = svc.upload(data, uploaded.name, period)
                if out.status == "imported":
                    st.success(f"已导入(第 {out.upload_id} 次上传)。")
                    if len(out.changes):
                        st.write(f"与已有数据相比,改动了 {len(out.changes)} 个数值(旧值仍可追溯):")
                        grid(out.changes, hide_index=True)
                elif out.status == "unchanged":
                    st.info("与之前上传的文件完全相同,未重复导入。")
                else:
                    st.error("导入失败:数据在检查后发生了变化,请重新检查。")

    events_section(svc, NAMES, period)

    with st.expander("在线更正一个数值"):
        st.caption("只改一个单元格:保存为一次新的上传(与文件上传一样检查,旧值可追溯)。")
        units = d.leaves()
        labels = dict(zip(units["unit_code"], units["unit_name"], strict=True))
        e1, e2, e3 = st.columns([2, 2, 1])
        unit = e1.selectbox(
            "单位", list(labels), format_func=lambda c: f"{labels[c]}({c})", key="fix_unit"
        )
        typed = [c for c in specs if c not in derived]
        column = e2.selectbox("指标", typed, format_func=NAMES.get, key="fix_column")
        value = e3.text_input("新值", key="fix_value")
        now = d.unit_values(unit, period).get(column)
        st.caption("现值: " + ("无" if now is None else f"{now:g}"))
        note = st.text_input("更正原因", key="fix_note")
        if st.button("提交更正", key="fix_submit", disabled=not value.strip()):
            out = svc.correct_value(period, unit, column, value.strip(), note)
            if out.status == "imported":
                st.session_state["upload_flash"] = (
                    f"已更正 {safe(labels[unit])} 的“{safe(NAMES[column])}”为 {safe(value)}"
                    f"(第 {out.upload_id} 次上传)。"
                )
                st.rerun()
            for p in out.problems:
                if p.severity == "error":
                    st.error(safe(p.message))

st.subheader("上传记录")
history = svc.upload_history()
if history.empty:
    st.write("还没有上传记录。")
else:
    kinds = {s.source.id: s.source.name for s in event_imports.sources(svc)}
    history = history.assign(
        status=history["status"].map({"imported": "已导入", "rejected": "未导入"}),
        source=history["source"].map(lambda s: kinds.get(s, s) if s else "月度表"),
    )
    grid(
        history[
            [
                "upload_id",
                "created_at",
                "author",
                "filename",
                "source",
                "period",
                "status",
                "rows",
                "errors",
                "warnings",
            ]
        ].rename(
            columns={
                "upload_id": "编号",
                "created_at": "时间",
                "author": "上传人",
                "filename": "文件",
                "source": "来源",
                "period": "月份",
                "status": "状态",
                "rows": "行数",
                "errors": "错误",
                "warnings": "警告",
            }
        ),
        hide_index=True,
        width="stretch",
    )
