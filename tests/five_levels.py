"""A generated five-level registry with the statistics bureau's 12-digit codes: 2 provinces,
each 2 cities of 2 counties of 2 towns (a 街道 and a 镇) of 3 villages (社区 and 村), and two
months of the sample's indicators for its villages; the official long names, as published."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import RULES

from assessment.intake.sample_district import make_months
from assessment.rules.loader import load_rules
from assessment.service import Principal, Service

PROVINCES = {"61": "甲省", "62": "乙省"}
MONTHS = 2


def five_levels() -> pd.DataFrame:
    rows = []
    for p, province in PROVINCES.items():
        rows.append((f"{p}0000000000", province, "省", ""))
        for c in (1, 2):
            city = f"{p}{c:02d}00000000"
            rows.append((city, f"{province[0]}{c}市", "市", f"{p}0000000000"))
            for k in (1, 2):
                county = f"{p}{c:02d}{k:02d}000000"
                rows.append((county, f"{province[0]}{c}{k}县", "县", city))
                for t in (1, 2):
                    town = f"{county[:6]}{t:03d}000"
                    street = t == 1
                    name = f"{province[0]}{c}{k}{t}{'街道' if street else '镇'}"
                    rows.append((town, name, "街道" if street else "镇", county))
                    for v in (1, 2, 3):
                        code = f"{town[:9]}{v:03d}"
                        kind = "社区" if street else "村"
                        long = "社区居民委员会" if street else "村民委员会"
                        base = name.removesuffix("街道").removesuffix("镇")
                        rows.append((code, f"{base}-{v}{long}", kind, town))
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "unit_type", "parent_code"])


def load_five_levels(db) -> pd.DataFrame:
    """The registry, both rule sets and two months in ``db``; returns the registry."""
    registry = five_levels()
    admin = Service(db, Principal.operator("setup"))
    admin.import_registry(registry.to_csv(index=False).encode(), "units.csv")
    for f in ("community.yaml", "village.yaml"):
        admin.save_rules(load_rules(RULES / f), "shipped")
    months = make_months(registry, np.random.default_rng(5))
    for period, frame in sorted(months.items())[-MONTHS:]:
        assert admin.upload(frame.to_csv(index=False).encode(), f"{period}.csv", period).ok
    return registry
