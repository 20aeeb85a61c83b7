"""Early warning on the sample district: the month-by-month backtest (each month forecast from
the months before it only) against the naive forecast "same grade as this month", and the time
a forecast of every unit takes.

    python benchmarks/bench_forecast.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from assessment.grading.graded import grade_inputs
    from assessment.insight.forecast import backtest, forecast
    from assessment.intake.inputs import load_inputs

    sample = ROOT / "sample_data"
    files = sorted(p for p in sample.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))
    rules = [ROOT / "rules" / "community.yaml", ROOT / "rules" / "village.yaml"]
    graded = grade_inputs(load_inputs(rules, sample / "units.csv", files))
    print("“orange or red next month”, backtest over the sample district's months")
    print(
        f"{'rule set':<34} {'months':>6} {'precision':>10} {'recall':>7} {'naive prec':>11} {'naive rec':>10}"
    )
    for a in graded:
        start = time.perf_counter()
        b = backtest(a)
        took = time.perf_counter() - start
        print(
            f"{a.rules.name:<34} {b['months']:>6} {b['model_precision']:>10.2f} "
            f"{b['model_recall']:>7.2f} {b['naive_precision']:>11.2f} {b['naive_recall']:>10.2f}"
            f"   ({took:.2f} s)"
        )
    start = time.perf_counter()
    for a in graded:
        forecast(a)
    print(f"forecast of every unit: {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
