"""The form on a phone (390x844, headless Chromium), as a village secretary waits for it:

  - first paint: from opening /form (signed in) to the first field on screen;
  - submit: from the tap on 提交 to the trial grade (试算) on screen.

A fresh `streamlit run` on a copy of the sample district, with a reporter for one community;
best of three fresh browser contexts (three reporters, three communities), each signed in
through the sign-in page first.

    python benchmarks/bench_form.py          # needs chromium (apt-get install chromium)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
UNITS, PASSWORD = ("500188001004", "500188001005", "500188001006"), "bench-village-1"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
IDLE = "[data-testid=stApp][data-test-script-state=notRunning]"
FIELD = "[class*='st-key-f_'] input"


def store(url: str) -> None:
    from assessment.service import Principal
    from assessment.service.accounts import add_user
    from assessment.service.seed import seed_sample
    from assessment.store import open_database

    db = open_database(url)
    seed_sample(db)
    for k, unit in enumerate(UNITS):  # one each: a submitted form shows its trial at once
        add_user(db, Principal.operator("bench"), f"rbench{k}", "reporter", [unit], PASSWORD)
    db.dispose()


def one(browser, port: int, k: int) -> tuple[float, float]:
    october = pd.read_csv(ROOT / "sample_data" / "indicators_2026-10.csv", dtype=str)
    row = october.set_index("unit_code").loc[UNITS[k]]
    context = browser.new_context(locale="zh-CN", **PHONE)
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{port}/signin")
    page.locator("#name").fill(f"rbench{k}")
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    page.wait_for_selector(IDLE, timeout=120_000)
    start = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/form")
    page.wait_for_selector(FIELD, timeout=120_000)
    painted = time.perf_counter() - start
    page.wait_for_selector(IDLE, timeout=120_000)
    boxes = page.locator(f"{FIELD}[type=text]")
    for k in range(boxes.count()):
        holder = boxes.nth(k).locator("xpath=ancestor::*[contains(@class,'st-key-f_')][1]")
        column = holder.get_attribute("class").split("st-key-f_")[1].split()[0]
        value = row.get(column)
        boxes.nth(k).fill("" if pd.isna(value) else str(value))
    for radio in page.locator("[class*='st-key-f_'] [role=radiogroup]").all():
        holder = radio.locator("xpath=ancestor::*[contains(@class,'st-key-f_')][1]")
        column = holder.get_attribute("class").split("st-key-f_")[1].split()[0]
        radio.get_by_text(
            "是" if str(row.get(column)) in ("1", "1.0") else "否", exact=True
        ).click()
    page.wait_for_selector(IDLE, timeout=120_000)
    time.sleep(0.5)
    page.wait_for_selector(IDLE, timeout=120_000)
    start = time.perf_counter()
    assert page.get_by_text("若审核通过,预计为").count() == 0  # not there before the tap
    page.get_by_role("button", name="提交").click()
    page.get_by_text("若审核通过,预计为").wait_for(timeout=120_000)
    submitted = time.perf_counter() - start
    context.close()
    return painted, submitted


def main() -> None:
    from bench_app import CHROMIUM_ARGS, free_port, serve
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'form.db'}"
        store(url)
        proc = serve(url, free_port())
        port = int(proc.args[proc.args.index("--server.port") + 1])
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS]
                )
                runs = [one(browser, port, k) for k in range(len(UNITS))]
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    print("the form on a 390x844 phone, seconds (best of three; Playwright's clock)")
    print(f"  first field on screen after opening /form: {min(r[0] for r in runs):.2f}")
    print(f"  tap on 提交 to the trial grade on screen:   {min(r[1] for r in runs):.2f}")


if __name__ == "__main__":
    main()
