"""五色图 · the Streamlit app. `make app` (or `streamlit run streamlit_app.py`) opens it on the
bundled sample district, in an embedded SQLite database, with nothing to configure.

Streamlit imports this file to find ``app`` (an ``st.App``: the sign-in routes and the
middleware that sends a signed-out browser to sign in, beside Streamlit's own routes), and runs
it as ``__main__`` for every page: nothing is shown before sign-in; every page then asks the
service, which cuts what it returns to the signed-in user's scope and refuses what their role
may not do."""

import streamlit as st

if __name__ == "__main__":  # a page run
    from app.navigation import run

    run()
else:  # the server: `streamlit run` imports this module and serves `app`
    from app.api import ROUTES as API_ROUTES
    from app.server import MIDDLEWARE, ROUTES, lifespan

    app = st.App(__file__, routes=[*ROUTES, *API_ROUTES], middleware=MIDDLEWARE, lifespan=lifespan)
