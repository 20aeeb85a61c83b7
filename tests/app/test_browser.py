"""Real-browser tests: Debian's Chromium driven by Playwright against `streamlit run` on
127.0.0.1. Every request the pages make is recorded: none may leave the machine. Each page is
screenshotted into a temporary folder, or into docs/screenshots/ (shown in the README) with
``make screenshots`` (FIVECOLOR_SCREENSHOTS=docs/screenshots), so a test run leaves the working
tree as it was."""

from __future__ import annotations

import os
import re
import time
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT
from served import start_server, stop_server, worker_port
from store_fixtures import BACKENDS, fresh_pg_url

from assessment.service.seed import DEMO_PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"
)
README_SHOTS = ROOT / "docs" / "screenshots"
PAGES = {
    "overview": "",
    "unit": "unit",
    "upload": "upload",
    "weights": "weights",
    "tasks": "tasks",
    "trends": "trends",
    "audit": "audit",
}
REQUESTS: list[str] = []
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where this run's screenshots go: pytest's temporary folders unless asked otherwise."""
    folder = os.environ.get("FIVECOLOR_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory) -> str:
    from assessment.service.seed import seed_sample
    from assessment.store import open_database

    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'app.db'}"
    db = open_database(url)
    seed_sample(db)  # with the demo accounts, as `make app` does
    db.dispose()
    return url


@pytest.fixture(scope="module")
def server(seeded_url):
    proc, base = start_server(seeded_url, worker_port(0))
    yield base
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    pg.on("request", lambda request: REQUESTS.append(request.url))
    pg.base = server
    yield pg
    context.close()


def open_page(pg, path: str, user: str | None = "admin"):
    """Open ``path``; a browser without a session is sent to the sign-in page, signs in as
    ``user`` (a demo account) and lands on ``path``."""
    pg.goto(f"{pg.base}/{path}")
    if "/signin" in pg.url:
        if user is None:
            return pg
        sign_in(pg, user)
    pg.wait_for_selector(IDLE, timeout=90_000)
    pg.get_by_role("button", name="退出登录").wait_for(timeout=90_000)
    settle(pg)
    pg.wait_for_load_state("networkidle")
    return pg


def sign_in(pg, user: str, password: str = DEMO_PASSWORD) -> None:
    """On the sign-in page: the form posts to /signin; either the app opens, or the page says
    why not."""
    pg.locator("#name").fill(user)
    pg.locator("#password").fill(password)
    with pg.expect_navigation(timeout=60_000):
        pg.get_by_role("button", name="登录").click()
    if "/signin" not in pg.url:
        pg.wait_for_selector(IDLE, timeout=90_000)


def settle(pg) -> None:
    time.sleep(0.5)
    pg.wait_for_selector(IDLE, timeout=90_000)


def test_the_overview_renders_every_tile_with_its_label(page, shots):
    open_page(page, "")
    page.wait_for_selector('svg path[aria-label*="等级:"]', timeout=30_000)
    tiles = page.eval_on_selector_all(
        'svg path[aria-label*="等级:"]', "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert len(tiles) == 170
    assert all(
        re.search(r"等级: (绿·好|蓝·较好|黄·合格|橙·较差|红·差|数据不全);", t) for t in tiles
    )
    assert page.get_by_text("红·差").first.is_visible()
    page.screenshot(path=str(shots / "overview.png"))


def test_a_folded_panel_is_drawn_when_opened_and_works(page):
    """The map's folded panels send only their header until opened; opening one reruns the
    page and shows its content, here the briefing's button, which then makes the files."""
    open_page(page, "")
    page.wait_for_selector('svg path[aria-label*="等级:"]', timeout=30_000)
    make = page.get_by_role("button", name=re.compile(r"生成 .* 月度简报"))
    assert make.count() == 0
    page.get_by_text("月度简报(Excel 与 PDF)").click()
    make.wait_for(timeout=30_000)
    make.click()
    page.get_by_role("button", name="下载 Excel").wait_for(timeout=60_000)


def test_the_maps_list_is_a_tab_drawn_when_opened_and_kept_in_the_address(page):
    """The red and orange list and the ranking are tabs beside the map: the map's page sends
    no table until one is opened; the open tab is written into the address for a link."""
    open_page(page, "")
    page.wait_for_selector('svg path[aria-label*="等级:"]', timeout=30_000)
    assert page.locator("[data-testid=stDataFrame]").count() == 0
    page.get_by_role("tab", name="红橙单位清单").click()
    page.locator("h3", has_text=re.compile(r"红橙单位清单\(\d+ 个\)")).wait_for(timeout=30_000)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=30_000)
    assert "view=" in page.url
    page.get_by_role("tab", name="五色图").click()
    page.wait_for_selector('svg path[aria-label*="等级:"]', timeout=30_000)
    settle(page)
    assert page.locator("[data-testid=stDataFrame]").count() == 0 and "view=" not in page.url


def click_mark(page, selector: str) -> None:
    """Click the middle of a chart mark, as a person would (Vega listens on the canvas)."""
    mark = page.wait_for_selector(selector, timeout=30_000)
    mark.scroll_into_view_if_needed()
    box = mark.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_clicking_a_tile_opens_that_unit(page, shots):
    open_page(page, "")
    click_mark(page, 'svg path[aria-label*="单位: 丹枫桥社区;"]')
    page.wait_for_url(re.compile(r"/unit(\?.*)?$"), timeout=30_000)
    settle(page)
    assert page.locator("h1").first.inner_text() == "单位详情"
    assert page.locator("h3", has_text="丹枫桥社区").count() == 1
    page.screenshot(path=str(shots / "unit.png"))


def test_clicking_a_month_on_the_trends_map_opens_that_unit(page, shots):
    open_page(page, "trends")
    click_mark(page, 'svg path[aria-label*="单位: 丹枫桥社区;"]')
    page.wait_for_url(re.compile(r"/unit(\?.*)?$"), timeout=30_000)
    settle(page)
    assert page.locator("h3", has_text="丹枫桥社区").count() == 1


def test_clicking_a_task_row_opens_that_task(page, shots):
    open_page(page, "tasks")
    grid = page.locator("[data-testid=stDataFrame]").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    row_height = 35  # Streamlit's data grid: a header row, then rows of 35 px
    detail = page.locator("[data-testid=stMarkdownContainer]").filter(has_text="责任方:")
    first = detail.first.inner_text()
    page.mouse.click(box["x"] + 18, box["y"] + row_height * 2 + row_height / 2)  # the 2nd row
    settle(page)
    assert detail.first.inner_text() != first  # the clicked task is now the one open


def test_a_gb18030_file_with_bad_rows_shows_its_issues(page, shots):
    open_page(page, "upload")
    page.locator("[data-testid=stSelectbox]").filter(has_text="哪个月的数据").click()
    page.get_by_role("option", name="2026-03").click()
    settle(page)
    bad = ROOT / "tests" / "bad_uploads" / "gb18030_bad_rows.csv"
    page.locator("input[type=file]").first.set_input_files(str(bad))  # the monthly table
    page.get_by_text("发现 2 个错误").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_text("下载问题清单").is_visible()
    assert page.get_by_role("button", name=re.compile("确认导入")).count() == 0
    page.screenshot(path=str(shots / "upload.png"), full_page=True)


def test_a_weight_change_lists_the_units_that_would_change_color(page, shots):
    open_page(page, "weights")
    page.get_by_text("0 个单位会变色").wait_for(timeout=30_000)
    box = page.get_by_label("绿·好 ≥")
    box.fill("85")
    box.press("Enter")
    page.get_by_text(re.compile(r"[1-9]\d* 个单位会变色")).wait_for(timeout=60_000)
    settle(page)
    page.screenshot(path=str(shots / "weights.png"))


@pytest.mark.parametrize("name", list(PAGES))
def test_no_page_shows_an_exception(page, shots, name):
    open_page(page, PAGES[name])
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("h1").first.inner_text()
    if name in ("tasks", "trends", "audit"):
        page.screenshot(path=str(shots / f"{name}.png"))


def test_the_sign_in_page_the_demo_banner_and_a_street_s_view(page, shots):
    open_page(page, "", user=None)
    assert "/signin" in page.url
    assert page.get_by_text("演示模式").first.is_visible()
    page.locator("td", has_text="org02").first.wait_for(state="attached")  # listed
    assert page.get_by_text("红·差").first.is_visible()  # the key to every map, with labels
    page.screenshot(path=str(shots / "login.png"))
    sign_in(page, "org02", "not-the-password")
    assert page.get_by_text("用户名或密码错误").first.is_visible()
    sign_in(page, "org02")  # 双凤街道组织委员: only that street
    page.wait_for_selector('svg path[aria-label*="等级:"]', timeout=30_000)
    assert page.locator('svg path[aria-label*="等级:"]').count() == 14
    assert page.get_by_text("演示模式").first.is_visible()  # the banner stays on every page
    assert page.get_by_text("数据库:").count() == 0  # only administrators see where data is


def test_the_map_loads_no_script_the_sign_in_page_did_not_fetch_ahead(page):
    """A person types for a few seconds: meanwhile the sign-in page fetches the app's scripts,
    the chunks the map's elements load on first use included (app/bundle.py), so that after
    the sign-in none has to come from the busy server."""
    open_page(page, "", user=None)
    page.wait_for_function(
        """() => performance.getEntriesByType("resource").filter(e => e.responseEnd > 0).length
             >= document.querySelectorAll("link[rel=prefetch]").length""",
        timeout=60_000,
    )
    assert page.locator("link[rel=prefetch]").count() > 50  # the entry and the chunks
    sign_in(page, "admin")
    page.wait_for_selector('svg path[aria-label*="等级:"]', timeout=60_000)
    settle(page)
    fetched = page.evaluate(
        """() => performance.getEntriesByType("resource")
             .filter(e => /[.](js|css)$/.test(e.name) && e.transferSize > 0)
             .map(e => e.name.split("/").pop())"""
    )
    assert fetched == []


def test_signed_in_survives_reload_a_second_tab_and_a_typed_address(page):
    open_page(page, "unit?unit=500188001003&month=2026-09")
    assert page.locator("h3", has_text="红岩里社区").count() == 1
    page.reload()
    page.wait_for_selector(IDLE, timeout=90_000)
    settle(page)
    assert page.locator("h3", has_text="红岩里社区").count() == 1  # still signed in, same view
    assert "unit=500188001003" in page.url and "month=2026-09" in page.url
    second = page.context.new_page()  # a new tab, an address typed into it
    second.goto(f"{page.base}/tasks")
    second.wait_for_selector(IDLE, timeout=90_000)
    second.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
    assert "/signin" not in second.url
    assert second.locator("h1").first.inner_text() == "跟进督办"
    cookie = next(c for c in page.context.cookies() if c["name"] == "fivecolor_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert page.evaluate("document.cookie").find("fivecolor_session") == -1  # not for scripts


def test_a_link_opened_while_signed_out_lands_there_after_sign_in(page):
    page.goto(f"{page.base}/unit?unit=500188001003&month=2026-09")
    assert "/signin" in page.url
    sign_in(page, "admin")
    settle(page)
    assert "/unit?unit=500188001003&month=2026-09" in page.url
    assert page.locator("h3", has_text="红岩里社区").count() == 1


def test_a_link_to_a_unit_outside_the_scope_shows_nothing_of_it(page):
    open_page(page, "unit?unit=500188102202", user="org01")  # 龙溪's organizer, 双凤's unit
    page.get_by_text("不在您可查看的范围内").wait_for(timeout=30_000)
    assert page.locator("[data-testid=stMetric]").count() == 0


def test_sign_out_ends_the_session_and_the_old_cookie_opens_nothing(page, browser):
    open_page(page, "tasks")
    cookie = next(c for c in page.context.cookies() if c["name"] == "fivecolor_session")
    page.get_by_role("button", name="退出登录").click()
    page.get_by_text("已退出登录").wait_for(timeout=30_000)
    other = browser.new_context()  # someone who copied the cookie
    try:
        other.add_cookies([cookie])
        stolen = other.new_page()
        stolen.goto(f"{page.base}/tasks")
        assert "/signin" in stolen.url
    finally:
        other.close()


def test_a_disabled_account_s_open_tab_stops_at_its_next_click(page, seeded_url):
    from assessment.service import Principal
    from assessment.service.accounts import add_user, disable_user
    from assessment.store import open_database

    db = open_database(seeded_url)
    try:
        add_user(
            db,
            Principal.operator("test"),
            "leaver",
            "supervisor",
            ["500188000000"],
            "leaver-secret-1",
        )
        open_page(page, "", user=None)
        sign_in(page, "leaver", "leaver-secret-1")
        page.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
        disable_user(db, Principal.operator("test"), "leaver")
        page.locator("[data-testid=stSidebarNav] a", has_text="趋势").click()  # the next click
        page.get_by_text("该账户已停用").wait_for(timeout=30_000)
        assert page.locator("svg path[aria-label*='等级:']").count() == 0
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def strict_server(seeded_url):
    """A server whose back-off starts after two failures (so the test need not wait long)."""
    proc, base = start_server(
        seeded_url, worker_port(4), FIVECOLOR_FREE_FAILURES="2", FIVECOLOR_BACKOFF_CAP_SECONDS="4"
    )
    yield base
    stop_server(proc)


def test_failed_sign_ins_back_off_and_say_when_to_try_again(browser, strict_server):
    context = browser.new_context(locale="zh-CN")
    pg = context.new_page()
    pg.base = strict_server
    try:
        open_page(pg, "", user=None)
        sign_in(pg, "org05", "not-the-password")
        assert pg.get_by_text("用户名或密码错误").first.is_visible()
        sign_in(pg, "org05", "not-the-password")
        assert pg.get_by_text(re.compile(r"请于 \d\d:\d\d:\d\d 之后再试")).first.is_visible()
        sign_in(pg, "org05")  # the right password, too soon
        assert pg.get_by_text(re.compile("尝试过于频繁.*之后再试")).first.is_visible()
        time.sleep(2.5)
        sign_in(pg, "org05")  # after the wait: in, never locked
        pg.get_by_role("button", name="退出登录").wait_for(timeout=60_000)
    finally:
        context.close()


HOSTILE = {
    "500188001001": "<style>body{display:none}</style>银杏苑社区",
    "500188001002": '<form id="evil"><input name="pw" placeholder="密码"></form>',
    "500188001003": "![x](http://127.0.0.2:9/leak.png)",
    "500188001004": '<iframe src="http://127.0.0.2:9/frame"></iframe>',
    "500188001005": "<img src=x onerror=\"document.title='pwned'\">",
}


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The sample with hostile unit names in a new registry version, and tasks whose actions
    (which start with the unit name) carry them too."""
    import pandas as pd

    from assessment.service import Principal, Service
    from assessment.service.seed import seed_sample
    from assessment.store import open_database

    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'app.db'}"
    db = open_database(url)
    seed_sample(db)
    units = pd.read_csv(ROOT / "sample_data" / "units.csv", dtype=str, keep_default_na=False)
    units["unit_name"] = units["unit_code"].map(HOSTILE).fillna(units["unit_name"])
    admin = Service(db, Principal.operator("test"))
    admin.import_registry(units.to_csv(index=False).encode(), "hostile.csv")
    todo = admin.suggestions(admin.view().periods[-1])
    admin.create_tasks(todo[todo["unit_code"].isin(list(HOSTILE))].head(5))
    db.dispose()
    proc, base = start_server(url, worker_port(1))
    yield base
    stop_server(proc)


def test_hostile_unit_names_are_shown_as_text_and_never_act(browser, hostile_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    seen: list[str] = []
    pg.on("request", lambda request: seen.append(request.url))
    pg.base = hostile_server

    def inert() -> None:
        assert pg.locator("form#evil").count() == 0
        assert pg.locator("input[name=pw]").count() == 0
        assert pg.locator('iframe[src*="127.0.0.2"]').count() == 0
        assert pg.locator('img[src="x"], img[src*="127.0.0.2"]').count() == 0
        assert pg.title() != "pwned"
        assert pg.locator("h1").first.is_visible()  # no injected style hid the page

    for path in ("", "tasks", "trends", "weights"):
        open_page(pg, path)
        inert()
    open_page(pg, "unit")
    actions = []
    for code, name in HOSTILE.items():
        pg.locator("[data-testid=stSelectbox]").filter(has_text="单位").first.click()
        pg.keyboard.type(code)
        pg.keyboard.press("Enter")
        settle(pg)
        heading = pg.locator("[data-testid=stMarkdownContainer] h3").first.inner_text()
        assert heading.strip() == name  # the name, shown as the text it is
        inert()
        actions += pg.locator("[data-testid=stMarkdownContainer] strong").all_inner_texts()
    assert any(name in " ".join(actions) for name in HOSTILE.values())  # follow-up texts too
    context.close()
    assert not [u for u in seen if "127.0.0.2" in u]
    REQUESTS.extend(seen)


@pytest.fixture(params=BACKENDS)
def shared_url(request, tmp_path):
    """One seeded database (SQLite file, or PostgreSQL when configured) for two servers."""
    from assessment.service.seed import seed_sample
    from assessment.store import open_database

    with (
        nullcontext(f"sqlite:///{tmp_path / 'shared.db'}")
        if request.param == "sqlite"
        else fresh_pg_url()
    ) as url:
        db = open_database(url)
        seed_sample(db)
        db.dispose()
        yield url


def test_two_app_servers_on_one_database_see_each_others_writes(browser, shared_url, tmp_path):
    servers = [start_server(shared_url, worker_port(k)) for k in (2, 3)]
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in servers]
    try:
        a, b = (ctx.new_page() for ctx in contexts)
        for pg, (_, base) in zip((a, b), servers, strict=True):
            pg.on("request", lambda request: REQUESTS.append(request.url))
            pg.base = base
        open_page(a, "tasks", "admin")
        open_page(b, "tasks", "supervisor")
        shown = "[data-testid=stMain] [data-testid=stMarkdownContainer] strong"
        task = a.locator(shown).first.inner_text()
        assert b.locator(shown).first.inner_text() == task
        for pg in (a, b):  # both see 待签收 and both move it to 整改中, A first
            assert pg.get_by_text("状态: 待签收").count() == 1
            pg.get_by_label("办理说明").fill("已签收")
        a.get_by_role("button", name="提交").click()
        settle(a)
        b.get_by_role("button", name="提交").click()
        settle(b)
        b.get_by_text(re.compile(r"督办事项 \d+ 已被他人修改")).wait_for(timeout=30_000)
        open_page(b, "tasks", "supervisor")  # B's next run shows A's step
        assert b.get_by_text("状态: 整改中").count() == 1
        # An upload through A is in B's upload history on B's next run.
        frame = (ROOT / "sample_data" / "indicators_2026-10.csv").read_text(encoding="utf-8")
        lines = frame.splitlines()
        cells = lines[1].split(",")
        cells[5] = "99" if cells[5] != "99" else "98"  # theme_day_attendance_rate
        fixed = tmp_path / "from-a.csv"
        fixed.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]), encoding="utf-8")
        open_page(a, "upload", "admin")
        a.locator("[data-testid=stSelectbox]").filter(has_text="哪个月的数据").click()
        a.get_by_role("option", name="2026-10").click()
        settle(a)
        a.locator("input[type=file]").first.set_input_files(str(fixed))
        a.get_by_role("button", name=re.compile("确认导入")).click(timeout=60_000)
        # the import's own answer, not the history's "已导入" already on the page
        a.get_by_text(re.compile(r"已导入\(第 \d+ 次上传\)")).wait_for(timeout=60_000)
        b.context.clear_cookies()  # signed in anew, as the administrator, on server B
        open_page(b, "upload", "admin")
        b.locator("td", has_text="from-a.csv").first.wait_for(state="attached", timeout=30_000)
    finally:
        for ctx in contexts:
            ctx.close()
        for proc, _ in servers:
            stop_server(proc)


def test_two_app_servers_share_sessions(browser, shared_url):
    """Signed in through server A, the same browser is signed in on server B (as behind a load
    balancer); signed out through B, A's next page asks for sign-in."""
    servers = [start_server(shared_url, worker_port(k)) for k in (5, 6)]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = context.new_page()
        pg.on("request", lambda request: REQUESTS.append(request.url))
        (_, a), (_, b) = servers
        pg.base = a
        open_page(pg, "tasks", "admin")
        pg.goto(f"{b}/trends")
        assert "/signin" not in pg.url
        pg.wait_for_selector(IDLE, timeout=90_000)
        pg.get_by_role("button", name="退出登录").click()
        pg.get_by_text("已退出登录").wait_for(timeout=30_000)
        pg.goto(f"{a}/tasks")
        assert "/signin" in pg.url
    finally:
        context.close()
        for proc, _ in servers:
            stop_server(proc)


def test_no_request_left_the_machine():
    assert REQUESTS, "the tests above made no request at all"
    outside = sorted(
        {
            u
            for u in REQUESTS
            if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname != "127.0.0.1"
        }
    )
    assert outside == []


def test_every_page_was_screenshotted_and_the_readme_has_them(shots):
    for name in PAGES:
        assert (shots / f"{name}.png").stat().st_size > 10_000, name
        assert (README_SHOTS / f"{name}.png").stat().st_size > 10_000, name


PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
}


def no_sideways_scroll(pg) -> None:
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390


def grids_drawn(pg, count: int) -> tuple[list[str], list[list[int]]]:
    """Once ``count`` tables are drawn with their column headers (each scrolled into view: a
    table below the fold is drawn when it comes into sight): every header's text, and each
    table's scroll width beside its own width."""
    grids = pg.locator("[data-testid=stDataFrame]")
    grids.nth(count - 1).wait_for(state="attached", timeout=60_000)
    for i in range(grids.count()):
        grids.nth(i).scroll_into_view_if_needed()
    pg.wait_for_function(
        """n => [...document.querySelectorAll("[data-testid=stDataFrame]")]
          .filter(g => g.querySelector("[role=columnheader]")).length >= n""",
        arg=count,
        timeout=60_000,
    )
    pg.evaluate("window.scrollTo(0, 0)")
    headers = pg.eval_on_selector_all(
        "[data-testid=stDataFrame] [role=columnheader]", "els => els.map(e => e.textContent)"
    )
    widths = pg.eval_on_selector_all(
        "[data-testid=stDataFrame] .dvn-scroller",
        "els => els.map(e => [e.scrollWidth, e.clientWidth])",
    )
    return headers, widths


def fits(widths: list[list[int]]) -> bool:
    return all(inner <= outer for inner, outer in widths)


def test_the_map_on_a_phone_wraps_its_counts_in_rows_instead_of_a_column(browser, server):
    """On a phone the six counts per color sit side by side, wrapped (st.columns would stack
    them one under the other above the map), the tiles three a row (eight squeezed into the
    width ran their labels together); the page never scrolls sideways."""
    phone = browser.new_context(locale="zh-CN", **PHONE)
    try:
        pg = phone.new_page()
        pg.base = server
        open_page(pg, "")
        pg.wait_for_selector('svg path[aria-label*="等级:"]', timeout=30_000)
        tops = pg.eval_on_selector_all(
            "[data-testid=stMetric]",
            "els => els.map(e => Math.round(e.getBoundingClientRect().top))",
        )
        assert len(tops) == 6 and len(set(tops)) <= 2  # one or two rows, not six
        boxes = pg.eval_on_selector_all(  # the legend's badges wrap between, never inside
            "[data-testid=stMarkdownContainer] span[style*=border-radius]",
            "els => els.map(e => e.getClientRects().length)",
        )
        assert len(boxes) >= 6 and set(boxes) == {1}
        tiles = pg.eval_on_selector_all(  # three a row, each as wide as on a desk
            'svg path[aria-label*="等级:"]',
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.width]; })",
        )
        first_row = [w for top, w in tiles if abs(top - tiles[0][0]) < 2]
        assert len(first_row) == 3 and min(first_row) > 90, first_row
        no_sideways_scroll(pg)
    finally:
        phone.close()


def test_a_reporter_on_a_phone_fills_its_month_and_the_street_reviews_it(
    browser, server, seeded_url
):
    import pandas as pd

    from assessment.service import Principal
    from assessment.service.accounts import add_user
    from assessment.service.actions import reporting_month
    from assessment.store import open_database

    db = open_database(seeded_url)
    try:
        add_user(
            db,
            Principal.operator("test"),
            "rphone",
            "reporter",
            ["500188001004"],
            "Initial-Pw-123",
            "碧湖塘社区",
            must_change_password=True,
        )
    finally:
        db.dispose()
    october = pd.read_csv(ROOT / "sample_data" / "indicators_2026-10.csv", dtype=str)
    row = october.set_index("unit_code").loc["500188001004"]
    month = reporting_month()
    phone = browser.new_context(locale="zh-CN", **PHONE)
    street_phone = browser.new_context(locale="zh-CN", **PHONE)
    desk = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        pg = phone.new_page()
        pg.on("request", lambda request: REQUESTS.append(request.url))
        pg.base = server
        open_page(pg, "", user=None)
        sign_in(pg, "rphone", "Initial-Pw-123")
        pg.get_by_text("设置您的密码").wait_for(timeout=60_000)  # first sign-in: its own password
        pg.get_by_label("初始密码").fill("Initial-Pw-123")
        pg.get_by_label("新密码(至少 8 个字符)").fill("my-village-pw-9")
        pg.get_by_label("再输入一次新密码").fill("my-village-pw-9")
        pg.get_by_role("button", name="保存并进入").click()
        pg.locator("h1", has_text="碧湖塘社区").wait_for(timeout=60_000)
        no_sideways_scroll(pg)
        pg.goto(f"{server}/unit")  # its indicators: value, score and points lost, a screen wide
        pg.wait_for_selector(IDLE, timeout=90_000)
        pg.get_by_text("指标明细").wait_for(timeout=60_000)
        settle(pg)
        headers, widths = grids_drawn(pg, 1)
        assert "失分" in headers and "权重(%)" not in headers, headers
        assert fits(widths), widths
        no_sideways_scroll(pg)
        pg.goto(f"{server}/form")
        pg.wait_for_selector(IDLE, timeout=90_000)
        pg.locator("h1", has_text="本月填报").wait_for(timeout=60_000)
        settle(pg)
        first = pg.get_by_role("button", name="提交").bounding_box()
        assert first["y"] + first["height"] <= 844  # the main action on the first screen
        boxes = pg.locator("[class*='st-key-f_'] input[type=text]")
        for k in range(boxes.count()):
            box = boxes.nth(k)
            key = box.locator("xpath=ancestor::*[contains(@class,'st-key-f_')][1]")
            column = re.search(r"st-key-f_(\w+)", key.get_attribute("class")).group(1)
            value = row.get(column)
            box.fill("" if pd.isna(value) else str(value))
            box.press("Tab")
        for radio in pg.locator("[class*='st-key-f_'] [role=radiogroup]").all():
            holder = radio.locator("xpath=ancestor::*[contains(@class,'st-key-f_')][1]")
            column = re.search(r"st-key-f_(\w+)", holder.get_attribute("class")).group(1)
            yes = str(row.get(column)) in ("1", "1.0")
            radio.get_by_text("是" if yes else "否", exact=True).click()
        settle(pg)
        rate = pg.locator(".st-key-f_dues_paid_rate input")
        rate.fill("250")  # one wrong value
        rate.press("Tab")
        settle(pg)
        pg.get_by_text(re.compile("超出|有效范围")).first.wait_for(timeout=30_000)  # in Chinese
        rate.fill(str(row["dues_paid_rate"]))
        rate.press("Tab")
        settle(pg)
        pg.get_by_role("button", name="保存草稿").click()
        pg.get_by_text("草稿已保存").wait_for(timeout=30_000)
        no_sideways_scroll(pg)
        tap = pg.get_by_role("button", name="提交").bounding_box()
        assert tap["height"] >= 44 and tap["width"] >= 44  # a finger's target
        pg.reload()  # the draft is kept on the server
        pg.wait_for_selector(IDLE, timeout=90_000)
        settle(pg)
        assert pg.locator(".st-key-f_dues_paid_rate input").input_value() == str(
            row["dues_paid_rate"]
        )
        pg.get_by_role("button", name="提交").click()
        pg.get_by_text("若审核通过,预计为").wait_for(timeout=60_000)

        org = desk.new_page()
        org.on("request", lambda request: REQUESTS.append(request.url))
        org.base = server
        open_page(org, f"review?month={month}", "org01")
        org.get_by_label("退回意见(退回时必填)").fill("请核对党费收缴率")
        org.get_by_role("button", name="退回修改").click()
        # the step's own answer: "已退回" alone is also the label of a count on the page
        org.get_by_text("已退回,填报员会在消息中收到意见").wait_for(timeout=30_000)

        pg.reload()
        pg.wait_for_selector(IDLE, timeout=90_000)
        pg.get_by_text("请核对党费收缴率").first.wait_for(timeout=60_000)
        pg.get_by_role("button", name="提交").click()
        pg.get_by_text("若审核通过,预计为").wait_for(timeout=60_000)

        # the street approves it from a phone: its lists fit the screen, nothing sideways
        review = street_phone.new_page()
        review.base = server
        open_page(review, f"review?month={month}", "org01")
        review.get_by_role("button", name="审核通过").wait_for(timeout=30_000)
        headers, widths = grids_drawn(review, 2)  # the units' list and the submission's values
        assert "状态" in headers and "单位代码" not in headers and "报送方式" not in headers
        assert fits(widths), widths
        no_sideways_scroll(review)
        review.get_by_role("button", name="审核通过").click()
        review.get_by_text("已通过并入库").first.wait_for(timeout=30_000)
        open_page(review, "tasks", "org01")  # its follow-ups too: the list a screen wide
        review.get_by_text("点击一行打开该事项").wait_for(timeout=30_000)
        headers, widths = grids_drawn(review, 2)  # the list and the open task's history
        assert "单位" in headers and "期限" in headers and "处理意见" not in headers
        assert "原状态" not in headers and fits(widths), widths
        no_sideways_scroll(review)
        open_page(org, f"?month={month}&level=村/社区&parent=500188001000", "org01")
        tile = org.locator('svg path[aria-label*="单位: 碧湖塘社区;"]').first
        tile.wait_for(state="attached", timeout=30_000)
        assert "数据不全" not in tile.get_attribute("aria-label")  # graded from the form
    finally:
        phone.close()
        street_phone.close()
        desk.close()


def test_a_reporter_on_a_phone_signs_for_a_task_and_reports_it_done_with_a_photo(
    browser, server, seeded_url, tmp_path
):
    import io

    import pandas as pd
    from PIL import Image

    from assessment.service import Principal, Service
    from assessment.service.accounts import add_user
    from assessment.store import Scope, open_database
    from assessment.store.tasks import create_tasks

    unit = "500188001005"
    db = open_database(seeded_url)
    try:
        add_user(db, Principal.operator("test"), "rtask", "reporter", [unit], "task-pw-123")
        action = "补开支委会并报送会议记录"
        (task_id,) = create_tasks(
            db,
            Scope.everything(),
            pd.DataFrame(
                [{"unit_code": unit, "period": "2026-10", "source": "manual", "action": action}] * 1
            ).assign(owner="社区党组织", due_days=10),
            "admin",
        )
    finally:
        db.dispose()
    photo = tmp_path / "现场照片.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 40, 40)).save(buffer, "JPEG")  # a photo off the camera
    photo.write_bytes(buffer.getvalue())
    phone = browser.new_context(locale="zh-CN", **PHONE)
    try:
        pg = phone.new_page()
        pg.on("request", lambda request: REQUESTS.append(request.url))
        pg.base = server
        open_page(pg, "", user=None)
        sign_in(pg, "rtask", "task-pw-123")
        pg.get_by_text(action).first.wait_for(timeout=60_000)  # on its home page, as a card
        due = (pd.Timestamp.today() + pd.Timedelta(days=10)).date()
        assert pg.get_by_text(f"期限 {due.month}月{due.day}日").count()  # as people write it
        pg.get_by_text("办理 →").first.click()
        pg.wait_for_selector(IDLE, timeout=90_000)
        pg.locator("h1", has_text="跟进督办").wait_for(timeout=60_000)
        settle(pg)
        no_sideways_scroll(pg)
        assert pg.locator("[data-testid=stDataFrame]").count() == 1  # only its history, no grid
        pg.get_by_label("办理说明").fill("已签收,本周内召开支委会")
        submit = pg.get_by_role("button", name="提交")
        box = submit.bounding_box()
        assert box["height"] >= 44 and box["y"] + box["height"] <= 844  # first screen, a finger
        submit.click()
        pg.get_by_text(f"#{task_id}: 待签收 → 整改中").wait_for(timeout=30_000)
        pg.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(str(photo))
        pg.get_by_text("已上传材料").wait_for(timeout=30_000)
        pg.get_by_label("办理说明").fill("支委会已召开,记录照片已上传")
        pg.get_by_role("button", name="提交").click()
        pg.get_by_text(f"#{task_id}: 整改中 → 待验收").wait_for(timeout=30_000)
        settle(pg)
        no_sideways_scroll(pg)
        for path in ("unit", "inbox", ""):  # its other pages fit the phone too
            pg.goto(f"{server}/{path}")
            pg.wait_for_selector(IDLE, timeout=90_000)
            settle(pg)
            no_sideways_scroll(pg)
        street = phone.new_page()  # the street reviews on a phone as well
        street.base = server
        street.context.clear_cookies()
        open_page(street, "review", "org01")
        no_sideways_scroll(street)
    finally:
        phone.close()
    db = open_database(seeded_url)
    try:
        admin = Service(db, Principal.operator("test"))
        task = admin.tasks().set_index("id").loc[task_id]
        assert task["status"] == "待验收"
        files = admin.evidence(task_id)
        assert list(files["who"]) == ["rtask"]
        name, data = admin.evidence_file(int(files["id"].iloc[0]))
        assert data == photo.read_bytes() and name.endswith(".jpg")
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def country_server(tmp_path_factory):
    """A generated five-level registry (省 → 市 → 区县 → 街道/乡镇 → 村/社区) with two months."""
    from five_levels import load_five_levels

    from assessment.service import Principal
    from assessment.service.accounts import add_user
    from assessment.store import open_database

    url = f"sqlite:///{tmp_path_factory.mktemp('country') / 'app.db'}"
    db = open_database(url)
    load_five_levels(db)
    add_user(db, Principal.operator("test"), "nation", "admin", None, DEMO_PASSWORD)
    db.dispose()
    proc, base = start_server(url, worker_port(7), FIVECOLOR_WARM_UP="0")
    yield base
    stop_server(proc)


def test_the_map_goes_down_through_every_level_and_back_up(browser, country_server, shots):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    pg.on("request", lambda request: REQUESTS.append(request.url))
    pg.base = country_server
    try:
        open_page(pg, "", "nation")
        pg.locator("[data-testid=stRadio] label", has_text="省").first.click()
        settle(pg)
        tiles = 'svg path[aria-label*="等级:"]'
        pg.wait_for_selector(tiles, state="attached", timeout=30_000)
        assert pg.locator(tiles).count() == 2  # the two provinces
        path = [
            ("甲省", "甲2市"),
            ("甲2市", "甲21县"),
            ("甲21县", "甲212镇"),
            ("甲212镇", "甲212-1"),
        ]
        for name, below in path:  # a click on a tile opens the level below it, under it
            click_mark(pg, f'svg path[aria-label*="单位: {name};"]')
            pg.get_by_role("button", name=re.compile(f"^{name}")).wait_for(timeout=30_000)
            settle(pg)
            pg.wait_for_selector(
                f'svg path[aria-label*="单位: {below}"]', state="attached", timeout=30_000
            )
            assert pg.locator(tiles).count() == (3 if below == "甲212-1" else 2)
        labels = [pg.locator(tiles).nth(k).get_attribute("aria-label") for k in range(3)]
        assert all("村民委员会" in label for label in labels)  # the villages of 甲212镇
        shown = pg.evaluate("[...document.querySelectorAll('svg text')].map(t => t.textContent)")
        assert any("甲212-1村" in t for t in shown)  # the short form on the tile
        assert not any("村民委员会" in t for t in shown)
        pg.screenshot(path=str(shots / "levels.png"))
        pg.get_by_role("button", name=re.compile("^甲省")).click()  # back up to the province
        settle(pg)
        pg.wait_for_function(
            "() => document.querySelectorAll('svg path[aria-label*=\"等级:\"]').length === 2",
            timeout=30_000,
        )
        assert (
            pg.locator("[data-testid=stRadio] input:checked")
            .evaluate("e => e.closest('label').innerText")
            .strip()
            == "市"
        )
        pg.get_by_role("button", name=re.compile("^全部")).click()  # the whole country
        settle(pg)
        pg.wait_for_function(
            "() => document.querySelectorAll('svg path[aria-label*=\"等级:\"]').length === 4",
            timeout=30_000,
        )
    finally:
        context.close()
