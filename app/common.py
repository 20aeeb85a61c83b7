"""What every page shares: the database, the signed-in user and their service, the period
picker, color badges and safe text. Pages stay thin: widgets in, one service call, chart or
table out. Nothing here decides what a user may see: the service does."""

from __future__ import annotations

import datetime as dt
import html
import os
import re

import streamlit as st

from app.charts import color_key
from assessment.rules.grades import display, legend
from assessment.service import (
    Action,
    Database,
    Principal,
    Service,
    SignInError,
    View,
    sign_in,
    sign_in_sso,
)
from assessment.service.accounts import Policy, idle_expired, refresh
from assessment.service.demo import demo_logins, has_accounts, open_app_database
from assessment.service.district import warm_up


@st.cache_resource(show_spinner="正在打开数据库…")
def database() -> Database:
    """The database named by FIVECOLOR_DB (default ./data/fivecolor.db, loaded with the demo
    district and its demo accounts on first start). The store is graded in the background
    meanwhile, so the first sign-in finds the map ready."""
    db = open_app_database()
    warm_up(db)
    return db


# -- who is signed in ------------------------------------------------------------------------


def current_user() -> Principal | None:
    """The signed-in user, re-read from the database on every run (a disabled account stops at
    its next click); None after sign-out or when the session has been idle too long."""
    user: Principal | None = st.session_state.get("principal")
    if user is None:
        return None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    if idle_expired(st.session_state.get("last_seen"), now, Policy.from_env()):
        sign_out("会话因长时间未操作已结束,请重新登录。")
        return None
    try:
        user = refresh(database(), user)
    except SignInError as exc:
        sign_out(exc.problems[0].message)
        return None
    st.session_state["principal"] = user
    st.session_state["last_seen"] = now
    return user


def sign_out(message: str = "") -> None:
    user = st.session_state.get("principal")
    if user is not None:
        Service(database(), user).sign_out()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if message:
        st.session_state["signed_out_because"] = message


def service() -> Service:
    user = current_user()
    if user is None:  # pages run only after the entry script found a user; never bypass it
        st.stop()
    return Service(database(), user)


def view() -> View:
    return service().view()


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def login_page() -> None:
    """The sign-in form (and single sign-on when configured); on success, rerun as the user."""
    db = database()
    if "wanted_page" not in st.session_state:  # open the page asked for once signed in
        url = st.context.url or ""
        st.session_state["wanted_page"] = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    demo = demo_logins(db)
    if demo:
        demo_banner()
    st.title("五色图 · 登录")
    reason = st.session_state.pop("signed_out_because", "")
    if reason:
        st.info(reason)
    if not has_accounts(db):
        st.warning(
            "还没有任何账户。请在服务器上用命令行创建第一个管理员账户,例如:\n\n"
            "`fivecolor users add admin --role admin`\n\n(随后按提示输入两次密码),再刷新本页登录。"
        )
        st.stop()
    if _sso_configured():
        if getattr(st.user, "is_logged_in", False):
            claim = os.environ.get("FIVECOLOR_SSO_CLAIM", "preferred_username")
            try:
                _signed_in(sign_in_sso(db, st.user.get(claim) or st.user.get("email")))
            except SignInError as exc:
                st.error(exc.problems[0].message)
        elif st.button("单点登录(统一身份认证)"):
            st.login()
    with st.form("login"):
        name = st.text_input("用户名", key="login_name")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    st.caption("五色图按综合得分和否决项把每个村/社区评为五档:")
    st.altair_chart(color_key(), key="color_key")
    if submitted:
        try:
            _signed_in(sign_in(db, name, password))
        except SignInError as exc:
            st.error(exc.problems[0].message)
    if demo:
        st.subheader("演示账户")
        st.caption(
            f"演示模式:以下账户的密码都是 `{demo[0]['password']}`。正式部署不会创建这些账户。"
        )
        st.dataframe(
            [{"用户名": d["name"], "身份": d["display_name"], "角色": d["role"]} for d in demo],
            hide_index=True,
        )
    st.stop()


def _signed_in(user: Principal) -> None:
    st.session_state["principal"] = user
    st.session_state["last_seen"] = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    st.rerun()


def demo_banner() -> None:
    st.warning(
        "演示模式:示例区县的虚构数据和公开的演示账户,请勿录入真实数据。", icon=":material/science:"
    )


def sidebar(svc: Service) -> None:
    """Who is signed in, sign-out, and (administrators only) where the data is."""
    user = svc.user
    st.sidebar.markdown(f"**{safe(user.display_name or user.name)}**")
    st.sidebar.caption(f"{user.role.label} · 账户 {safe(user.name)}")
    if st.sidebar.button("退出登录", key="sign_out"):
        sign_out("已退出登录。")
        st.rerun()
    if user.can(Action.SEE_SYSTEM):
        st.sidebar.caption(f"数据库: `{svc.database_location()}`")


# -- shared widgets --------------------------------------------------------------------------


def period_picker(v: View, label: str = "月份") -> str | None:
    if not v.periods:
        st.info(v.empty_reason())
        return None
    months = v.periods[::-1]  # latest first, as on every page
    current = st.session_state.get("period")
    index = months.index(current) if current in months else 0
    period = st.selectbox(label, months, index=index, key=f"period_{label}")
    st.session_state["period"] = period
    return period


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$:=\"'])")


def safe(text: object) -> str:
    """User text (unit names, notes, comments, actions, file names) made inert for st.markdown
    and every element that renders Markdown: each ASCII punctuation mark is escaped, so no
    HTML, link, image, emoji code or color directive survives, and line breaks are spaces."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def badge(key: str, size: str = "1rem") -> str:
    """A color badge that always carries its label (绿·好). Only our own grade table goes in."""
    colors = {k: h for k, _, h in legend()}
    text = display(key)
    fg = "white" if key in ("green", "blue", "red", "") else "#222"
    return (
        f'<span style="background:{colors.get(key, "#9e9e9e")};color:{fg};padding:2px 10px;'
        f'border-radius:10px;font-size:{size};font-weight:600">{html.escape(text)}</span>'
    )


def legend_bar() -> None:
    st.markdown(" ".join(badge(k, "0.85rem") for k, _, _ in legend()), unsafe_allow_html=True)


def open_picked_unit(event: object, name: str) -> None:
    """Open the unit page for the unit picked in a chart's selection ``name``, if any."""
    picked = selected(event, name)
    if picked:
        st.session_state["unit"] = picked[0]["unit_code"]
        st.switch_page("app/unit.py")


def selected(event: object, name: str) -> list[dict]:
    """The points picked in a chart's selection ``name`` (empty when nothing is picked)."""
    if not event:
        return []
    selection = event.get("selection", {})
    return list(selection.get(name) or [])
