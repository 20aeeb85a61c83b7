"""What every page shares: the database, the signed-in user and their service, the period
picker, color badges and safe text. Pages stay thin: widgets in, one service call, chart or
table out. Nothing here decides what a user may see: the service does."""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import zoneinfo
from urllib.parse import quote, urlencode, urlsplit

import pandas as pd
import streamlit as st

from app.server import COOKIE, SIGN_IN, safe_next, shared_database
from assessment.rules.grades import display, legend
from assessment.service import (
    Action,
    Database,
    Principal,
    Service,
    SignInError,
    View,
    sign_in_sso,
)
from assessment.service.inbox import unread
from assessment.service.sessions import current_user as user_of_session
from assessment.service.sessions import sign_out as end_session


def database() -> Database:
    """The database named by FIVECOLOR_DB (default ./data/fivecolor.db, loaded with the demo
    district and its demo accounts on first start), one handle per process shared with the
    sign-in routes. The store is graded in the background meanwhile, so the first sign-in
    finds the map ready."""
    return shared_database()


# -- who is signed in ------------------------------------------------------------------------


def session_token() -> str:
    """The session id the browser sent with this connection (HttpOnly cookie; the page never
    sees it in JavaScript). Headless tests put one in session state, as the sign-in route
    would have set the cookie."""
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:  # no browser connection (a headless test)
        token = None
    if not isinstance(token, str) or not token:
        token = st.session_state.get("session_token", "")
    return token if isinstance(token, str) else ""


def current_user() -> Principal | None:
    """The signed-in user, resolved from the session on every run and re-read from the
    database (a disabled account, a password change or an ended session stops at the next
    click); with single sign-on, the identity the provider vouched for."""
    db = database()
    token = session_token()
    if token:
        try:
            return user_of_session(db, token)
        except SignInError as exc:
            st.session_state["signed_out_because"] = exc.problems[0].message
            return None
    if _sso_configured() and getattr(st.user, "is_logged_in", False):
        claim = os.environ.get("FIVECOLOR_SSO_CLAIM", "preferred_username")
        try:
            return sign_in_sso(db, st.user.get(claim) or st.user.get("email"))
        except SignInError as exc:
            st.session_state["signed_out_because"] = exc.problems[0].message
    return None


def sign_out() -> None:
    """End this browser's session everywhere (the cookie it holds no longer opens anything)
    and clear what the page kept."""
    token = session_token()
    if token:
        end_session(database(), token)
    if _sso_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state["signed_out_because"] = "已退出登录。"


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


def here() -> str:
    """This page's address as the browser shows it (path and query), for sign-in to return to."""
    url = st.context.url or "/"
    parts = urlsplit(url)
    query = urlencode(dict(st.query_params))
    return (parts.path or "/") + (f"?{query}" if query else "")


def login_page() -> None:
    """Not signed in: the sign-in page is an HTTP form (app/server.py) that sets the session
    cookie; this says why the session ended and links there, back to this very view."""
    if _sso_configured() and st.query_params.get("sso") == "1" and not st.user.is_logged_in:
        st.login()
    st.title("五色图 · 登录")
    reason = st.session_state.pop("signed_out_because", "") or "请先登录。"
    st.info(reason)
    target = safe_next(here())
    st.markdown(
        f'<a href="{SIGN_IN}?next={quote(target, safe="")}" target="_self" '
        'style="font-size:1.2rem">前往登录 →</a>',
        unsafe_allow_html=True,
    )
    st.stop()


def demo_banner() -> None:
    st.warning(
        "演示模式:示例区县的虚构数据和公开的演示账户,请勿录入真实数据。", icon=":material/science:"
    )


def sidebar(svc: Service) -> None:
    """Who is signed in, sign-out, and (administrators only) where the data is."""
    user = svc.user
    st.sidebar.markdown(f"**{safe(user.display_name or user.name)}**")
    st.sidebar.caption(f"{user.role.label} · 账户 {safe(user.name)}")
    waiting = unread(svc)
    if waiting:
        st.sidebar.page_link(
            "app/inbox.py", label=f"消息:{waiting} 条未读", icon=":material/mark_email_unread:"
        )
    if st.sidebar.button("退出登录", key="sign_out"):
        sign_out()
        st.rerun()
    if user.can(Action.SEE_SYSTEM):
        st.sidebar.caption(f"数据库: `{svc.database_location()}`")


# -- shared widgets --------------------------------------------------------------------------


def from_link(param: str, key: str, options: list) -> None:
    """A link's ``?param=value`` sets the widget ``key`` once, when the page is opened with it
    (a link pasted in a new tab, a reminder's link); the user's own choices win after that.
    A value that is not among ``options`` (outside the user's scope, or unknown) is ignored."""
    raw = st.query_params.get(param)
    if raw is None:
        return
    applied = st.session_state.setdefault("_links_applied", {})
    if applied.get(param) == raw:  # applied already, or written by the page itself
        return
    applied[param] = raw
    match = next((o for o in options if str(o) == raw), None)
    if match is not None:
        st.session_state[key] = match


EMPTY_CELL = "—"  # a missing value in a table (Streamlit's own placeholder is the word None)


def grid(data, **options):
    """``st.dataframe`` as every page draws a table: a missing value shown as a dash."""
    return st.dataframe(data, placeholder=EMPTY_CELL, **options)


METRIC_WIDTH = "content"  # each count as wide as its number: a row on a desk, wrapped on a phone


def metric_row():
    """A row of counts that wraps on a narrow screen (three to six a row on a phone, by the
    numbers' widths) instead of stacking one under the other, as ``st.columns`` does below
    640 px."""
    return st.container(horizontal=True, horizontal_alignment="distribute", gap="small")


PHONE_CSS = """<style>
/* the pages people use in the field: targets a finger can hit (44 px and more) */
@media (max-width: 640px) {
  [data-testid^="stBaseButton"] { min-height: 48px; }
  [data-testid="stTextInput"] input, [data-testid="stNumberInput"] input { min-height: 44px; }
  [role="radiogroup"] label { min-height: 44px; align-items: center; }
}
</style>"""


def on_phone() -> bool:
    """The browser says it is a phone's ("Mobile" in its user agent: iPhone, Android phones,
    WeChat's browser; not a tablet). Only a layout follows from it, never what is shown."""
    return "Mobile" in (st.context.headers.get("User-Agent") or "")


def phone_friendly() -> None:
    """Our own style (no user text in it) for the pages used on a phone."""
    st.markdown(PHONE_CSS, unsafe_allow_html=True)


def own_unit(v: View) -> str:
    """A reporter's unit: its only village or community, or the one picked when it has a few
    (kept across its pages); stops the page, saying why, when the account has none."""
    units = v.leaves()
    if units.empty:
        st.info("您的账户还没有对应的村/社区,请联系街道组织员。")
        st.stop()
    codes = [str(c) for c in units["unit_code"]]
    if len(codes) == 1:
        return codes[0]
    names = dict(zip(codes, units["unit_name"], strict=True))
    picked = st.session_state.get("own_unit_picked")
    return st.selectbox(
        "村/社区",
        codes,
        index=codes.index(picked) if picked in codes else 0,
        format_func=names.get,
        key="own_unit",
        on_change=lambda: st.session_state.update(own_unit_picked=st.session_state["own_unit"]),
    )


def month_text(period: str) -> str:
    """A month as people write it: 2026年11月."""
    return f"{period[:4]}年{int(period[5:7])}月"


def day_text(day: object) -> str:
    """A date as people write it: 12月10日 (with the year when it is not this year's)."""

    if day is None or day != day:  # None or NaT
        return "—"
    day = dt.date.fromisoformat(str(day)[:10])
    year = "" if day.year == dt.date.today().year else f"{day.year}年"
    return f"{year}{day.month}月{day.day}日"


def local_time(at: object) -> str:
    """A stored time (UTC) as people read it where they are (FIVECOLOR_TZ, default
    Asia/Shanghai): 12月4日 16:05."""
    if at is None or at != at:
        return "—"
    try:
        zone = zoneinfo.ZoneInfo(os.environ.get("FIVECOLOR_TZ", "Asia/Shanghai"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    here_ = pd.Timestamp(at).tz_localize("UTC").tz_convert(zone)
    return f"{day_text(here_.date())} {here_:%H:%M}"


def address_holds(*names: str) -> None:
    """This page's address names only its own state (``names``): what another page left in it
    (a unit on the trends page) would make a copied link say something it does not show."""
    for name in [n for n in st.query_params if n not in names]:
        del st.query_params[name]


def keep_in_address(**params: object) -> None:
    """Write the view's state into the address, so that copying it opens the same view."""
    applied = st.session_state.setdefault("_links_applied", {})
    for name, value in params.items():
        applied[name] = None if value is None or value == "" else str(value)
        if value is None or value == "":
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def copy_link(label: str = "复制链接", key: str = "copy_link") -> None:
    """The address of this view, with a copy button (Streamlit's own, on the code block)."""
    url = st.context.url or ""
    base = url.split("?")[0]
    query = urlencode(dict(st.query_params))
    box = st.popover(label, icon=":material/link:", key=key, on_change="rerun")
    if box.open:  # drawn when opened: a closed popover costs the page nothing
        with box:
            st.caption("把链接发给同事:对方登录后打开同一视图(只显示其辖区内的内容)。")
            st.code(base + (f"?{query}" if query else ""), language=None, wrap_lines=True)


def period_picker(v: View, label: str = "月份") -> str | None:
    if not v.periods:
        st.info(v.empty_reason())
        return None
    months = v.periods[::-1]  # latest first, as on every page
    from_link("month", "period", months)  # every page's month follows it, as before
    current = st.session_state.get("period")
    index = months.index(current) if current in months else 0
    period = st.selectbox(label, months, index=index, key=f"period_{label}")
    st.session_state["period"] = period
    keep_in_address(month=period)
    return period


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$:=\"'])")


def safe(text: object) -> str:
    """User text (unit names, notes, comments, actions, file names) made inert for st.markdown
    and every element that renders Markdown: each ASCII punctuation mark is escaped, so no
    HTML, link, image, emoji code or color directive survives, and line breaks are spaces."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def safe_href(path: str) -> str:
    """A path of this site for an href attribute: quoted, never another host or a script."""
    return html.escape(quote(safe_next(path), safe="/?=&-_.~%"), quote=True)


def badge(key: str, size: str = "1rem") -> str:
    """A color badge that always carries its label (绿·好). Only our own grade table goes in."""
    colors = {k: h for k, _, h in legend()}
    text = display(key)
    fg = "white" if key in ("green", "blue", "red", "") else "#222"
    return (
        f'<span style="background:{colors.get(key, "#9e9e9e")};color:{fg};padding:2px 10px;'
        f"border-radius:10px;font-size:{size};font-weight:600;display:inline-block;"
        f'white-space:nowrap">{html.escape(text)}</span>'  # wraps between badges, not inside
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
