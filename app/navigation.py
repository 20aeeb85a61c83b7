"""The page run: who is signed in, then the pages their role may open."""

from __future__ import annotations

import streamlit as st

from app.common import current_user, database, demo_banner, login_page
from assessment.problems import ProblemsError
from assessment.service import Action, Principal, Role
from assessment.service.accounts import set_own_password
from assessment.service.demo import demo_mode


def run() -> None:
    st.set_page_config(page_title="五色图 · 基层党组织五色评估", page_icon="🟢", layout="wide")
    user = current_user()
    if user is None:
        login_page()  # stops the run
    if user.must_change_password:
        first_password(user)  # stops the run; the service refuses everything else meanwhile
    if demo_mode(database()):
        demo_banner()
    if user.role == Role.REPORTER:  # a village or community on a phone: its own unit first
        pages = [
            st.Page("app/home.py", title="我的村/社区", icon=":material/home:", default=True),
            st.Page("app/form.py", title="本月填报", icon=":material/edit_note:"),
            st.Page("app/unit.py", title="指标详情", icon=":material/apartment:"),
            st.Page("app/tasks.py", title="跟进督办", icon=":material/task_alt:"),
            st.Page("app/inbox.py", title="消息", icon=":material/notifications:"),
        ]
        st.navigation(pages).run()
        return
    pages = [
        st.Page("app/overview.py", title="五色图", icon=":material/grid_view:", default=True),
        st.Page("app/unit.py", title="单位详情", icon=":material/apartment:"),
        st.Page("app/upload.py", title="数据上传", icon=":material/upload_file:"),
        st.Page("app/review.py", title="填报审核", icon=":material/fact_check:"),
        st.Page("app/weights.py", title="规则与权重", icon=":material/tune:"),
        st.Page("app/tasks.py", title="跟进督办", icon=":material/task_alt:"),
        st.Page("app/trends.py", title="趋势", icon=":material/timeline:"),
        st.Page("app/inbox.py", title="消息", icon=":material/notifications:"),
    ]
    if user.can(Action.READ_AUDIT):
        pages.append(st.Page("app/audit.py", title="审计日志", icon=":material/history:"))
    st.navigation(pages).run()


def first_password(user: Principal) -> None:
    """An account handed an initial password (provisioned, imported, or reset by an
    administrator) sets its own before anything else."""
    st.title("设置您的密码")
    st.info(
        f"{user.display_name or user.name}:这是首次登录(或密码已被重置),请先把初始密码改成只有您知道的密码。"
    )
    with st.form("first_password"):
        current = st.text_input("初始密码", type="password", key="pw_current")
        new = st.text_input("新密码(至少 8 个字符)", type="password", key="pw_new")
        again = st.text_input("再输入一次新密码", type="password", key="pw_again")
        done = st.form_submit_button("保存并进入", type="primary", use_container_width=True)
    if done:
        if new != again:
            st.error("两次输入的新密码不一致,请重新输入。")
        else:
            try:
                set_own_password(database(), user, current, new)
            except ProblemsError as exc:
                for p in exc.problems:
                    st.error(p.message)
            else:
                st.rerun()
    st.stop()
