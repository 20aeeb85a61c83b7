"""The store at scale: importing a month, grading it from the store, and starting the command.

Each figure is a whole process, as a user waits for it (best of three, fresh process each), with
its peak RSS:

  import floor   one process reads the CSV with pyarrow and inserts the wide table into a SQLite
                 file in one executemany (PostgreSQL: COPY of the CSV into a plain table)
  import         `fivecolor import data` (every check, the upload stored as Arrow parts)
  grade          `fivecolor grade` on the same CSV (no store)
  assess         `fivecolor assess` of the month from the store
  --help         `fivecolor --help`

Targets (issue #11): import <= 3x its floor (100k on SQLite, < 1 GB; 600k on PostgreSQL,
< 2 GB); assess <= 2x grade; --help < 0.25 s.

    python benchmarks/bench_store.py                 # 100k units on SQLite
    python benchmarks/bench_store.py 10000 100000    # sizes
    FIVECOLOR_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:55432/postgres \
        python benchmarks/bench_store.py 600000      # and on PostgreSQL
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
FIVECOLOR = str(Path(sys.executable).parent / "fivecolor")

FLOOR_SQLITE = """
import sqlite3, sys, pyarrow.csv as c
t = c.read_csv(sys.argv[1])
db = sqlite3.connect(sys.argv[2])
cols = t.column_names
db.execute("CREATE TABLE m (" + ", ".join(f'"{k}"' for k in cols) + ")")
db.executemany(
    "INSERT INTO m VALUES (" + ",".join("?" * len(cols)) + ")",
    zip(*[t.column(k).to_pylist() for k in cols]),
)
db.commit()
"""

FLOOR_PG = """
import sys, psycopg
url = sys.argv[2].replace("postgresql+psycopg", "postgresql")
with psycopg.connect(url) as conn, conn.cursor() as cur:
    header = open(sys.argv[1], encoding="utf-8").readline().strip().split(",")
    cur.execute("DROP TABLE IF EXISTS bench_floor")
    cur.execute("CREATE TABLE bench_floor (" + ", ".join(f'"{k}" text' for k in header) + ")")
    with open(sys.argv[1], "rb") as f, cur.copy("COPY bench_floor FROM STDIN (FORMAT csv, HEADER)") as copy:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    cur.execute("DROP TABLE bench_floor")
"""


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})}
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def best(make, runs: int = 3) -> tuple[float, float]:
    results = [make() for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite:///{folder / name}"


def fresh_store(url: str, units: Path) -> None:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    run([FIVECOLOR, "import", "registry", str(units), "--db", url])


def measure(n: int, folder: Path, url: str) -> dict:
    from bench_grade import write_inputs

    rules, units, data = write_inputs(n, folder)
    out: dict = {"units": n}
    if url.startswith("sqlite"):
        floor_db = folder / "floor.db"

        def floor():
            floor_db.unlink(missing_ok=True)
            return run([sys.executable, "-c", FLOOR_SQLITE, str(data), str(floor_db)])

    else:

        def floor():
            return run([sys.executable, "-c", FLOOR_PG, str(data), url])

    out["floor"], out["floor_mb"] = best(floor)

    def importing():
        fresh_store(url, units)
        return run([FIVECOLOR, "import", "data", str(data), "-r", str(rules), "--db", url])

    out["import"], out["import_mb"] = best(importing)
    grade_out = folder / "graded.csv"
    grading = [FIVECOLOR, "grade", "-r", str(rules), "-u", str(units), "-d", str(data)]
    out["grade"], out["grade_mb"] = best(lambda: run([*grading, "-o", str(grade_out)]))

    def assessing():  # on a store of its own: a second assess of the same data is a no-op
        importing()
        return run([FIVECOLOR, "assess", "-p", "2026-10", "-r", str(rules), "--db", url])

    out["assess"], out["assess_mb"] = best(assessing)
    return out


def main(sizes: list[int]) -> None:
    help_s, _ = best(lambda: run([FIVECOLOR, "--help"]), runs=5)
    print(f"fivecolor --help: {help_s:.3f} s (target < 0.25 s)")
    targets = [("SQLite", None)]
    if os.environ.get("FIVECOLOR_BENCH_PG"):
        targets.append(("PostgreSQL", os.environ["FIVECOLOR_BENCH_PG"]))
    print(
        f"{'store':>10} {'units':>8} {'floor s':>8} {'import s':>9} {'ratio':>6} {'import MB':>10}"
        f" {'grade s':>8} {'assess s':>9} {'ratio':>6} {'assess MB':>10}"
    )
    for name, pg in targets:
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                r = measure(n, folder, pg or sqlite_url(folder, "store.db"))
            print(
                f"{name:>10} {n:>8} {r['floor']:>8.2f} {r['import']:>9.2f} "
                f"{r['import'] / r['floor']:>6.2f} {r['import_mb']:>10.0f} {r['grade']:>8.2f} "
                f"{r['assess']:>9.2f} {r['assess'] / r['grade']:>6.2f} {r['assess_mb']:>10.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000])
