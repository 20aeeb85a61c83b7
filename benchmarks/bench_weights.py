"""A weight change on a city-sized district: how long until the app can list the units that
would change color.

Builds a city like Chongqing (39 区县, about 1,000 街道/乡镇, 11,000 村/社区) with the sample
district's seeded generator, grades 12 months with the shipped rule sets, then times what the
规则与权重 page does on a change: rebuild the rule set with the new weight (validated like a
file), regrade every month (escalation needs the months before), and diff against the current
grades. Best of five.

    python benchmarks/bench_weights.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assessment.grading.engine import assess  # noqa: E402
from assessment.insight.sensitivity import compare, with_changes  # noqa: E402
from assessment.intake.sample_district import make_months  # noqa: E402
from assessment.rules.loader import load_rules  # noqa: E402


def city(rng: np.random.Generator, counties: int = 39, streets: int = 26) -> pd.DataFrame:
    rows = [("500000000000", "示例市", "市", "")]
    for c in range(counties):
        county = f"50{c // 100 + 1:02d}{c % 100:02d}000000"  # 100 counties per 2-digit block
        rows.append((county, f"区县{c}", "区县", "500000000000"))
        for s in range(streets):
            town = s >= streets // 2
            code = county[:6] + f"{(100 + s) if town else (1 + s):03d}000"
            rows.append(
                (code, f"{'镇' if town else '街道'}{c}-{s}", "镇" if town else "街道", county)
            )
            for u in range(int(rng.integers(9, 14))):
                kind = "村" if town else "社区"
                rows.append(
                    (
                        code[:9] + f"{(200 + u) if town else (1 + u):03d}",
                        f"单位{c}-{s}-{u}",
                        kind,
                        code,
                    )
                )
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "unit_type", "parent_code"])


def main() -> None:
    rng = np.random.default_rng(11)
    registry = city(rng)
    months = make_months(registry, rng)
    data = pd.concat(months.values(), ignore_index=True)
    rules = [load_rules(ROOT / "rules" / f) for f in ("community.yaml", "village.yaml")]
    n_units = int(registry["unit_type"].isin(["社区", "村"]).sum())
    t = time.perf_counter()
    current = [assess(r, data, registry) for r in rules]
    grade_all = time.perf_counter() - t
    period = max(months)
    base, before = rules[0], current[0]
    timings, parts = [], []
    for k in range(5):
        t0 = time.perf_counter()
        changed_rules = with_changes(base, {"service": 25 + 5 * (k + 1)})
        t1 = time.perf_counter()
        after = assess(changed_rules, data, registry)
        t2 = time.perf_counter()
        _counts, changed = compare(before, after, period)
        t3 = time.perf_counter()
        timings.append(t3 - t0)
        parts.append((t1 - t0, t2 - t1, t3 - t2, len(changed)))
    best = int(np.argmin(timings))
    rebuild, regrade, diff, _ = parts[best]
    print(
        f"city: {n_units} 村/社区 in {registry['unit_type'].isin(['街道', '镇']).sum()} 街道/乡镇, "
        f"{len(months)} months, {len(data)} unit-months"
    )
    print(f"grade everything once (both rule sets): {grade_all:.2f} s")
    print(f"weight change -> list of changed units: {timings[best]:.3f} s (best of 5)")
    print(
        f"  rebuild + validate rule set {rebuild:.3f} s | regrade 12 months {regrade:.3f} s | "
        f"diff {diff:.3f} s"
    )
    for k, part in enumerate(parts):
        print(f"  服务群众 25 -> {25 + 5 * (k + 1)}: {part[3]} units change color")


if __name__ == "__main__":
    main()
