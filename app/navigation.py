"""The page run: who is signed in, then the pages their role may open."""

from __future__ import annotations

import streamlit as st

from app.common import current_user, database, demo_banner, login_page
from assessment.service import Action
from assessment.service.demo import demo_mode


def run() -> None:
    st.set_page_config(page_title="五色图 · 基层党组织五色评估", page_icon="🟢", layout="wide")
    user = current_user()
    if user is None:
        login_page()  # stops the run
    if demo_mode(database()):
        demo_banner()
    pages = [
        st.Page("app/overview.py", title="五色图", icon=":material/grid_view:", default=True),
        st.Page("app/unit.py", title="单位详情", icon=":material/apartment:"),
        st.Page("app/upload.py", title="数据上传", icon=":material/upload_file:"),
        st.Page("app/weights.py", title="规则与权重", icon=":material/tune:"),
        st.Page("app/tasks.py", title="跟进督办", icon=":material/task_alt:"),
        st.Page("app/trends.py", title="趋势", icon=":material/timeline:"),
        st.Page("app/inbox.py", title="消息", icon=":material/notifications:"),
    ]
    if user.can(Action.READ_AUDIT):
        pages.append(st.Page("app/audit.py", title="审计日志", icon=":material/history:"))
    st.navigation(pages).run()
