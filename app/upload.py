"""数据上传: pick the month, upload CSV/XLSX, see every problem at once, preview, confirm."""

from __future__ import annotations

import streamlit as st

from app.common import service, sidebar
from assessment.pipeline import problems_frame
from assessment.scoring import next_period
from assessment.service import Action
from assessment.spreadsheets import problems_workbook

svc = service()
d = svc.view()
sidebar(svc)
st.title("数据上传")
if d.empty or not d.rules:
    st.info(d.empty_reason())
    st.stop()
if not svc.user.can(Action.UPLOAD):
    st.info(f"{svc.user.role.label}不上传数据(由各街道/乡镇组织员上传)。下面是您辖区的上传记录。")
else:
    months = sorted(
        {*d.periods, next_period(d.periods[-1])} if d.periods else {"2026-01"}, reverse=True
    )
    c1, c2 = st.columns([1, 2])
    with c1:
        period = st.selectbox("上传哪个月的数据", months, key="upload_period")
    with c2:
        st.download_button(
            "下载填报模板(.xlsx)",
            svc.template(period),
            file_name=f"五色图填报模板_{period}.xlsx",
            help="按规则集生成:中文表头、本辖区单位已预填、有效范围校验",
        )
    uploaded = st.file_uploader(
        "上传月度指标表(CSV 或 Excel)", type=["csv", "xlsx"], key="upload_file"
    )
    if uploaded is not None:
        data = uploaded.getvalue()
        frame, problems = svc.check_upload(data, uploaded.name, period)
        errors = [p for p in problems if p.severity == "error"]
        warnings = len(problems) - len(errors)
        if errors:
            st.error(
                f"发现 {len(errors)} 个错误、{warnings} 个警告:文件未导入。请按下表逐项修改后重新上传。"
            )
        elif problems:
            st.warning(f"没有错误,有 {warnings} 个警告(可以导入,请留意)。")
        else:
            st.success("检查通过,没有发现问题。")
        if problems:
            table = problems_frame(problems)
            table["severity"] = table["severity"].map({"error": "错误", "warning": "警告"})
            st.dataframe(
                table[["severity", "row", "column", "value", "title", "code", "message"]].rename(
                    columns={
                        "severity": "类型",
                        "title": "问题",
                        "row": "行",
                        "column": "列",
                        "value": "值",
                        "code": "代码",
                        "message": "说明",
                    }
                ),
                hide_index=True,
                width="stretch",
                key="problems",
            )
            st.download_button(
                "下载问题清单(.xlsx)",
                problems_workbook(problems),
                file_name=f"问题清单_{uploaded.name}.xlsx",
            )
        if frame is not None:
            st.subheader("预览")
            st.dataframe(frame.head(20), hide_index=True, width="stretch")
            if st.button(f"确认导入 {len(frame)} 行", type="primary"):
                out = svc.upload(data, uploaded.name, period)
                if out.status == "imported":
                    st.success(f"已导入(第 {out.upload_id} 次上传)。")
                    if len(out.changes):
                        st.write(f"与已有数据相比,改动了 {len(out.changes)} 个数值(旧值仍可追溯):")
                        st.dataframe(out.changes, hide_index=True)
                elif out.status == "unchanged":
                    st.info("与之前上传的文件完全相同,未重复导入。")
                else:
                    st.error("导入失败:数据在检查后发生了变化,请重新检查。")

st.subheader("上传记录")
history = svc.upload_history()
if history.empty:
    st.write("还没有上传记录。")
else:
    history = history.assign(
        status=history["status"].map({"imported": "已导入", "rejected": "未导入"})
    )
    st.dataframe(
        history[
            [
                "upload_id",
                "created_at",
                "author",
                "filename",
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
