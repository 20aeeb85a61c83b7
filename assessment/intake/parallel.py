"""Column work on every core: numpy and Arrow release the GIL, so each column of a long table
is handed to a thread of its own."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

PARALLEL_ROWS = 50_000  # shorter columns are done faster on one core than handed to threads


def for_each(count: int, work: Callable[[int], None], rows: int) -> None:
    """``work(0) .. work(count - 1)`` (each writes its own columns), on every core when the
    columns are long enough to be worth a thread."""
    if rows < PARALLEL_ROWS or count < 2 or (os.cpu_count() or 1) < 2:
        for j in range(count):
            work(j)
        return
    with ThreadPoolExecutor(min(count, os.cpu_count() or 1)) as pool:
        list(pool.map(work, range(count)))  # list(): re-raises a worker's exception
