"""Grade stability of a city: 11,000 units x 30 indicators under 1,000 weight draws, printed
beside the time of one grading of the same month (best of three).

    python benchmarks/bench_stability.py [UNITS] [DRAWS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def best(work, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(units: int, draws: int) -> None:
    from bench_grade import write_inputs

    from assessment.grading.engine import assess
    from assessment.insight.stability import stability, weight_sensitivity
    from assessment.intake.inputs import load_inputs

    with tempfile.TemporaryDirectory() as tmp:
        rules, registry, data = write_inputs(units, Path(tmp))
        inputs = load_inputs([rules], registry, [data])
    loaded = inputs.rule_sets[0]
    one, graded = best(lambda: assess(loaded, inputs.data, inputs.registry))
    many, table = best(lambda: stability(graded, "2026-10", draws=draws))
    each, _ = best(lambda: weight_sensitivity(graded, "2026-10"))
    print(f"{units} units x 30 indicators, {draws} weight draws (±25%), best of 3")
    print(f"  one grading:                {one:7.3f} s")
    print(f"  stability ({draws} draws):    {many:7.3f} s  = {many / one:5.1f} gradings")
    print(f"  per-weight sensitivity ({2 * 36} gradings): {each:7.3f} s")
    print(f"  边界单位 (< 80% of draws keep the grade): {int(table['borderline'].sum())}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 11_000, args[1] if len(args) > 1 else 1000)
