"""数据上传 · 其他系统的导出: a rule set's source (the 12345 tickets) uploaded as exported, one
row per event; every problem at once, the values it gives each unit before confirming, then
imported as one upload. Monthly tables no longer carry these columns."""

from __future__ import annotations

import streamlit as st

from app.common import grid, safe
from app.problem_table import show_problems
from assessment.service import event_imports


def events_section(svc, names: dict[str, str], period: str) -> None:
    sources = event_imports.sources(svc)
    if not sources:
        return
    st.subheader("其他系统的导出")
    labels = {s.source.id: s.source.name for s in sources}
    chosen = st.radio(
        "来源", list(labels), format_func=labels.get, horizontal=True, key="events_source"
    )
    info = next(s for s in sources if s.source.id == chosen)
    source = info.source
    headers = "、".join(c.name for c in source.columns)
    st.caption(
        f"{safe(source.description or source.name)}。按原样上传导出文件(每行一个事件,"
        f"一个文件一个月),须有这些列: {safe(headers)};其他列不保存。"
        f"由它计算: {safe('、'.join(info.columns.values()))}(月度表中不再填报)。"
    )
    uploaded = st.file_uploader(
        f"上传{source.name}导出(CSV 或 Excel)", type=["csv", "xlsx"], key="events_file"
    )
    if uploaded is None:
        return
    data = uploaded.getvalue()
    checked = event_imports.check(svc, data, uploaded.name, chosen, period)
    show_problems(checked.problems, names, uploaded.name, key="events_problems")
    if checked.derived is None:
        return
    events = checked.events
    derived = checked.derived
    per_unit = events.groupby("unit_code").size()
    preview = derived.assign(事件数=derived["unit_code"].map(per_unit).fillna(0).astype(int))
    preview.insert(1, "单位名称", preview["unit_code"].map(svc.view().names))
    st.write(
        f"{checked.period}:{len(events)} 个事件,覆盖 {len(derived)} 个单位"
        f"(其中 {int((preview['事件数'] == 0).sum())} 个单位本月无事件)。按规则计算的结果:"
    )
    columns = ["unit_code", "单位名称", "事件数", *info.columns]
    grid(
        preview[[c for c in columns if c in preview.columns]]
        .sort_values("事件数", ascending=False)
        .rename(columns={"unit_code": "单位代码", **names}),
        hide_index=True,
        width="stretch",
        key="events_preview",
        column_config={
            c: st.column_config.NumberColumn(format="%.4g") for c in info.columns.values()
        },
    )
    if st.button(f"确认导入 {len(events)} 个事件", type="primary", key="events_confirm"):
        out = event_imports.import_export(svc, data, uploaded.name, chosen, checked.period)
        if out.status == "imported":
            st.session_state["upload_flash"] = (
                f"已导入{source.name} {checked.period} 的 {out.rows} 个事件(第 {out.upload_id} 次上传),"
                f"改动 {len(out.changes)} 个数值。"
            )
            st.rerun()
        elif out.status == "unchanged":
            st.info("与之前上传的文件完全相同,未重复导入。")
        else:
            st.error("导入失败:数据在检查后发生了变化,请重新检查。")
