"""五色图 · the Streamlit app. `make app` (or `streamlit run streamlit_app.py`) opens it on the
bundled sample district, in an embedded SQLite database, with nothing to configure.

Nothing is shown before sign-in; every page then asks the service, which cuts what it returns
to the signed-in user's scope and refuses what their role may not do."""

import streamlit as st

from app.common import current_user, database, demo_banner, login_page
from assessment.service import Action
from assessment.service.demo import demo_mode

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
]
if user.can(Action.READ_AUDIT):
    pages.append(st.Page("app/audit.py", title="审计日志", icon=":material/history:"))
navigation = st.navigation(pages)
wanted = st.session_state.pop("wanted_page", None)  # the page asked for before sign-in
target = next((p for p in pages if wanted and p.url_path == wanted), None)
if target is not None and target.url_path != navigation.url_path:
    st.switch_page(target)
navigation.run()
