"""五色图: the live color grid of the hierarchy at any of its levels (a tile click goes one level
down, the breadcrumb back up), counts per color (click one to filter), search at every level;
as tabs beside the map, drawn only when opened, the red/orange worklist and the units of the
level ranked by their red and orange units."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import ZOOM, for_phone, tile_grid
from app.common import (
    METRIC_WIDTH,
    address_holds,
    copy_link,
    from_link,
    grid,
    keep_in_address,
    legend_bar,
    metric_row,
    on_phone,
    open_picked_unit,
    period_picker,
    selected,
    service,
    sidebar,
)
from app.publishing import month_banner, publish_panel
from assessment.insight.levels import pages
from assessment.insight.rollup import grade_counts
from assessment.outputs.exports import csv_bytes
from assessment.rules.grades import GRADE_KEYS, GRADE_ORDER, MISSING_LABEL, display
from assessment.service import Action
from assessment.service.hierarchy import PAGE_TILES

MAX_SEARCH_LIST = 2000  # above this the search box is typed into, not a list of every unit
MAX_MATCHES = 50
MAX_LISTED = 300  # worklist rows shown; the export holds them all
VIEWS = ["五色图", "红橙单位清单", "排名"]  # the tabs under the counts

svc = service()
address_holds("month", "level", "parent", "page", "view")
d = svc.view()
sidebar(svc)
st.title("五色图")
copy_link(key="copy_map")
drill = st.session_state.pop("drill_to", None)
if drill:  # a tile or a breadcrumb was clicked last run: apply it before the widgets are drawn
    st.session_state["parent_select"], st.session_state["level"] = drill
    st.session_state["tile_page"] = 1
c1, c2, c3, c4 = st.columns([1, 1.8, 1.5, 1.5])
with c1:
    period = period_picker(d)
if period is None:
    st.stop()
names = d.names
levels = d.levels()
by_name = {lv.name: lv for lv in levels}
with c2:
    if st.session_state.get("level") not in by_name:  # first visit: where the scope opens
        opening = d.opening_level(PAGE_TILES)
        st.session_state["level"] = next(lv.name for lv in levels if lv.index == opening)
    from_link("level", "level", list(by_name))
    level = by_name[st.radio("层级", list(by_name), horizontal=True, key="level")]
graded_level = levels[-1]  # the graded units (村/社区); the levels above show roll-ups
below = next((lv for lv in levels if lv.index > level.index), None)
above = [lv for lv in levels if lv.index < level.index]


def _inside(code: str | None) -> str:
    """``code`` as the unit the map is opened under: itself when it is above the level shown,
    else its nearest ancestor that is, else 全部 (the whole scope)."""
    found = d.level_of(code) if code and code != "全部" else None
    if found is None:
        return "全部"
    chain = [c for c in d.path(code) if d.level_of(c) < level.index]
    return chain[-1] if chain else "全部"


with c3:
    current = _inside(st.session_state.get("parent_select"))
    linked = _inside(st.query_params.get("parent"))
    candidates = d.units_at(above[-1].index) if above and above[-1].units <= MAX_SEARCH_LIST else []
    extra = [c for c in (current, linked) if c != "全部" and c not in candidates]
    options = ["全部", *dict.fromkeys(extra), *candidates]
    st.session_state["parent_select"] = current
    from_link("parent", "parent_select", options)
    parent = st.selectbox(
        "上级单位",
        options,
        format_func=lambda c: "全部" if c == "全部" else names.get(c, c),
        key="parent_select",
    )
under = None if parent == "全部" else parent
keep_in_address(level=level.name, parent=under)
if under:  # the way back up: each unit above, and the whole scope
    crumbs = ["全部", *d.path(under)]
    cols = st.columns(min(len(crumbs), 6))
    for k, code in enumerate(crumbs[-6:]):
        label = "全部" if code == "全部" else names.get(code, code)
        arrow = "" if k == min(len(crumbs), 6) - 1 else " ›"
        if cols[k].button(label + arrow, key=f"crumb_{code}", type="tertiary"):
            after = next(
                (lv.name for lv in levels if code != "全部" and lv.index > d.level_of(code)),
                level.name,
            )
            st.session_state["drill_to"] = (code, after)
            st.rerun()


def _open_found() -> None:
    """The unit picked in the search box opens: a graded unit its page, a unit above them
    the map one level below it; the box is emptied for the way back."""
    code = st.session_state["unit_search"]
    st.session_state["unit_search"] = None
    st.session_state["unit_words"] = ""
    found = d.level_of(code)
    if found is not None and found < graded_level.index:
        after = next(lv.name for lv in levels if lv.index > found)
        st.session_state["drill_to"] = (code, after)
        return
    st.session_state["unit"] = code
    st.session_state["open_unit"] = True


def _found_label(code: str) -> str:
    found = d.level_of(code)
    kind = next((lv.name for lv in levels if lv.index == found), "")
    return f"{names.get(code, code)}({code}{',' + kind if found != graded_level.index else ''})"


with c4:
    if len(d.registry) > MAX_SEARCH_LIST:  # a city: type first, then pick among the matches
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
                format_func=_found_label,
                key="unit_search",
                on_change=_open_found,
            )
    else:
        st.selectbox(
            "查找单位",
            list(d.registry["unit_code"]),
            index=None,
            placeholder="输入名称或代码…",
            format_func=_found_label,
            key="unit_search",
            on_change=_open_found,
        )
if st.session_state.pop("open_unit", False):
    st.switch_page("app/unit.py")
table = d.under(d.table(period), under)

# Counts per color, the colors can be clicked to filter; the change from the month before is
# filled in after the map is drawn: a server that has just started reads that month after
# the latest, and the tiles need only the latest.
keys = [g.key for g in GRADE_ORDER] + [""]
counts = grade_counts(table["grade"])
counts_row = metric_row()
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
    # Folded (on_change="rerun"): runs only while open, as the panels at the foot of the page.
    box = st.expander(f"发布 {period} 的评定", key="publish_open", on_change="rerun")
    if box.open:
        with box:
            publish_panel(svc, period, key="overview")

if "tile_page" in st.session_state:  # kept while another tab is open (its box is not drawn)
    st.session_state["tile_page"] = st.session_state["tile_page"]
from_link("view", "map_view", VIEWS)
# Tabs that run only while open (on_change="rerun"): the map's first paint does not wait for
# the browser to lay out the list and the ranking (0.3-0.45 s of a session on the country).
open_view = dict(zip(VIEWS, st.tabs(VIEWS, key="map_view", on_change="rerun"), strict=True))
shown_view = next((v for v, tab in open_view.items() if tab.open), VIEWS[0])
keep_in_address(view=None if shown_view == VIEWS[0] else shown_view)


def _tiles() -> None:
    """The level's tiles, a page of whole groups at a time; a click opens a unit or goes one
    level down."""
    phone = on_phone()  # fewer tiles a row, each as wide and as legible as on a desk
    tiles = d.tiles(period, level.index, under)
    if only:
        tiles = tiles[tiles["grade"].isin(only)].reset_index(drop=True)
    page_of = pages(tiles["parent_code"], PAGE_TILES)  # whole groups a page
    n_pages = int(page_of.max()) + 1 if len(page_of) else 1
    if n_pages > 1:  # more than a person can read: whole groups a page, the pages numbered
        if st.session_state.get("tile_page") not in range(1, n_pages + 1):
            st.session_state["tile_page"] = 1
        from_link("page", "tile_page", list(range(1, n_pages + 1)))
        number = st.selectbox(
            f"共 {len(tiles)} 个{level.name},分 {n_pages} 页(按上级单位分组)",
            list(range(1, n_pages + 1)),
            format_func=lambda k: f"第 {k} / {n_pages} 页",
            key="tile_page",
        )
        keep_in_address(page=number)
        tiles = tiles[page_of == number - 1]
    else:
        keep_in_address(page=None)
    shown = tiles.assign(
        parent_name=tiles["group_name"].where(tiles["group_name"] != "", "(顶级)"),
    )
    if level.index == graded_level.index:
        shaky = d.stability(period, list(shown["unit_code"])).set_index("unit_code")["borderline"]
        shown = shown.assign(
            borderline=shown["unit_code"].map(shaky).fillna(False).astype(bool),
        )
        st.caption(
            f"{level.name}共 {len(tiles) if n_pages == 1 else len(page_of)} 个。"
            "点击一个单位查看详情:为什么是这个颜色、失分最多的指标、如何提升。"
        )
        if shown["borderline"].any():
            st.caption("带“边界”字样的单位:权重稍有变化就可能换颜色,定级前请复核。")
        open_picked_unit(
            st.vega_lite_chart(
                spec=tile_grid(shown, **(for_phone({}) if phone else {})),
                on_select="rerun",
                key="grid",
            ),
            "pick",
        )
    else:
        st.caption(
            f"{level.name}共 {len(page_of)} 个。点击一个{level.name},进入其下属{below.name}。"
            f"{level.name}的等级由下属{below.name}的得分汇总而来(按规则集的汇总方法)。"
        )
        event = st.vega_lite_chart(
            spec=tile_grid(shown, **(for_phone(ZOOM) if phone else ZOOM)),
            on_select="rerun",
            key=f"drill_{level.index}_{under or ''}",  # a new level starts with nothing picked
        )
        picked = selected(event, "zoom")
        if picked:
            st.session_state["drill_to"] = (picked[0]["unit_code"], below.name)
            st.rerun()


def _work_table(work: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "单位": work["unit_name"],
            "上级单位": work["street"],
            "等级": work["grade"].map(display),
            "总分": work["score"].round(1),
            "较上月": work["score_change"].round(1),
            "变化": work["change"],
            "原因": work["reasons"].replace("", "总分低"),
        }
    )


def _worklist() -> None:
    """The red and orange units, the worst first, with their stability and an export."""
    work = d.under(d.worklist(period), under)
    st.subheader(f"红橙单位清单({len(work)} 个)")
    if work.empty:
        st.write("本月没有红色或橙色单位。")
    else:
        listed = work.head(MAX_LISTED)  # the worst first; a province's full list is exported
        if len(work) > MAX_LISTED:
            st.caption(f"共 {len(work)} 个,下表列出最严重的 {MAX_LISTED} 个;完整清单请导出。")
        sure = d.stability(period, list(listed["unit_code"])).set_index("unit_code")
        grid(
            _work_table(listed).assign(稳定性=listed["unit_code"].map(sure["stability"])),
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
            lambda: csv_bytes(_work_table(work).assign(单位代码=work["unit_code"])),
            file_name=f"红橙单位清单_{period}.csv",
            mime="text/csv",
            key="worklist_csv",
        )


def _ranking() -> None:
    """The units of the level (or of the level above the graded units) ranked by their red
    and orange units, with their roll-ups."""
    by = level if level.index < graded_level.index else above[-1] if above else level
    summary = d.level_summary(period, by.index, svc.tasks(), under)
    st.subheader(f"{by.name}排名(按红、橙单位数)")
    if not summary.empty:
        grid(
            pd.DataFrame(
                {
                    by.name: summary["name"],
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


def _downloads() -> None:
    from assessment.outputs.exports import csv_bytes, parquet_bytes

    st.caption(
        "本辖区各村/社区本月的得分、等级、各维度得分和原因;其他系统也可经 API 直接读取"
        "(/api/v1/grades,见 docs/API.md)。"
    )
    g1, g2 = st.columns(2)
    g1.download_button(  # made when clicked: a country's table is not rendered on every run
        "下载 CSV",
        lambda: csv_bytes(d.table(period)),
        file_name=f"五色图评定结果_{period}.csv",
        key="grades_csv",
    )
    g2.download_button(
        "下载 Parquet",
        lambda: parquet_bytes(d.table(period)),
        file_name=f"五色图评定结果_{period}.parquet",
        key="grades_parquet",
    )


def _briefing() -> None:
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


def _quota() -> None:
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
            grid(
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


for tab, draw in zip(open_view.values(), (_tiles, _worklist, _ranking), strict=True):
    if tab.open:
        with tab:
            draw()

before = d.previous_table(period)
counts_before = None if before is None else grade_counts(d.under(before, under)["grade"])
for key in keys:
    counts_row.metric(
        display(key) if key else MISSING_LABEL,
        counts[key],
        delta=None if counts_before is None else counts[key] - counts_before[key],
        delta_color="off"
        if key in ("", "blue")
        else ("inverse" if key in ("yellow", "orange", "red") else "normal"),
        width=METRIC_WIDTH,
    )


# Folded panels run only while open (on_change="rerun"): closed, the browser gets a header
# alone, and the map's first paint does not wait for their forms and buttons.
for label, key, panel in (
    ("评定结果下载(CSV / Parquet,供其他系统和 BI 工具)", "downloads_open", _downloads),
    ("月度简报(Excel 与 PDF)", "briefing_open", _briefing),
    ("名额检查(仅供参考,不改变任何等级)", "quota_open", _quota),
):
    box = st.expander(label, key=key, on_change="rerun")
    if box.open:
        with box:
            panel()
