"""规则与权重: change weights and bands, see at once which units would change color; save the
change as a new rule-set version. Nothing published changes until a new assessment is."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import tile_grid
from app.common import (
    EMPTY_CELL,
    address_holds,
    copy_link,
    from_link,
    grid,
    keep_in_address,
    period_picker,
    safe,
    service,
    sidebar,
)
from app.publishing import month_banner, publish_panel
from assessment.insight.sensitivity import (
    diff_rule_sets,
    effective_weights,
    weight_table,
    with_changes,
)
from assessment.problems import ProblemsError
from assessment.rules.grades import GRADE_KEYS, display
from assessment.rules.loader import LoadedRules
from assessment.service import Action

MAX_TILES = 600

svc = service()
address_holds("rules", "version", "month")
d = svc.view()
sidebar(svc)
st.title("规则与权重")
copy_link(key="copy_weights")
if not d.rules:
    st.info(d.empty_reason())
    st.stop()
flash = st.session_state.pop("rules_saved", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
c1, c2, c3 = st.columns([1, 1, 1])
with c1:
    names = {r.rules.id: r.rules.name for r in d.rules}
    from_link("rules", "rules_id", list(names))
    rules_id = st.selectbox("规则集", list(names), format_func=names.get, key="rules_id")
saved = svc.rule_versions(rules_id)
with c2:  # any saved version can be reopened, drafts included; the newest by default
    labels = {
        int(v.id): f"第{k}版 · {v.version}" + ("(已发布)" if v.published else "(草稿)")
        for k, v in enumerate(saved.itertuples(), start=1)
    }
    version_key = f"base_{rules_id}_{len(labels)}"  # a new version is selected once saved
    from_link("version", version_key, list(labels))
    base_id = st.selectbox(
        "编辑的版本",
        list(labels),
        index=len(labels) - 1 if version_key not in st.session_state else 0,
        format_func=labels.get,
        key=version_key,
    )
    keep_in_address(rules=rules_id, version=base_id)
with c3:
    period = period_picker(d, "试算月份")
base = svc.rule_version(base_id)
if st.session_state.get("weights_base") != (rules_id, base_id):  # another version reopened:
    for k in [
        k for k in st.session_state if str(k).startswith(("weights_", "band_", "note_", "ver_"))
    ]:
        del st.session_state[k]  # its own weights and bands, not the last one's edits
    st.session_state["weights_base"] = (rules_id, base_id)
if period is None or not any(a.rules.id == rules_id for a in d.district.assessments):
    st.caption("有了月度数据后,这里可以试算权重调整会让哪些单位变色。")
    st.stop()


@st.cache_resource(max_entries=16, show_spinner="正在试算…")
def regrade(sha256: str, fingerprint: str, part: str, _loaded: LoadedRules):
    """Cached on (rule text hash, graded data, the part of the store graded)."""
    return d.regrade(_loaded)


@st.fragment
def editor() -> None:
    table = weight_table(base.rules)
    table["effective"] = effective_weights(table)
    st.caption(
        "修改权重(同级之间的相对值)和分数线,右侧立即显示与该月现在显示的结果相比哪些单位会变色。"
    )
    left, right = st.columns([1, 1])
    with left:
        edited = st.data_editor(
            table[["id", "name", "kind", "weight", "effective"]].assign(
                name=[
                    ("　" * int(dep)) + n
                    for n, dep in zip(table["name"], table["depth"], strict=True)
                ],
                kind=table["kind"].map({"dimension": "维度", "indicator": "指标"}),
            ),
            column_config={
                "id": None,
                "name": st.column_config.TextColumn("名称", disabled=True),
                "kind": st.column_config.TextColumn("类别", disabled=True),
                "weight": st.column_config.NumberColumn("权重", min_value=0.0, step=1.0),
                "effective": st.column_config.NumberColumn(
                    "占总分(%)", disabled=True, format="%.1f%%", help="同级占比逐级相乘"
                ),
            },
            hide_index=True,
            key=f"weights_{rules_id}",
            height=420,
            placeholder=EMPTY_CELL,
        )
        bands = {}
        cols = st.columns(4)
        for col, key in zip(cols, GRADE_KEYS[:-1], strict=True):
            bands[key] = col.number_input(
                f"{display(key)} ≥",
                value=float(getattr(base.rules.grades, key).min_score),
                step=1.0,
                key=f"band_{rules_id}_{key}",
            )
    weights = dict(zip(edited["id"], edited["weight"], strict=True))
    try:
        changed_rules = with_changes(base, weights, bands)
    except ProblemsError as exc:
        right.error(
            "调整后的规则有误:\n\n"
            + "\n\n".join(f"- {safe(p.path)}: {safe(p.message)}" for p in exc.problems)
        )
        return
    edits = diff_rule_sets(base.rules, changed_rules.rules)
    after = (
        None
        if edits.empty
        else regrade(
            changed_rules.sha256, d.district.fingerprint(period), d.district.part, changed_rules
        )
    )
    counts, changed, table_after = d.weight_impact(rules_id, period, after)
    with right:
        counts = counts.assign(等级=counts["grade"].map(display)).rename(
            columns={"before": "调整前", "after": "调整后", "change": "变化"}
        )
        grid(counts[["等级", "调整前", "调整后", "变化"]], hide_index=True, width="stretch")
        st.markdown(f"**{len(changed)} 个单位会变色**")
        if len(changed):
            why = table_after.set_index("unit_code")["reasons"]
            grid(
                pd.DataFrame(
                    {
                        "单位": changed["unit_name"],
                        "街道/乡镇": changed["parent_code"].map(d.names),
                        "从": changed["grade_before"].map(display),
                        "到": changed["grade_after"].map(display),
                        "分数变化": changed["score_change"].round(2),
                        "调整后的原因": changed["unit_code"]
                        .map(why)
                        .fillna("")
                        .replace("", "按分数定级"),
                    }
                ),
                hide_index=True,
                width="stretch",
                key="changed_units",
            )
        moved_weights = table.assign(
            after=effective_weights(table.assign(weight=edited["weight"].to_numpy()))
        )
        moved_weights = moved_weights[
            (moved_weights["after"] - moved_weights["effective"]).abs() > 0.05
        ]
        if len(moved_weights):
            st.caption("占总分的比重变化(%)")
            grid(
                pd.DataFrame(
                    {
                        "名称": moved_weights["name"],
                        "调整前": moved_weights["effective"].round(1),
                        "调整后": moved_weights["after"].round(1),
                    }
                ),
                hide_index=True,
                width="stretch",
                key="moved_weights",
            )
    if after is not None:
        with st.expander("各月份、各街道的影响", expanded=False):
            months = [
                {"月份": p, "会变色的单位": len(d.weight_impact(rules_id, p, after)[1])}
                for p in d.periods
            ]
            grid(pd.DataFrame(months), hide_index=True, key="impact_months")
            if len(changed):
                by_street = (
                    changed.assign(street=changed["parent_code"].map(d.names))
                    .groupby("street")
                    .agg(
                        变好=("direction", lambda x: int((x == "变好").sum())),
                        变差=("direction", lambda x: int((x == "变差").sum())),
                    )
                    .reset_index()
                    .rename(columns={"street": "街道/乡镇"})
                )
                grid(by_street, hide_index=True, key="impact_streets")
    if not edits.empty:
        with st.expander("调整后的五色图", expanded=False):
            only = st.toggle(
                "只看会变色的单位", value=len(table_after) > MAX_TILES, key="only_moved"
            )
            if only:  # (a city: only these are drawn)
                table_after = table_after[table_after["unit_code"].isin(changed["unit_code"])]
            else:
                st.caption("加粗描边的是会变色的单位。")
            table_after = table_after.assign(
                moved=table_after["unit_code"].isin(changed["unit_code"])
            )
            table_after = table_after.assign(
                parent_name=table_after["parent_code"].map(d.names),
                grade=table_after["grade"].astype(str),
            )
            if len(table_after):
                st.vega_lite_chart(
                    spec=tile_grid(table_after.head(MAX_TILES), name="after"), key="after_grid"
                )
        if not svc.user.can(Action.EDIT_RULES):
            st.caption(f"{svc.user.role.label}可以试算,保存新版本须由规则管理员或管理员操作。")
            return
        note = st.text_input("修改说明(保存新版本时必填)", key=f"note_{rules_id}")
        version = st.text_input(
            "新版本号", value=f"{base.rules.version}-调整", key=f"ver_{rules_id}"
        )
        s1, s2 = st.columns(2)
        final = with_changes(base, weights, bands, version=version)
        s2.download_button(
            "下载 YAML", final.text.encode("utf-8"), file_name=f"{rules_id}-{version}.yaml"
        )
        if s1.button("保存为新版本", type="primary", disabled=not note.strip()):
            try:
                vid = svc.save_rules(final, note)
            except ProblemsError as exc:
                st.error(safe(exc.problems[0].message))
            else:  # the whole page, not only this fragment: the versions and publishing change
                st.session_state["rules_saved"] = (
                    f"已保存为“{names[rules_id]}”的新版本 #{vid}(草稿:已发布的评定结果不会改变,"
                    "在下方“发布评定”中发布后才生效)。"
                )
                st.rerun(scope="app")


editor()

with st.expander("哪些权重最影响颜色(每个权重单独 ±25%)"):
    sens = d.weight_sensitivity(rules_id, period)
    st.caption("每次只调一个权重,其他不变:会变色的单位数。数字越大,该权重越需要慎重。")
    grid(
        pd.DataFrame(
            {
                "名称": sens["name"],
                "类别": sens["kind"].map({"dimension": "维度", "indicator": "指标"}),
                "调高25%变色": sens["changed_up"],
                "调低25%变色": sens["changed_down"],
            }
        ),
        hide_index=True,
        width="stretch",
        key="sensitivity",
    )

st.subheader("发布评定")
versions_here = svc.rule_versions(rules_id)
latest = int(versions_here["id"].iloc[-1])
month_banner(svc, period)
st.caption(
    f"发布时,本规则集使用最新的第{len(versions_here)}版,其他规则集使用该月现在显示的版本;"
    "发布前会列出将变色的单位数,确认后才发布。"
)
publish_panel(svc, period, latest, key="weights")

st.subheader("比较两个版本")
versions = versions_here
if len(versions) >= 2:
    labels = {
        int(v.id): f"第{k}版 · {v.version} · {v.note or ''}"
        for k, v in enumerate(versions.itertuples(), start=1)
    }
    ids = list(labels)
    a, b = st.columns(2)
    va = a.selectbox("版本 A", ids, index=len(ids) - 2, format_func=labels.get, key="cmp_a")
    vb = b.selectbox("版本 B", ids, index=len(ids) - 1, format_func=labels.get, key="cmp_b")
    diff = diff_rule_sets(svc.rule_version(va).rules, svc.rule_version(vb).rules)
    grid(
        diff.rename(columns={"item": "项目", "before": "版本 A", "after": "版本 B"}).drop(
            columns="id"
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("该规则集目前只有一个版本。")
