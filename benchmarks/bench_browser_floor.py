"""The browser's floor under the map: how long Streamlit itself takes to show a page in a new
browser context, with none of the app in it. Three throwaway pages, each served by its own
`streamlit run` (the pinned Streamlit, the app's .streamlit/config.toml):

  text     one line of text
  chart    one Vega-Lite chart of 38 tiles, drawn as SVG (as the map's tiles are)
  tables   that chart and two st.dataframe of 300 rows (as the worklist and the ranking)

Timed from navigating to the page to the first mark painted, best and median of five:

  cold        nothing cached: every script fetched, parsed and run
  prefetched  the page's scripts already in the HTTP cache, as the sign-in page's prefetch
              leaves them for a person who types a name and a password

The map after signing in (bench_app.py, bench_country.py) adds the sign-in post (the password
hash), the redirect, the sidebar, the selectors and the page's own elements to this.

    python benchmarks/bench_browser_floor.py
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import CHROMIUM_ARGS, ROOT, free_port

PAGE = """
import os

import altair as alt
import pandas as pd
import streamlit as st

kind = os.environ["FLOOR_PAGE"]
st.title("五色图")
if kind == "text":
    st.markdown("等级: 好")
else:
    tiles = pd.DataFrame({"x": range(38), "grade": ["好"] * 38})
    chart = alt.Chart(tiles).mark_rect().encode(
        x="x:O", color="grade:N", tooltip=alt.Tooltip("grade", title="等级")
    )
    st.vega_lite_chart(
        spec=chart.properties(height=40, usermeta={"embedOptions": {"renderer": "svg"}}).to_dict()
    )
if kind == "tables":
    rows = pd.DataFrame({"单位": [f"第{i}村" for i in range(300)], "总分": range(300)})
    st.dataframe(rows, hide_index=True)
    st.dataframe(rows, hide_index=True)
"""
MARK = {"text": "text=等级: 好", "chart": "svg path[aria-label]", "tables": "svg path[aria-label]"}
RUNS = 5


def serve(folder: Path, kind: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "streamlit", "run", str(folder / "page.py")),
            *("--server.address", "127.0.0.1", "--server.port", str(port)),
            *("--server.headless", "true", "--browser.gatherUsageStats", "false"),
        ],
        cwd=folder,
        env={**os.environ, "FLOOR_PAGE": kind},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc, port
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def shown(browser, base: str, mark: str, scripts: list[str] | None) -> tuple[float, list]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    if scripts is not None:  # into the HTTP cache from a page of the same site, not run
        page.goto(f"{base}/_stcore/health")
        page.evaluate(
            "async (urls) => { await Promise.all(urls.map(u => fetch(u).then(r => r.blob()))) }",
            scripts,
        )
    start = time.perf_counter()
    page.goto(f"{base}/")
    page.wait_for_selector(mark, state="attached", timeout=120_000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    took = time.perf_counter() - start  # in the DOM and painted, as bench_app.py's stopwatch
    if scripts is None:
        scripts = page.evaluate(
            "() => performance.getEntriesByType('resource').map(e => e.name)"
            ".filter(u => u.includes('/static/'))"
        )
    context.close()
    return took, scripts


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        folder = Path(tmp)
        (folder / "page.py").write_text(PAGE, encoding="utf-8")
        shutil.copytree(ROOT / ".streamlit", folder / ".streamlit")
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS])
        print(f"{'page':<8} {'scripts':>8} {'cold s (best / median)':>24} {'prefetched s':>14}")
        for kind, mark in MARK.items():
            proc, port = serve(folder, kind)
            try:
                base = f"http://127.0.0.1:{port}"
                _, scripts = shown(browser, base, mark, None)  # the server's first page
                cold, warm = [], []
                for _ in range(RUNS):
                    cold.append(shown(browser, base, mark, None)[0])
                    warm.append(shown(browser, base, mark, scripts)[0])
            finally:
                proc.terminate()
                proc.wait(timeout=60)
            print(
                f"{kind:<8} {len(scripts):>8}"
                f" {min(cold):>11.2f} / {statistics.median(cold):.2f}"
                f" {min(warm):>7.2f} / {statistics.median(warm):.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
