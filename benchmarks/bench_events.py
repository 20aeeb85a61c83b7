"""Another system's export at a city's scale: the 12345 tickets of one month for a city of
about 11,000 村/社区 (some 400,000 tickets), as a user waits for it, each a whole process (best
of three, a fresh store each time) with its peak RSS:

  floor   one process reads the export with pyarrow and counts the tickets per unit
          (a group-by): the least any tool that turns events into indicators does
  import  `fivecolor import events FILE --source hotline`: every check of the export (units
          by name within their street, dates, months, ticket numbers), the derived values of
          every unit, the upload and the events stored
  grade   `fivecolor grade` of the month without the export, and with it (`-e`): what
          deriving adds to grading on files

    python benchmarks/bench_events.py [COUNTIES]     # 39 counties by default (the city)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from bench_store import FIVECOLOR, best, run  # noqa: E402
from bench_weights import city  # noqa: E402

from assessment.intake.sample_district import HOTLINE, hotline_events, make_months  # noqa: E402

RULES = [str(ROOT / "rules" / f) for f in ("community.yaml", "village.yaml")]
FLOOR = """
import sys, pyarrow.csv as c
t = c.read_csv(sys.argv[1])
t.group_by(["所属街道", "所属村社区"]).aggregate([("工单编号", "count")])
"""


def inputs(folder: Path, counties: int) -> tuple[Path, Path, Path, int, int]:
    rng = np.random.default_rng(11)
    registry = city(rng, counties=counties)
    months = make_months(registry, rng, last=1, with_hotline=True)
    [(period, month)] = months.items()
    export = hotline_events(registry, months)[period]
    units, data, tickets = folder / "units.csv", folder / "month.csv", folder / "hotline.csv"
    registry.to_csv(units, index=False)
    month.drop(columns=list(HOTLINE)).to_csv(data, index=False)
    export.to_csv(tickets, index=False)
    return units, data, tickets, len(month), len(export)


def main() -> None:
    counties = int(sys.argv[1]) if len(sys.argv) > 1 else 39
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        units, data, tickets, n_units, n_events = inputs(folder, counties)
        size = tickets.stat().st_size / 2**20
        print(f"{n_units:,} units, {n_events:,} tickets, export {size:.0f} MB")
        rules = [a for r in RULES for a in ("-r", r)]

        def floor():
            return run([sys.executable, "-c", FLOOR, str(tickets)])

        def imported():
            url = f"sqlite:///{folder / 'store.db'}"
            (folder / "store.db").unlink(missing_ok=True)
            run([FIVECOLOR, "import", "registry", str(units), "--db", url])
            return run(
                [FIVECOLOR, "import", "events", str(tickets), "-s", "hotline", *rules, "--db", url]
            )

        grade = [FIVECOLOR, "grade", *rules, "-u", str(units), "-d", str(data)]
        grade += ["-o", str(folder / "g.csv")]
        rows = {
            "floor": best(floor),
            "import": best(imported),
            "grade": best(lambda: run(grade)),
            "grade -e": best(lambda: run([*grade, "-e", f"hotline={tickets}"])),
        }
        print("| step | s | peak MB |\n|---|---:|---:|")
        for name, (seconds, mb) in rows.items():
            print(f"| {name} | {seconds:.2f} | {mb:,.0f} |")
        print(f"import / floor: {rows['import'][0] / rows['floor'][0]:.1f}x")
        print(f"deriving adds to grade: {rows['grade -e'][0] - rows['grade'][0]:.2f} s")


if __name__ == "__main__":
    main()
