"""The large float matrices of a month (units x columns), drawn from Arrow's memory pool.

A month of 600,000 units x 30 indicators is three matrices of 137 MB each: the values read from
the file, the raw values the indicators score and the scores. numpy takes arrays that large
from the system anew each time (fresh pages, each faulted in and zeroed by the kernel), while
Arrow's pool (mimalloc) hands out again what it already holds: the memory the file's parse
has just freed. On the 2-core VM that was 500 MB of page faults in grading alone
(benchmarks/README.md). In a long-running server the pool returns freed memory to the system
as before (``cli.console`` keeps it only for a command)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def empty_matrix(rows: int, columns: int) -> np.ndarray:
    """An uninitialised, writable, column-major float64 matrix from Arrow's pool; the array
    keeps its buffer alive."""
    buffer = pa.allocate_buffer(rows * columns * 8)
    return np.frombuffer(buffer, dtype=np.float64).reshape((rows, columns), order="F")
