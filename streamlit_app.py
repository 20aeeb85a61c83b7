"""五色图 · the Streamlit app. `make app` (or `streamlit run streamlit_app.py`) opens it on the
bundled sample district, in an embedded SQLite database, with nothing to configure."""

import streamlit as st

st.set_page_config(page_title="五色图 · 基层党组织五色评估", page_icon="🟢", layout="wide")

pages = [
    st.Page("app/overview.py", title="五色图", icon=":material/grid_view:", default=True),
    st.Page("app/unit.py", title="单位详情", icon=":material/apartment:"),
    st.Page("app/upload.py", title="数据上传", icon=":material/upload_file:"),
    st.Page("app/weights.py", title="规则与权重", icon=":material/tune:"),
    st.Page("app/tasks.py", title="跟进督办", icon=":material/task_alt:"),
    st.Page("app/trends.py", title="趋势", icon=":material/timeline:"),
]
st.navigation(pages).run()
