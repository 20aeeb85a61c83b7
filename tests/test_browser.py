"""Real-browser tests: Debian's Chromium driven by Playwright against `streamlit run` on
127.0.0.1. Every request the pages make is recorded: none may leave the machine. Each page is
screenshotted into a temporary folder, or into docs/screenshots/ (shown in the README) with
``make screenshots`` (FIVECOLOR_SCREENSHOTS=docs/screenshots), so a test run leaves the working
tree as it was."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ROOT

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
}
REQUESTS: list[str] = []
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where this run's screenshots go: pytest's temporary folders unless asked otherwise."""
    folder = os.environ.get("FIVECOLOR_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from assessment.service.seed import seed_sample
    from assessment.store import open_database

    folder = tmp_path_factory.mktemp("browser")
    db = open_database(f"sqlite:///{folder / 'app.db'}")
    seed_sample(db)
    db.dispose()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    port = 8765 + int(re.sub(r"\D", "", worker) or 0)
    env = {**os.environ, "FIVECOLOR_DB": f"sqlite:///{folder / 'app.db'}"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=30)


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


def open_page(pg, path: str):
    pg.goto(f"{pg.base}/{path}")
    pg.wait_for_selector(IDLE, timeout=90_000)
    pg.wait_for_load_state("networkidle")
    return pg


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


def test_clicking_a_tile_opens_that_unit(page, shots):
    open_page(page, "")
    tile = page.wait_for_selector('svg path[aria-label*="单位: 丹枫桥社区;"]', timeout=30_000)
    tile.scroll_into_view_if_needed()
    box = tile.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/unit$"), timeout=30_000)
    settle(page)
    assert page.locator("h1").first.inner_text() == "单位详情"
    assert page.locator("h3", has_text="丹枫桥社区").count() == 1
    page.screenshot(path=str(shots / "unit.png"))


def test_a_gb18030_file_with_bad_rows_shows_its_issues(page, shots):
    open_page(page, "upload")
    page.locator("[data-testid=stSelectbox]").filter(has_text="上传哪个月的数据").click()
    page.get_by_role("option", name="2026-03").click()
    settle(page)
    bad = ROOT / "tests" / "bad_uploads" / "gb18030_bad_rows.csv"
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_text("发现 2 个错误").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_text("下载问题清单(.xlsx)").is_visible()
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


@pytest.mark.parametrize("name", ["overview", "unit", "upload", "weights", "tasks", "trends"])
def test_no_page_shows_an_exception(page, shots, name):
    open_page(page, PAGES[name])
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.locator("h1").first.inner_text()
    if name in ("tasks", "trends"):
        page.screenshot(path=str(shots / f"{name}.png"))


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
