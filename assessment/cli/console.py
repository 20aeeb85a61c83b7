"""The ``fivecolor`` process: allocator settings that must come before Arrow loads, then the CLI.

A grade run parses a month (about 250 MB of Arrow memory for 600k units), frees it, and at
once allocates as much again for the scoring matrices. Arrow's allocator (mimalloc) hands freed
memory back to the OS after 10 ms by default, so the next allocations fault every page back
in: at national scale that was 0.3 s of a 2 s run on the 2-core VM (benchmarks/README.md). A
command lives for seconds, so it keeps what it frees for reuse; the app, a long-running
server, keeps the default.
"""

from __future__ import annotations

import os


def keep_freed_memory() -> None:
    """Tell mimalloc never to return freed memory to the OS. Effective only before pyarrow is
    first imported (mimalloc reads its options once); an explicit setting wins."""
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")


def main() -> None:
    keep_freed_memory()
    from .main import main as run  # imports pandas and pyarrow: after the setting

    run()
