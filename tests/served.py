"""``streamlit run`` on 127.0.0.1 for the tests that need the real server (the browser tests,
the HTTP API): started on a port of its own per xdist worker, stopped afterwards."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT


def start_server(url: str, port: int, **settings: str):
    """``streamlit run`` on 127.0.0.1:port over the database at ``url``; stops on exit."""
    env = {**os.environ, "FIVECOLOR_DB": url, **settings}
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
    return proc, base


def stop_server(proc) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def worker_port(offset: int) -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 8765 + 10 * int(re.sub(r"\D", "", worker) or 0) + offset
