"""The sign-in routes and the middleware, over HTTP (Starlette's test client on the very routes
and middleware st.App serves): the cookie's flags, the form's origin check, safe return
addresses, back-off answered with 429, sign-out revoking the session."""

from __future__ import annotations

import re
import threading

import httpx
import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app import server
from assessment.problems import ProblemsError
from assessment.service.accounts import add_user
from assessment.service.roles import Principal
from assessment.service.sessions import current_user
from assessment.service.sessions import open_session as opened_for
from assessment.store import open_database

HOST = "http://fivecolor.test"


async def page(request):
    return PlainTextResponse(f"PAGE {request.url.path}")


@pytest.fixture
def client(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'web.db'}"
    monkeypatch.setenv("FIVECOLOR_DB", url)
    monkeypatch.setenv("FIVECOLOR_WARM_UP", "0")
    db = open_database(url)
    add_user(db, Principal.operator(), "chief", "admin", None, "chief-secret-1")
    site = Starlette(
        routes=[*server.ROUTES, Route("/{path:path}", page)], middleware=server.MIDDLEWARE
    )
    with TestClient(site, base_url=HOST, follow_redirects=False) as c:
        c.db = db
        yield c
    db.dispose()


def form(c: TestClient, target: str = "/") -> dict:
    got = c.get("/signin", params={"next": target})
    assert got.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', got.text).group(1)
    return {"csrf": csrf, "next": target}


def post(c: TestClient, data: dict, **headers) -> httpx.Response:
    return c.post("/signin", data=data, headers={"origin": HOST, **headers})


def test_a_page_asked_for_while_signed_out_goes_to_sign_in_and_then_back_there(client):
    asked = client.get("/unit?unit=500188001001&month=2026-10")
    assert asked.status_code == 303
    assert (
        asked.headers["location"] == "/signin?next=%2Funit%3Funit%3D500188001001%26month%3D2026-10"
    )
    data = form(client, "/unit?unit=500188001001&month=2026-10")
    done = post(client, {**data, "name": "chief", "password": "chief-secret-1"})
    assert done.status_code == 303
    assert done.headers["location"] == "/unit?unit=500188001001&month=2026-10"
    cookie = done.headers["set-cookie"]
    assert "fivecolor_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; see the proxy test
    token = client.cookies["fivecolor_session"]
    assert current_user(client.db, token).name == "chief"
    assert client.get("/unit?unit=500188001001").text == "PAGE /unit"  # signed in: through


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(client, monkeypatch):
    monkeypatch.setenv("FIVECOLOR_TRUSTED_PROXY", "testclient")
    data = form(client)
    done = post(
        client,
        {**data, "name": "chief", "password": "chief-secret-1"},
        **{"x-forwarded-proto": "https"},
    )
    assert "Secure" in done.headers["set-cookie"]


def test_a_form_posted_from_another_site_or_without_its_token_is_refused(client):
    data = form(client)
    creds = {"name": "chief", "password": "chief-secret-1"}
    evil = client.post(
        "/signin", data={**data, **creds}, headers={"origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and "fivecolor_session" not in evil.headers.get("set-cookie", "")
    cross = client.post("/signin", data={**data, **creds}, headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    forged = post(client, {**data, "csrf": "guessed", **creds})
    assert forged.status_code == 403
    assert "来自其他网站" in forged.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_sends_the_browser_to_another_site(client, target):
    data = form(client, target)
    done = post(client, {**data, "name": "chief", "password": "chief-secret-1"})
    assert done.headers["location"] == "/"


def test_wrong_passwords_are_answered_with_when_to_try_again(client, monkeypatch):
    monkeypatch.setenv("FIVECOLOR_FREE_FAILURES", "2")
    statuses = []
    for _ in range(3):
        data = form(client)
        statuses.append(post(client, {**data, "name": "chief", "password": "nope-nope"}))
    assert [r.status_code for r in statuses] == [401, 401, 429]
    assert "用户名或密码错误" in statuses[0].text
    assert "尝试过于频繁" in statuses[2].text and "之后再试" in statuses[2].text
    assert "fivecolor_session" not in client.cookies


def test_sign_out_revokes_the_session_so_the_old_cookie_opens_nothing(client):
    data = form(client)
    post(client, {**data, "name": "chief", "password": "chief-secret-1"})
    token = client.cookies["fivecolor_session"]
    out = client.get("/signout", headers={"sec-fetch-site": "same-origin"})
    assert out.status_code == 303 and out.headers["location"] == "/signin?m=signed_out"
    assert "fivecolor_session" not in client.cookies
    client.cookies.set("fivecolor_session", token)  # a copy of the old cookie
    assert client.get("/overview").status_code == 303


def test_a_link_from_another_site_is_let_through_for_the_page_to_decide(client):
    """A chat app's link carries no SameSite=Strict cookie: the page reads it from its own
    connection and asks for sign-in itself if there is none."""
    got = client.get("/tasks?task=3", headers={"sec-fetch-site": "cross-site"})
    assert got.text == "PAGE /tasks"


def test_the_sign_in_page_fetches_nothing_from_elsewhere_and_escapes_what_it_echoes(client):
    data = form(client)
    bad = post(client, {**data, "name": '"><script>alert(1)</script>', "password": "x"})
    assert "<script>" not in bad.text and "&lt;script&gt;" in bad.text
    csp = bad.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "form-action 'self'" in csp
    assert not re.search(r'(src|href)="(https?:)?//', bad.text)
    assert "<script" not in bad.text
    assert re.search(
        r'<link rel="prefetch" crossorigin href="/static/js/index\.[^"]+\.js">', bad.text
    )


def test_the_session_records_address_and_browser(client):
    opened = opened_for(client.db, "chief", "chief-secret-1", "10.1.2.3", "Mozilla/5.0 Phone")
    from assessment.service.sessions import sessions_frame

    shown = sessions_frame(client.db, current_user(client.db, opened.token))
    row = shown[shown["client_address"] == "10.1.2.3"].iloc[0]
    assert row["user_name"] == "chief" and row["user_agent"] == "Mozilla/5.0 Phone"


def test_the_server_opens_the_store_and_starts_its_warm_up_before_any_request(
    tmp_path, monkeypatch
):
    from assessment.service import warm

    url = f"sqlite:///{tmp_path / 'start.db'}"
    monkeypatch.setenv("FIVECOLOR_DB", url)
    started = threading.Event()
    opened = []

    def recording(db):
        opened.append(db.url)
        started.set()

    monkeypatch.setattr(warm, "warm_up", recording)
    server._database.cache_clear()
    site = Starlette(routes=server.ROUTES, lifespan=server.lifespan)
    try:
        with TestClient(site, base_url=HOST):  # starts the app: its lifespan, no request
            assert started.wait(60)
        assert opened == [url]
    finally:
        server._database.cache_clear()


def test_the_server_start_builds_the_map_s_tile_shapes(tmp_path, monkeypatch):
    """A first session's map finds its chart shapes built (units, and levels above, on a desk
    and on a phone)."""
    from app import charts
    from assessment.service import warm

    monkeypatch.setenv("FIVECOLOR_DB", f"sqlite:///{tmp_path / 'start.db'}")
    monkeypatch.setattr(warm, "warm_up", lambda db: None)
    server._database.cache_clear()
    charts._tile_spec.cache_clear()
    try:
        server._start()
    finally:
        server._database.cache_clear()
    built = charts._tile_spec.cache_info()
    units = pd.DataFrame({"unit_code": ["1"], "unit_name": ["甲村"], "grade": ["green"]})
    units = units.assign(score=90.0, reasons="", parent_name="乙镇")
    shapes = [{}, charts.ZOOM, charts.for_phone({}), charts.for_phone(charts.ZOOM)]
    for shape in shapes:
        charts.tile_grid(units, **shape)
    assert built.currsize == len(shapes)
    assert charts._tile_spec.cache_info().hits == built.hits + len(shapes)
    assert [charts.for_phone(s)["columns"] for s in shapes[:2]] == [3, 2]  # at 340 px


def test_the_chunks_an_element_loads_are_read_from_the_bundler_s_lists(tmp_path):
    from app.bundle import lazy_chunks

    (tmp_path / "index.A1.js").write_text(
        'const __vite__mapDeps=(i,m=__vite__mapDeps,d=(m.f||(m.f=["./Chart.B2.js",'
        '"./runtime.C3.js","../css/Chart.D4.css","./Table.E5.js","./grid.F6.js"])))=>i.map('
        "i=>d[i]);a=()=>H(()=>import(`./Chart.B2.js`),__vite__mapDeps([0,1,2]),import.meta.url);"
        "b=()=>H(()=>import(`./Table.E5.js`).then(e=>e.n),__vite__mapDeps([3,4,1]));",
        encoding="utf-8",
    )
    (tmp_path / "Chart.B2.js").write_text("x=()=>import(`./engine.G7.js`);", encoding="utf-8")
    chart = lazy_chunks(tmp_path, ("Chart", "engine"))
    assert sorted(chart) == ["Chart.B2.js", "css/Chart.D4.css", "engine.G7.js", "runtime.C3.js"]
    assert sorted(lazy_chunks(tmp_path, ("Table",))) == [
        "Table.E5.js",
        "grid.F6.js",
        "runtime.C3.js",
    ]
    assert lazy_chunks(tmp_path, ("Missing",)) == []


def test_the_sign_in_page_prefetches_the_map_s_chunks_from_streamlit_s_own_files():
    from app.bundle import app_bundle, static_root

    paths = app_bundle()
    assert all((static_root() / p.lstrip("/")).is_file() for p in paths)
    names = {p.rsplit("/", 1)[-1].split(".", 1)[0] for p in paths}
    assert {"index", "ArrowVegaLiteChart", "embed", "DataFrame", "Selectbox"} <= names


def test_a_mistyped_setting_stops_the_server_at_start_with_its_name(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("FIVECOLOR_DB", f"sqlite:///{tmp_path / 'start.db'}")
    monkeypatch.setenv("FIVECOLOR_IDLE_MINUTES", "30min")
    site = Starlette(routes=server.ROUTES, lifespan=server.lifespan)
    with pytest.raises(ProblemsError), TestClient(site, base_url=HOST):
        pass  # the lifespan refuses to start: no request is ever answered
    assert "FIVECOLOR_IDLE_MINUTES" in caplog.text and "“30min”" in caplog.text
