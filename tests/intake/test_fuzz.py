"""Fuzzing in CI: ``fuzz_targets.py`` runs in a child process under a 3 GB memory limit and
a time limit; the number of examples per target is printed in the test summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = int(os.environ.get("FIVECOLOR_FUZZ_EXAMPLES", "150"))
REPORT = Path(tempfile.gettempdir()) / "fivecolor-fuzz.json"


def test_readers_and_rule_loader_survive_arbitrary_and_mutated_input():
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("fuzz_targets.py")), str(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("fuzz ")]
    assert len(lines) == 6 and all(int(line.split()[-2]) > 0 for line in lines)
    REPORT.write_text(json.dumps(lines), encoding="utf-8")
