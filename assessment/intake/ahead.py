"""The command line's files parsed while the command loads the rest of itself.

A command that grades files spends about half a second importing pandas and the engine, on
one core, before it reads anything; Arrow's CSV parser works without Python's lock. So the
rule files are loaded first (they need neither), the registry and the monthly files are then
parsed on a thread, and ``load_inputs`` takes each parsed table from here instead of reading
it again. Only the parsing moves: every check still runs in ``load_inputs``, in its order,
and a table asked for with other text columns than were read ahead is read anew."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..problems import ProblemsError
from ..rules.loader import load_rules
from .headers import header_map, registry_text_headers, text_headers
from .readers import RawTable, read_table

AHEAD = 2  # tables parsed and not yet taken, at most: twelve months are not held at once


class ReadAhead:
    """Tables parsed on one thread in the order given, at most ``AHEAD`` of them before
    ``read`` takes them; each is handed out once."""

    def __init__(self, jobs: Sequence[tuple[str | Path, set[str]]]):
        self._waiting = [(str(path), frozenset(columns)) for path, columns in jobs]
        self._pending: dict[tuple[str, frozenset[str]], Future[RawTable]] = {}
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="read-ahead") if jobs else None
        for _ in range(AHEAD):
            self._start_next()

    def _start_next(self) -> None:
        if not self._waiting:
            if self._pool is not None:
                self._pool.shutdown(wait=False)  # its thread ends after the last file
            return
        path, columns = key = self._waiting.pop(0)
        self._pending[key] = self._pool.submit(read_table, path, text_columns=set(columns))

    def read(self, source: str | Path, text_columns: set[str] | None = None) -> RawTable:
        """The table parsed ahead for ``source`` with these text columns, or read now."""
        job = self._pending.pop((str(source), frozenset(text_columns or ())), None)
        if job is None:
            return read_table(source, text_columns=text_columns)
        self._start_next()
        return job.result()


def read_ahead(
    rules: Sequence[str | Path], units: str | Path | None, data: Sequence[str | Path]
) -> ReadAhead:
    """Start parsing ``units`` and ``data`` with the text columns ``load_inputs`` will ask
    for; nothing is read ahead when a rule file does not load (``load_inputs`` reports it)."""
    try:
        sets = [load_rules(path).rules for path in rules]
    except ProblemsError:
        return ReadAhead([])
    jobs: list[tuple[str | Path, set[str]]] = []
    if units is not None:
        jobs.append((units, registry_text_headers()))
    text = text_headers(header_map(sets))
    jobs += [(path, text) for path in data]
    return ReadAhead(jobs)
