"""A server's warm-up: the store graded, and the map of its whole scope prepared, in the
background from the moment the server starts, so that the first person to sign in finds the
map ready instead of waiting for the whole store to be read and graded (the country's 620,000
村/社区: about 5 s of work before anything is drawn).

What it prepares is what the map's first page asks of the view of the whole store, kept with
the graded district (every user's view is cut from it): the registry's levels, the latest
month's table, the roll-ups and the tiles of the level the map opens at, the month before,
the red and orange list with the stability of the units it lists, and the ranking of the
level below the top. Those months are then kept in the store (``store.graded_months``), with
the stabilities computed for them: the next server reads them instead of grading the whole
store again, and grades it in the background while the map is shown, at a lower CPU priority
than the sessions' requests."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import sys
import threading

from sqlalchemy.exc import OperationalError

from ..store import Database, Scope
from ..store.graded_months import keep_months
from ..store.tasks import list_tasks
from .district import District
from .hierarchy import PAGE_TILES
from .loading import graded

MAP_TILES = PAGE_TILES  # as the map page: units one by one up to this many, else a level above
LISTED = 300  # as the map page: the red and orange units listed with their stability


def warm_up(db: Database) -> threading.Thread | None:
    """Grade the store and prepare its map in a background thread (returned). Off with
    ``FIVECOLOR_WARM_UP=0`` (then the first user's request does the work)."""
    if os.environ.get("FIVECOLOR_WARM_UP", "1") == "0":
        return None

    def run() -> None:
        try:
            district = prepare(db)
            if district is not None and district.kept is not None:
                # read from kept months: the engine now, behind the sessions, for what the
                # months do not hold (explanations, other units' stability, trials)
                yield_to_requests()
                district.grading  # noqa: B018
        except Exception:  # the first request will meet (and report) the same problem
            logging.getLogger(__name__).exception("warm-up of the graded district failed")
        release_memory()

    thread = threading.Thread(target=run, name="fivecolor-warm-up", daemon=True)
    thread.start()
    return thread


def prepare(db: Database) -> District | None:
    """What the map's first page of the whole store needs, computed once and kept (the
    district; None when the store has no month)."""
    from .view import View  # the view is built on the district module

    district = graded(db)
    if not district.periods:
        return None
    latest = district.periods[-1]
    view = View(district, None)
    # in the order the map's page asks: a first session waits on each
    view.names  # noqa: B018 (kept with the district)
    levels = view.levels()  # the registry's tree: the page's selectors come before its counts
    view.table(latest)
    opening = view.opening_level(MAP_TILES)
    tiles = view.tiles(latest, opening)
    view.previous_table(latest)  # the counts' change: filled in after the tiles are drawn
    if opening == levels[-1].index:
        view.stability(latest, list(tiles["unit_code"]))
    listed = view.worklist(latest).head(LISTED)
    view.stability(latest, list(listed["unit_code"]))
    ranked = opening if opening < levels[-1].index else levels[max(len(levels) - 2, 0)].index
    view.level_summary(latest, ranked, list_tasks(db, Scope.everything(), None, None))
    keep(db, district)
    return district


def yield_to_requests() -> None:
    """Lower this thread's CPU priority (Linux: a thread's own nice value, 10): the engine's
    grading of a whole store after its kept months are read takes both cores for seconds
    (the country's: 5-8 s), and a first session signing in meanwhile waited 0.5 s longer
    for its map (median of four, 3.3 -> 2.7 s). Nothing elsewhere, nor where it is refused."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def keep(db: Database, district: District) -> None:
    """Keep the district's graded months in the store for its state, so that the next server
    reads them (the map's months: about 5 s of the country's warm-up, 0.3 s to read), unless
    they are what it was read from. A store busy past its timeout keeps nothing: the next
    server grades again."""
    if district.state is None or district.kept is not None:
        return
    try:
        keep_months(db, district.state, district.months_to_keep())
    except OperationalError:
        logging.getLogger(__name__).warning("graded months not kept: the store was busy")


def release_memory() -> None:
    """Hand the memory freed after grading back to the system. glibc keeps freed blocks of
    the sizes a large read leaves behind (the country's blobs: hundreds of MB) in the process
    unless asked; elsewhere (no glibc) there is nothing to do."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        return
    if trim is not None:
        trim(0)
