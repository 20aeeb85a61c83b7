"""五色图: the live color grid of the hierarchy, counts per color (click one to filter), search,
the red/orange worklist and the streets ranked by their red and orange units."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import tile_grid
from app.common import (
    address_holds,
    copy_link,
    from_link,
    keep_in_address,
    legend_bar,
    open_picked_unit,
    period_picker,
    selected,
    service,
    sidebar,
)
from app.publishing import month_banner, publish_panel
from assessment.outputs.exports import csv_bytes
from assessment.rules.grades import GRADE_KEYS, GRADE_ORDER, MISSING_LABEL, display
from assessment.service import Action

MAX_TILES = 600  # above this the unit level is shown one street at a time
MAX_SEARCH_LIST = 2000  # above this the search box is typed into, not a list of every unit
MAX_MATCHES = 50
STREET_TYPES = ["街道", "镇", "乡"]

LEVELS = ["村/社区", "街道/乡镇", "区县"]
svc = service()
address_holds("month", "level", "parent")
d = svc.view()
sidebar(svc)
st.title("五色图")
copy_link(key="copy_map")
zoom = st.session_state.pop("zoom_to", None)
if zoom:  # a street was clicked last run: apply it before the widgets are drawn
    st.session_state["level"] = "村/社区"
    st.session_state["parent_select"] = zoom
c1, c2, c3, c4 = st.columns([1, 1.2, 1.5, 1.5])
with c1:
    period = period_picker(d)
if period is None:
    st.stop()
names = d.names
table = d.table(period)
parents = d.parents(period)
streets = parents[parents["unit_type"].isin(STREET_TYPES)].sort_values("unit_code")
with c2:
    if "level" not in st.session_state and len(table) > MAX_TILES:
        st.session_state["level"] = "街道/乡镇"  # a city opens at its streets, then drills down
    from_link("level", "level", LEVELS)
    level = st.radio("层级", LEVELS, horizontal=True, key="level")
with c3:
    options = ["全部", *streets["unit_code"]]
    from_link("parent", "parent_select", options)
    if st.session_state.get("parent_select") not in options:
        st.session_state["parent_select"] = "全部"
    parent = st.selectbox(
        "上级单位",
        options,
        format_func=lambda c: "全部" if c == "全部" else names.get(c, c),
        key="parent_select",
    )
keep_in_address(level=level, parent=None if parent == "全部" else parent)


def _open_found() -> None:
    """The unit picked in the search box opens; the box is emptied for the way back."""
    st.session_state["unit"] = st.session_state["unit_search"]
    st.session_state["unit_search"] = None
    st.session_state["unit_words"] = ""
    st.session_state["open_unit"] = True


leaves = d.leaves()
with c4:
    if len(leaves) > MAX_SEARCH_LIST:  # a city: type first, then pick among the matches
        words = st.text_input("查找单位", placeholder="输入名称或代码…", key="unit_words")
        hits = d.find_units(words, MAX_MATCHES)
        if words:
            st.selectbox(
                f"匹配的单位({len(hits)} 个)"
                if len(hits) < MAX_MATCHES
                else "匹配的单位(前 50 个)",
                list(hits["unit_code"]),
                index=None,
                placeholder="选择一个单位打开…" if len(hits) else "没有匹配的单位",
                format_func=lambda c: f"{names.get(c, c)}({c})",
                key="unit_search",
                on_change=_open_found,
            )
    else:
        st.selectbox(
            "查找单位",
            list(leaves["unit_code"]),
            index=None,
            placeholder="输入名称或代码…",
            format_func=lambda c: f"{names.get(c, c)}({c})",
            key="unit_search",
            on_change=_open_found,
        )
if st.session_state.pop("open_unit", False):
    st.switch_page("app/unit.py")
if parent != "全部":
    table = table[table["parent_code"] == parent]

# Counts per color with the change from the month before; the colors can be clicked to filter.
before = d.previous_table(period)
if before is not None and parent != "全部":
    before = before[before["parent_code"] == parent]
keys = [g.key for g in GRADE_ORDER] + [""]
counts = {k: int((table["grade"].replace("nan", "") == k).sum()) for k in keys}
cols = st.columns(6)
for col, key in zip(cols, keys, strict=True):
    delta = None if before is None else counts[key] - int((before["grade"] == key).sum())
    col.metric(
        display(key) if key else MISSING_LABEL,
        counts[key],
        delta=delta,
        delta_color="off"
        if key in ("", "blue")
        else ("inverse" if key in ("yellow", "orange", "red") else "normal"),
    )
only = st.pills(
    "只看",
    [k for k in keys if counts[k]],
    format_func=lambda k: f"{display(k) if k else MISSING_LABEL} {counts[k]}",
    selection_mode="multi",
    key="grade_filter",
)
legend_bar()
month_banner(svc, period)
if svc.user.can(Action.ASSESS) and any(s.status != "published" for s in d.shown(period)):
    with st.expander(f"发布 {period} 的评定"):
        publish_panel(svc, period, key="overview")

if level == "区县":
    counties = parents[parents["unit_type"] == "区县"].assign(
        parent_name="区县(按下属街道/乡镇汇总)", reasons=""
    )
    st.caption("区县的等级由下属街道/乡镇的得分汇总而来(按规则集的汇总方法)。")
    st.altair_chart(tile_grid(counties, columns=4, name="county", tile=170), key="counties")
elif level == "街道/乡镇":
    shown = streets if parent == "全部" else streets[streets["unit_code"] == parent]
    shown = shown.assign(parent_name="街道/乡镇(按下属单位汇总)", reasons="")
    st.caption(
        "点击一个街道/乡镇,进入其下属村/社区。街道/乡镇的等级由下属单位总分的平均而来;"
        "各街道红、橙单位数见下方排名。"
    )
    event = st.altair_chart(
        tile_grid(shown, columns=5, name="zoom", tile=170), on_select="rerun", key="streets"
    )
    picked = selected(event, "zoom")
    if picked:
        st.session_state["zoom_to"] = picked[0]["unit_code"]
        st.rerun()
else:
    units = table if not only else table[table["grade"].replace("nan", "").isin(only)]
    if len(units) > MAX_TILES:
        st.info(f"共 {len(units)} 个单位:请先选择一个上级单位,或切换到“街道/乡镇”层级。")
    else:
        shaky = d.stability(period, list(units["unit_code"])).set_index("unit_code")["borderline"]
        units = units.assign(
            parent_name=units["parent_code"].map(names),
            borderline=units["unit_code"].map(shaky).fillna(False).astype(bool),
        )
        if units["borderline"].any():
            st.caption("带“边界”字样的单位:权重稍有变化就可能换颜色,定级前请复核。")
        st.caption("点击一个单位查看详情:为什么是这个颜色、失分最多的指标、如何提升。")
        open_picked_unit(st.altair_chart(tile_grid(units), on_select="rerun", key="grid"), "pick")

left, right = st.columns([3, 2])
with left:
    work = d.worklist(period)
    if parent != "全部":
        work = work[work["unit_code"].isin(table["unit_code"])]
    st.subheader(f"红橙单位清单({len(work)} 个)")
    if work.empty:
        st.write("本月没有红色或橙色单位。")
    else:
        shown_work = pd.DataFrame(
            {
                "单位": work["unit_name"],
                "街道/乡镇": work["street"],
                "等级": work["grade"].map(display),
                "总分": work["score"].round(1),
                "较上月": work["score_change"].round(1),
                "变化": work["change"],
                "稳定性": work["unit_code"].map(
                    d.stability(period, list(work["unit_code"])).set_index("unit_code")["stability"]
                ),
                "原因": work["reasons"].replace("", "总分低"),
            }
        )
        st.dataframe(
            shown_work,
            hide_index=True,
            width="stretch",
            key="worklist",
            column_config={
                "稳定性": st.column_config.NumberColumn(
                    format="percent", help="权重浮动时保持该等级的比例;低于 80% 为边界单位"
                )
            },
        )
        st.download_button(
            "导出红橙单位清单(CSV)",
            csv_bytes(shown_work.assign(单位代码=work["unit_code"])),
            file_name=f"红橙单位清单_{period}.csv",
            mime="text/csv",
            key="worklist_csv",
        )
with right:
    county = level == "区县"
    summary = d.parent_summary(period, svc.tasks(), "county" if county else "street")
    st.subheader("区县汇总" if county else "街道/乡镇排名(按红、橙单位数)")
    if not summary.empty:
        st.dataframe(
            pd.DataFrame(
                {
                    "区县" if county else "街道/乡镇": summary["name"],
                    "红·差": summary["red"],
                    "橙·较差": summary["orange"],
                    "黄·合格": summary["yellow"],
                    "汇总等级": summary["grade"].map(
                        lambda g: display(g) if g in GRADE_KEYS else ""
                    ),
                    "平均分": summary["mean_score"].round(1),
                    "好转": summary["improving"],
                    "变差": summary["declining"],
                    "督办按期销号": summary["completion"],
                }
            ),
            hide_index=True,
            width="stretch",
            key="street_ranking",
            column_config={
                c: st.column_config.NumberColumn(format="percent", help=h)
                for c, h in (
                    ("好转", "得分比上月高 0.5 分以上的单位占比"),
                    ("变差", "得分比上月低 0.5 分以上的单位占比"),
                    ("督办按期销号", "已到期的督办事项中按期销号的比例"),
                )
            },
        )

with st.expander("月度简报(Excel 与 PDF)"):
    st.caption("按您的管辖范围生成:各等级单位数及变化、五色图、边界单位、预警名单、逾期督办。")
    ready = st.session_state.get("briefing")
    if st.button(f"生成 {period} 月度简报", key="make_briefing"):
        from assessment.outputs.briefing import pdf, workbook

        brief = svc.briefing(period)
        files = {"xlsx": workbook(brief)}
        try:
            files["pdf"] = pdf(brief)
        except RuntimeError as exc:
            st.warning(str(exc))
        st.session_state["briefing"] = ready = (period, files)
    if ready and ready[0] == period:
        files = ready[1]
        b1, b2 = st.columns(2)
        b1.download_button(
            "下载 Excel",
            files["xlsx"],
            file_name=f"五色图月度简报_{period}.xlsx",
            key="briefing_xlsx",
        )
        if "pdf" in files:
            b2.download_button(
                "下载 PDF",
                files["pdf"],
                file_name=f"五色图月度简报_{period}.pdf",
                mime="application/pdf",
                key="briefing_pdf",
            )

with st.expander("名额检查(仅供参考,不改变任何等级)"):
    st.caption(
        "评定按固定分数线,不强制比例。若上级要求“红色不超过 x%”或“末位 y%”,"
        "这里列出会受影响的单位,供研判。"
    )
    q1, q2 = st.columns(2)
    red_cap = q1.number_input("红色不超过(%),0 为不检查", 0.0, 100.0, 0.0, 1.0, key="quota_red")
    last = q2.number_input("末位比例(%),0 为不检查", 0.0, 50.0, 0.0, 1.0, key="quota_bottom")
    if red_cap or last:
        hit = d.quota(period, {"red": red_cap / 100} if red_cap else {}, last / 100 or None)
        if hit.empty:
            st.write("没有单位受影响。")
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "单位": hit["unit_name"],
                        "等级": hit["grade"].map(display),
                        "总分": hit["score"].round(1),
                        "名额": hit["rule"],
                        "影响": hit["effect"],
                    }
                ),
                hide_index=True,
                width="stretch",
                key="quota_table",
            )
