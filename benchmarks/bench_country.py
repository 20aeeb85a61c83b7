"""Province and country scale in the app, in a real browser (headless Chromium): the stores
of country_store.py (the statistics bureau's 2023 registry with two months of data), each
served by a fresh `streamlit run`.

  first session   a server just started, the first sign-in: from the click on 登录 to the
                  first tile painted (see bench_app.py for the stopwatch); signing in at once,
                  and (another server just started) after 5 s on the sign-in page, a person
                  typing a name and password while the server's warm-up goes on
  returning       a server just started, the first sign-in at once from a browser that has
                  used the app before (its cache holds the app's scripts: a person signing in
                  again after the server restarted)
  later           a second browser signing in to the same server (best of three), at once,
                  and after 2 s on the sign-in page (its prefetch of the app's scripts done)
  level           on the map, from the click on another level to its first tile painted
                  (the country's administrator: 区县; the others: 街道/乡镇)
  server MB       the server's resident memory after those sessions (VmRSS)
  per session MB  what each further session adds to it (five more sessions, averaged)

Targets (issue #21): the country's administrator within 3 s in a server's first session and
1.5 s later; a province's administrator within 1.5 s; changing level within 1 s; the server
within 1.5 GB with the country's store open.

    python benchmarks/bench_country.py              # 重庆市 (12,342 units) and the country
    python benchmarks/bench_country.py --province   # 重庆市 only
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import CHROMIUM_ARGS, STOPWATCH, TILE, first_tiles, free_port, serve
from country_store import build

TYPING = 5.0  # seconds on the sign-in page before 登录 (a person typing)
TYPED = 2.0  # a later session's seconds on the sign-in page: its prefetch has finished


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def level_change(browser, port: int, user: str, level: str) -> float:
    """Seconds from the click on ``level`` to its first tile painted, signed in as ``user``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(STOPWATCH % repr(TILE))
    first_tiles(browser, port, user, context=context)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector(TILE, state="attached", timeout=300_000)
    page.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]")
    page.evaluate(
        """tile => { window.__changed = null; const old = document.querySelector(tile);
        const seen = new MutationObserver(() => { const now = document.querySelector(tile);
          if (now && now !== old && !now.isConnected === false) { seen.disconnect();
            requestAnimationFrame(() => requestAnimationFrame(() => {
              window.__changed = Date.now(); })); } });
        seen.observe(document, {subtree: true, childList: true});
        window.__clicked = Date.now(); }""",
        TILE,
    )
    page.locator("[data-testid=stRadio] label", has_text=level).first.click()
    page.wait_for_function("() => window.__changed", polling="raf", timeout=300_000)
    took = page.evaluate("() => (window.__changed - window.__clicked) / 1000")
    context.close()
    return took


def main(province_only: bool) -> None:
    from playwright.sync_api import sync_playwright

    cases = [("重庆市", build("50"), ["chongqing", "street"])]
    if not province_only:
        cases.append(("全国", build(None), ["nation", "chongqing", "street"]))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS])
        print(
            f"{'store':<6} {'user':<10} {'first session s':>16} {'after typing s':>15}"
            f" {'returning s':>12} {'later s':>8} {'typed s':>8} {'level s':>8}"
            f" {'server MB':>10} {'per session MB':>15}"
        )
        for store, url, users in cases:
            for user in users:
                port = free_port()  # one address for the user's servers: the browser's cache
                # is kept per address, as a person's is for the one the app is served at
                returning = browser.new_context(viewport={"width": 1400, "height": 1000})
                returning.add_init_script(STOPWATCH % repr(TILE))
                proc = serve(url, port)
                try:
                    typed = first_tiles(browser, port, user, TYPING)
                    for _ in range(
                        2
                    ):  # Chrome keeps a script's compiled code from its second run on
                        first_tiles(browser, port, user, context=returning)
                finally:
                    proc.terminate()
                    proc.wait(timeout=60)
                proc = serve(url, port)
                try:
                    back = first_tiles(browser, port, user, context=returning)
                finally:
                    proc.terminate()
                    proc.wait(timeout=60)
                    returning.close()
                proc = serve(url, port)
                try:
                    first = first_tiles(browser, port, user)
                    later = min(first_tiles(browser, port, user) for _ in range(3))
                    typed_later = min(first_tiles(browser, port, user, TYPED) for _ in range(3))
                    to = "区县" if user == "nation" else "街道/乡镇"  # one level below the opening
                    level = level_change(browser, port, user, to)
                    server = rss_mb(proc.pid)
                    for _ in range(5):
                        first_tiles(browser, port, user)
                    per = (rss_mb(proc.pid) - server) / 5
                finally:
                    proc.terminate()
                    proc.wait(timeout=60)
                print(
                    f"{store:<6} {user:<10} {first:>16.2f} {typed:>15.2f}"
                    f" {back:>12.2f} {later:>8.2f} {typed_later:>8.2f} {level:>8.2f}"
                    f" {server:>10.0f} {per:>15.1f}",
                    flush=True,
                )
                time.sleep(1)


if __name__ == "__main__":
    main("--province" in sys.argv[1:])
