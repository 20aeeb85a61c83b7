"""What every page shares: the database, the graded district (cached), the user's scope, the
period picker, and color badges. Pages stay thin: widgets in, core call, chart or table out."""

from __future__ import annotations

import html
import os

import pandas as pd
import streamlit as st

from assessment.district import District, data_version, in_scope, load_district
from assessment.grades import display, legend
from assessment.store import Database, Scope, open_database
from assessment.store.database import ENV_VAR
from assessment.store.seed import seed_sample

ADMIN = "区县委组织部(全区)"


@st.cache_resource(show_spinner="正在打开数据库…")
def database() -> Database:
    """The database named by FIVECOLOR_DB (default ./data/fivecolor.db). The default local file
    is loaded with the bundled sample district on first start; a configured database (a real
    deployment) only when FIVECOLOR_SEED_SAMPLE=1."""
    db = open_database()
    if not os.environ.get(ENV_VAR) or os.environ.get("FIVECOLOR_SEED_SAMPLE") == "1":
        seed_sample(db)
    return db


@st.cache_resource(max_entries=4, show_spinner="正在评定…")
def _district(url: str, version: tuple) -> District:
    return load_district(database())


def district() -> District:
    """Cached on (database, data version): a new upload, rule version or assessment regrades."""
    db = database()
    return _district(db.url, data_version(db))


def user_scope() -> Scope:
    root = st.session_state.get("scope_root")
    return Scope.everything() if not root else Scope.of(root)


def user_name() -> str:
    return st.session_state.get("user_label", ADMIN)


def sidebar(d: District) -> None:
    """Who is looking: the district office sees everything, a street's organizer its units."""
    streets = d.registry[d.registry["unit_type"].isin(["街道", "镇", "乡"])]
    options = {ADMIN: ""} | {
        f"{n}组织委员": c for c, n in zip(streets["unit_code"], streets["unit_name"], strict=True)
    }
    label = st.sidebar.selectbox(
        "当前身份",
        list(options),
        key="user_label",
        help="演示用:不同身份只能看到和上传本辖区的单位",
    )
    st.session_state["scope_root"] = options[label]
    st.sidebar.caption(f"数据库: `{database().url.split('///')[-1]}`")


def period_picker(d: District, label: str = "月份") -> str | None:
    if not d.periods:
        if d.registry.empty or not d.rules:
            st.info(
                "数据库是空的:请先导入单位名册和规则集,例如 `fivecolor import registry units.csv`,"
                "再用 `fivecolor import data … -r rules/community.yaml` 导入数据。"
            )
        else:
            st.info("还没有任何月份的数据:请先到“数据上传”上传月度指标表。")
        return None
    current = st.session_state.get("period")
    index = d.periods.index(current) if current in d.periods else len(d.periods) - 1
    period = st.selectbox(label, d.periods, index=index, key=f"period_{label}")
    st.session_state["period"] = period
    return period


def visible(frame: pd.DataFrame, d: District) -> pd.DataFrame:
    return in_scope(frame, d.registry, user_scope())


def badge(key: str, size: str = "1rem") -> str:
    """A color badge that always carries its label (绿·好)."""
    colors = {k: h for k, _, h in legend()}
    text = display(key)
    fg = "white" if key in ("green", "blue", "red", "") else "#222"
    return (
        f'<span style="background:{colors.get(key, "#9e9e9e")};color:{fg};padding:2px 10px;'
        f'border-radius:10px;font-size:{size};font-weight:600">{html.escape(text)}</span>'
    )


def legend_bar() -> None:
    st.markdown(" ".join(badge(k, "0.85rem") for k, _, _ in legend()), unsafe_allow_html=True)


def selected(event: object, name: str) -> list[dict]:
    """The points picked in a chart's selection ``name`` (empty when nothing is picked)."""
    if not event:
        return []
    selection = event.get("selection", {})
    return list(selection.get(name) or [])
