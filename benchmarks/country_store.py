"""A store of the whole country: the statistics bureau's 2023 registry (665,271 units, five
levels, see china_division.py) and two months of generated indicators for its 620,572 村/社区,
with both shipped rule sets; accounts: ``nation`` (every unit), ``chongqing`` (重庆市) and
``street`` (one street of it). Built once into a cache folder, each step a whole
``fivecolor`` process, as an administrator would load it.

    python benchmarks/country_store.py [--province 50]   # prints the store's URL
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from china_division import CACHE, registry  # noqa: E402

FIVECOLOR = str(Path(sys.executable).parent / "fivecolor")
PASSWORD = "bench-password-1"
RULES = [str(ROOT / "rules" / f) for f in ("community.yaml", "village.yaml")]


def build(province: str | None = None) -> str:
    """The store's URL, built on first use."""
    name = f"country-{province or 'all'}"
    folder = CACHE.parent / name
    url = f"sqlite:///{folder / 'store.db'}"
    if (folder / "done").exists():
        return url
    from assessment.intake.registry import leaf_units
    from assessment.intake.sample_district import make_months

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "store.db").unlink(missing_ok=True)
    units = registry(province)
    units.to_csv(folder / "units.csv", index=False)
    timed([FIVECOLOR, "import", "registry", str(folder / "units.csv"), "--db", url])
    from assessment.intake.readers import read_table
    from assessment.intake.registry import ingest_registry, registry_text_headers

    data = (folder / "units.csv").read_bytes()
    reg = ingest_registry(read_table(data, "units.csv", text_columns=registry_text_headers()))
    months = make_months(reg.frame, np.random.default_rng(7), last=2)
    for period, frame in sorted(months.items()):
        path = folder / f"{period}.csv"
        frame.to_csv(path, index=False)
        rules = [a for r in RULES for a in ("-r", r)]
        timed([FIVECOLOR, "import", "data", str(path), *rules, "--db", url])
    leaves = leaf_units(reg.frame)
    street = str(leaves["parent_code"].iloc[0])
    top = "500000000000" if province in (None, "50") else f"{province}0000000000"
    from assessment.service import Principal
    from assessment.service.accounts import add_user
    from assessment.store import open_database

    db = open_database(url)
    for user, role, scope in (
        ("nation", "admin", None),
        ("chongqing", "admin", [top]),
        ("street", "organizer", [street]),
    ):
        add_user(db, Principal.operator("bench"), user, role, scope, PASSWORD)
    db.dispose()
    (folder / "done").write_text(street)
    return url


def timed(cmd: list[str]) -> None:
    start = time.perf_counter()
    # a month of the country is 119 MB of CSV: over the default upload limit of 100 MB
    env = {**os.environ, "FIVECOLOR_MAX_UPLOAD_MB": "400"}
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    print(f"  {' '.join(Path(c).name for c in cmd[:3])}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", help="two-digit province code, e.g. 50 (重庆市)")
    print(build(parser.parse_args().province))
