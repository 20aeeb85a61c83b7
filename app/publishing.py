"""What a month shows (published, or a trial) and publishing it: a summary to confirm first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.common import grid, safe
from assessment.problems import ProblemsError
from assessment.service import Action, Service

NOW = {"published": "已发布", "stale": "已发布(之后数据有更新)", "trial": "试评(未发布)"}


def month_banner(svc: Service, period: str) -> None:
    """A banner saying whether ``period`` shows published results or a trial grading."""
    shown = svc.view().shown(period)
    versions = svc.rule_versions().set_index("id")["version"].to_dict() if shown else {}

    def which(s) -> str:
        return f"{safe(s.rules_name)}(版本 {safe(versions.get(s.version_id, ''))})"

    published = [s for s in shown if s.status == "published"]
    stale = [s for s in shown if s.status == "stale"]
    trial = [s for s in shown if s.status == "trial"]
    if published:
        when = {s.run_id: str(s.published_at)[:16] for s in published}
        st.success(
            f"{period} 显示的是已发布的评定结果: "
            + ";".join(f"{which(s)} 评定 #{s.run_id},发布于 {when[s.run_id]}" for s in published),
            icon=":material/verified:",
        )
    if stale:
        st.warning(
            f"{period} 显示的是发布时的结果("
            + ";".join(f"{which(s)} 评定 #{s.run_id}" for s in stale)
            + "),发布后该月或之前月份的数据有更新:重新发布后才按新数据显示。",
            icon=":material/history:",
        )
    if trial:
        st.warning(
            f"试评结果,尚未发布: {period} 的 "
            + "、".join(which(s) for s in trial)
            + " 按当前数据和在用的规则版本计算,仅供参考,发布后才是正式结果。",
            icon=":material/science:",
        )


def publish_panel(svc: Service, period: str, version_id: int | None = None, key: str = "") -> None:
    """Publish ``period`` for every rule set together, after a summary of what it changes."""
    flash = st.session_state.pop(f"published_{key}", None)
    if flash:
        st.success(flash, icon=":material/check_circle:")
    if not svc.user.can(Action.ASSESS):
        st.caption("只有规则管理员或管理员可以发布评定结果。")
        return
    asking = st.session_state.get(f"confirm_{key}") == (period, version_id)
    if not asking:
        if st.button(f"发布 {period} 的评定…", key=f"ask_{key}"):
            st.session_state[f"confirm_{key}"] = (period, version_id)
            st.rerun()
        return
    plan = svc.publish_plan(period, version_id)
    if plan.empty:
        st.info(f"{period} 没有可以发布的评定(没有数据或没有适用的单位)。")
        return
    st.markdown(f"**确认发布 {period} 的评定**:以下规则集将一起发布,发布后该月按此显示,不再改变。")
    grid(
        pd.DataFrame(
            {
                "规则集": plan["rules"],
                "版本": [
                    f"第{n}版 · {x}" for n, x in zip(plan["number"], plan["version"], strict=True)
                ],
                "当前显示": plan["now"].map(NOW),
                "适用起始月份": plan["applies_from"],
                "单位数": plan["units"],
                "将变色的单位": plan["changed"],
            }
        ),
        hide_index=True,
        width="stretch",
        key=f"plan_{key}",
    )
    changed = int(plan["changed"].sum())
    st.caption(
        f"与当前显示相比,共 {changed} 个单位的颜色会改变。"
        "一个版本自其首次发布的月份起适用于之后未另行发布的月份;已发布的月份不受影响。"
    )
    c1, c2 = st.columns([1, 4])
    if c1.button("确认发布", type="primary", key=f"yes_{key}"):
        try:
            ids = svc.publish_month(period, version_id)
        except ProblemsError as exc:
            st.error(safe(exc.problems[0].message))
            return
        st.session_state.pop(f"confirm_{key}", None)
        st.session_state[f"published_{key}"] = (
            f"已发布 {period} 的评定: "
            + "、".join(f"#{i}" for i in ids)
            + "。五色图已按发布结果显示。"
        )
        st.rerun()
    if c2.button("取消", key=f"no_{key}"):
        st.session_state.pop(f"confirm_{key}", None)
        st.rerun()
