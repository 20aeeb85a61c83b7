"""Grade synthetic districts of 10k, 100k and 600k units x 30 indicators.

For each size, in a fresh process (so peak memory is that run's own):
  floor  = pyarrow reads the same CSV + one numpy weighted sum (the least any grader must do)
  grade  = the full `fivecolor grade` path: read + header mapping + validation, score, grade,
           reasons, and the graded CSV written out
and prints both, their ratio (target: grade <= 2x floor) and the peak RSS (target: < 2 GB).
Then the same two as whole processes, what a user waits for (issue #21's measure): a process
that starts, imports pyarrow and numpy, reads the CSV and computes one weighted sum, against
the whole `fivecolor grade -r -u -d -o` command (start, imports, the work, the CSV written).
Both processes run with the allocator setting of the `fivecolor` process
(assessment/cli/console.py), and the package's modules are compiled to bytecode first, as an
installed package's are (pip compiles them; an editable install writes them on first use
unless PYTHONDONTWRITEBYTECODE is set, as it is on the build machines: compiling the
package's own sources was 0.15 s of every command there).

    python benchmarks/bench_grade.py            # 10k, 100k, 600k
    python benchmarks/bench_grade.py 10000      # one size
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = [10_000, 100_000, 600_000]
N_IND = 30
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = [
    ("linear", "{method: linear, worst: 60, best: 100}", lambda r, n: r.uniform(50, 100, n)),
    (
        "bands",
        "{method: bands, bands: [[95, 100], [90, 80], [85, 60]]}",
        lambda r, n: r.uniform(80, 100, n),
    ),
    ("pass_fail", "{method: pass_fail}", lambda r, n: (r.random(n) < 0.9).astype(float)),
    ("deduct", "{method: deduct, per: 25}", lambda r, n: r.poisson(0.3, n).astype(float)),
    ("minmax", "{method: minmax}", lambda r, n: r.uniform(0, 100, n)),
]


def rule_text() -> str:
    lines = [
        "id: bench",
        "name: 基准",
        'version: "1"',
        "grades:",
        "  green: {label: 好, min_score: 90}",
        "  blue: {label: 较好, min_score: 80}",
        "  yellow: {label: 合格, min_score: 70}",
        "  orange: {label: 较差, min_score: 60}",
        "  red: {label: 差}",
        "dimensions:",
    ]
    for d in range(6):
        lines += [f"  - id: d{d}", f"    name: 维度{d}", f"    weight: {d + 1}"]
        if d == 0:
            lines.append("    floor: {min_score: 50, cap: yellow}")
        lines.append("    indicators:")
        for k in range(5):
            i = d * 5 + k
            method = METHODS[i % len(METHODS)]
            lines += [
                f"      - id: i{i:02d}",
                f"        name: 指标{i}",
                f"        weight: {k + 1}",
                f"        scoring: {method[1]}",
            ]
    lines += ["vetoes:", "  - {id: v, name: 否决, column: i03, op: '>=', value: 3, cap: red}"]
    return "\n".join(lines) + "\n"


def write_inputs(n: int, folder: Path) -> tuple[Path, Path, Path]:
    import pandas as pd

    rng = np.random.default_rng(n)
    codes = np.char.add("5002", np.char.zfill(np.arange(n).astype(str), 8))
    cols = {"unit_code": codes, "period": np.full(n, "2026-10")}
    for i in range(N_IND):
        values = METHODS[i % len(METHODS)][2](rng, n)
        values[rng.random(n) < 0.01] = np.nan
        cols[f"i{i:02d}"] = values
    data = folder / f"data_{n}.csv"
    pd.DataFrame(cols).to_csv(data, index=False, float_format="%.4g")
    units = folder / f"units_{n}.csv"
    reg = pd.DataFrame(
        {
            "unit_code": codes,
            "unit_name": "单位",
            "unit_type": "社区",
            "parent_code": "500100000000",
        }
    )
    root = pd.DataFrame(
        [{"unit_code": "500100000000", "unit_name": "市", "unit_type": "市", "parent_code": ""}]
    )
    pd.concat([root, reg]).to_csv(units, index=False)
    rules = folder / "bench.yaml"
    rules.write_text(rule_text(), encoding="utf-8")
    return rules, units, data


def run_floor(data: Path) -> float:
    import pyarrow.csv as pacsv

    weights = np.arange(1, N_IND + 1, dtype=np.float64)
    start = time.perf_counter()
    table = pacsv.read_csv(data)
    x = np.column_stack([table.column(f"i{i:02d}").to_numpy() for i in range(N_IND)])
    total = np.nan_to_num(x) @ weights / weights.sum()
    assert total.shape[0] == table.num_rows
    return time.perf_counter() - start


def run_grade(rules: Path, units: Path, data: Path, out: Path) -> dict:
    from assessment.grading.graded import grade_inputs, graded_table
    from assessment.intake.inputs import load_inputs
    from assessment.outputs.exports import write_csv

    t0 = time.perf_counter()
    inputs = load_inputs([rules], units, [data])
    assert not inputs.errors, inputs.errors[:3]
    t1 = time.perf_counter()
    assessments = grade_inputs(inputs)
    t2 = time.perf_counter()
    write_csv(graded_table(assessments), out)
    t3 = time.perf_counter()
    return {"read": t1 - t0, "score": t2 - t1, "write": t3 - t2, "grade": t3 - t0}


FLOOR_PROCESS = """
import sys
from assessment.cli.console import keep_freed_memory
keep_freed_memory()  # the command's allocator settings, before numpy and Arrow load
import numpy as np
import pyarrow.csv as pacsv
N_IND = int(sys.argv[2])
table = pacsv.read_csv(sys.argv[1])
x = np.column_stack([table.column(f"i{i:02d}").to_numpy() for i in range(N_IND)])
weights = np.arange(1, N_IND + 1, dtype=np.float64)
total = np.nan_to_num(x) @ weights / weights.sum()
assert total.shape[0] == table.num_rows
"""


def whole_processes(n: int, folder: Path, runs: int = 5) -> dict[str, list[float]]:
    """Wall-clock seconds of the floor process and of the `fivecolor grade` command, each
    started afresh, ``runs`` of each taken in turns (the VM's speed drifts by a third within
    minutes, so the two are measured in the same minutes), with the command's allocator
    setting for both."""
    env = {**os.environ, "MIMALLOC_PURGE_DELAY": "-1"}
    data, out = folder / f"data_{n}.csv", folder / f"cli_{n}.csv"
    floor_cmd = [sys.executable, "-c", FLOOR_PROCESS, str(data), str(N_IND)]
    fivecolor = Path(sys.executable).with_name("fivecolor")
    grade_cmd = [str(fivecolor), "grade", "-r", str(folder / "bench.yaml")]
    grade_cmd += ["-u", str(folder / f"units_{n}.csv"), "-d", str(data), "-o", str(out)]
    times: dict[str, list[float]] = {"floor": [], "grade": []}
    for _ in range(runs):
        for name, cmd in (("floor", floor_cmd), ("grade", grade_cmd)):
            start = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return times


def one(n: int, folder: Path, mode: str) -> None:
    from assessment.cli.console import keep_freed_memory

    keep_freed_memory()  # as the `fivecolor` process does; the floor gets it too, to be fair
    rules, units, data = folder / "bench.yaml", folder / f"units_{n}.csv", folder / f"data_{n}.csv"
    if mode == "floor":
        result = {"floor": run_floor(data)}
    else:
        result = run_grade(rules, units, data, folder / f"out_{n}.csv")
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(n: int, folder: Path, mode: str) -> dict:
    cmd = [sys.executable, __file__, "--one", str(n), str(folder), mode]
    runs = [json.loads(subprocess.check_output(cmd, text=True)) for _ in range(3)]
    best = min(runs, key=lambda r: r.get("grade", r.get("floor")))
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    return best


def main(sizes: list[int]) -> None:
    import compileall

    compileall.compile_dir(ROOT / "assessment", quiet=1)
    print(
        f"units x {N_IND} indicators; in-process columns: best of 3 runs, each in a fresh process; times in seconds"
    )
    print(
        f"{'units':>8} {'floor':>7} {'grade':>7} {'ratio':>6} {'read':>6} {'score':>6} "
        f"{'write':>6} {'peak MB':>8} {'floor MB':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            write_inputs(n, folder)
            floor = measure(n, folder, "floor")
            grade = measure(n, folder, "grade")
            whole = whole_processes(n, folder)
            f_best, g_best = min(whole["floor"]), min(whole["grade"])
            f_mid, g_mid = statistics.median(whole["floor"]), statistics.median(whole["grade"])
            print(
                f"{n:>8} {floor['floor']:>7.3f} {grade['grade']:>7.3f} "
                f"{grade['grade'] / floor['floor']:>6.2f} {grade['read']:>6.3f} "
                f"{grade['score']:>6.3f} {grade['write']:>6.3f} {grade['peak_mb']:>8.0f} "
                f"{floor['peak_mb']:>9.0f}"
                f"   whole processes (best / median of {len(whole['grade'])}, in turns):"
                f" floor {f_best:.3f} / {f_mid:.3f}  fivecolor grade {g_best:.3f} / {g_mid:.3f}"
                f"  ratio {g_best / f_best:.2f} / {g_mid / f_mid:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        one(int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        main([int(a) for a in sys.argv[1:]] or SIZES)
