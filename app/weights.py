"""规则与权重: change weights and bands, see at once which units would change color; save the
change as a new rule-set version. Nothing published changes until a new assessment is."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.charts import tile_grid
from app.common import period_picker, safe, service, sidebar
from assessment.grades import GRADE_KEYS, display
from assessment.problems import ProblemsError
from assessment.rule_loader import LoadedRules
from assessment.sensitivity import diff_rule_sets, weight_table, with_changes
from assessment.service import Action

MAX_TILES = 600

svc = service()
d = svc.view()
sidebar(svc)
st.title("规则与权重")
if not d.rules:
    st.info(d.empty_reason())
    st.stop()
c1, c2 = st.columns([1, 1])
with c1:
    names = {r.rules.id: f"{r.rules.name}({r.rules.version})" for r in d.rules}
    rules_id = st.selectbox("规则集", list(names), format_func=names.get, key="rules_id")
with c2:
    period = period_picker(d, "试算月份")
base = next(r for r in d.rules if r.rules.id == rules_id)
if period is None or not any(a.rules.id == rules_id for a in d.district.assessments):
    st.caption("有了月度数据后,这里可以试算权重调整会让哪些单位变色。")
    st.stop()


@st.cache_resource(max_entries=16, show_spinner="正在试算…")
def regrade(sha256: str, fingerprint: str, _loaded: LoadedRules):
    """Cached on (rule text hash, graded data)."""
    return d.regrade(_loaded)


@st.fragment
def editor() -> None:
    table = weight_table(base.rules)
    st.caption("修改权重(同级之间的相对值)和分数线,右侧立即显示哪些单位会变色。")
    left, right = st.columns([1, 1])
    with left:
        edited = st.data_editor(
            table[["id", "name", "kind", "weight"]].assign(
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
            },
            hide_index=True,
            key=f"weights_{rules_id}",
            height=420,
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
        else regrade(changed_rules.sha256, d.district.fingerprint(period), changed_rules)
    )
    counts, changed, table_after = d.weight_impact(rules_id, period, after)
    with right:
        counts = counts.assign(等级=counts["grade"].map(display)).rename(
            columns={"before": "调整前", "after": "调整后", "change": "变化"}
        )
        st.dataframe(counts[["等级", "调整前", "调整后", "变化"]], hide_index=True, width="stretch")
        st.markdown(f"**{len(changed)} 个单位会变色**")
        if len(changed):
            st.dataframe(
                pd.DataFrame(
                    {
                        "单位": changed["unit_name"],
                        "从": changed["grade_before"].map(display),
                        "到": changed["grade_after"].map(display),
                        "分数变化": changed["score_change"].round(2),
                        "": changed["direction"],
                    }
                ),
                hide_index=True,
                width="stretch",
                key="changed_units",
            )
    if not edits.empty:
        with st.expander("调整后的五色图", expanded=False):
            if len(table_after) > MAX_TILES:  # a city: draw only the units that change color
                table_after = table_after[table_after["unit_code"].isin(changed["unit_code"])]
                st.caption(f"单位较多,只显示会变色的 {len(table_after)} 个单位。")
            table_after = table_after.assign(
                parent_name=table_after["parent_code"].map(d.names),
                grade=table_after["grade"].astype(str),
            )
            if len(table_after):
                st.altair_chart(
                    tile_grid(table_after.head(MAX_TILES), name="after"), key="after_grid"
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
            else:
                st.success(
                    f"已保存为规则集版本 #{vid}(未发布:已发布的评定结果不会改变,发布新评定后才生效)。"
                )


editor()

st.subheader("发布评定")
versions_here = svc.rule_versions(rules_id)
if not svc.user.can(Action.ASSESS):
    st.caption("只有规则管理员或管理员可以发布评定结果。")
else:
    latest = versions_here.iloc[-1]
    st.caption("发布后,五色图按该版本显示;已发布的月份评定不会被改写(重新评定会生成新的一次评定)。")
    if st.button(
        f"以版本 #{latest['id']}({safe(latest['version'])})发布 {period} 的评定", key="publish"
    ):
        try:
            ids = svc.assess(period, [int(latest["id"])], publish=True)
        except ProblemsError as exc:
            st.error(safe(exc.problems[0].message))
        else:
            st.success(f"已发布 {period} 评定 #{ids[0]}。")
            st.rerun()

st.subheader("比较两个版本")
versions = versions_here
if len(versions) >= 2:
    labels = {int(v.id): f"#{v.id} {v.version} · {v.note or ''}" for v in versions.itertuples()}
    ids = list(labels)
    a, b = st.columns(2)
    va = a.selectbox("版本 A", ids, index=len(ids) - 2, format_func=labels.get, key="cmp_a")
    vb = b.selectbox("版本 B", ids, index=len(ids) - 1, format_func=labels.get, key="cmp_b")
    diff = diff_rule_sets(svc.rule_version(va).rules, svc.rule_version(vb).rules)
    st.dataframe(
        diff.rename(columns={"item": "项目", "before": "版本 A", "after": "版本 B"}).drop(
            columns="id"
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.caption("该规则集目前只有一个版本。")
