"""The ``fivecolor`` process: allocator settings that must come before Arrow loads, then the CLI.

A grade run parses a month (about 250 MB of Arrow memory for 600k units), frees it, and at
once allocates as much again for the scoring matrices. Arrow's allocator (mimalloc) hands freed
memory back to the OS after 10 ms by default, so the next allocations fault every page back
in: at national scale that was 0.3 s of a 2 s run on the 2-core VM (benchmarks/README.md). A
command lives for seconds, so it keeps what it frees for reuse; the app, a long-running
server, keeps the default. The same holds for the C library's allocator, which numpy uses:
by default it gives the top of its heap back whenever a few MB are free and maps every array
over 128 kB (later: over the largest one freed) afresh, so each of grading's temporaries (a
column of 600,000 floats is 4.8 MB) faulted its pages in again: 270 MB of page faults of a
600,000-unit grade.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
KEEP_BYTES = 1 << 30  # free heap the C library keeps before it trims
MMAP_BYTES = 32 << 20  # glibc's largest threshold: arrays below it come from the heap


def keep_freed_memory() -> None:
    """Tell mimalloc never to return freed memory to the OS (effective only before pyarrow is
    first imported: mimalloc reads its options once; an explicit setting wins), and glibc's
    malloc to keep up to 1 GB of freed heap and to serve arrays up to 32 MB from it. A C
    library without ``mallopt`` (not glibc) is left as it is."""
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "-1")
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the C library Python runs on
    if mallopt is not None:
        mallopt(M_TRIM_THRESHOLD, KEEP_BYTES)
        mallopt(M_MMAP_THRESHOLD, MMAP_BYTES)


def main() -> None:
    keep_freed_memory()
    from .main import main as run  # imports pandas and pyarrow: after the setting

    try:
        run()
    except SystemExit as done:
        code = done.code
    else:
        code = 0
    end(code)


def end(code: object) -> None:
    """Exit with ``code`` (as ``SystemExit`` reads it). A command that opened no store leaves
    without tearing the interpreter down: freeing a graded country's frames object by object,
    module by module, took 0.2 s of a 2 s grade, and every file it wrote is closed by then. One
    that opened a store exits as usual, so its connections close (SQLite folds its log back
    into the database file only then)."""
    if "sqlalchemy" in sys.modules:
        sys.exit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # what the interpreter's own exit runs first
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
