"""The demonstration: the bundled sample district loaded into an empty database, its months
published, the latest red and orange suggestions made tasks, and one demo account per role
(one organizer per street), all with the password shown on the login page."""

from __future__ import annotations

from pathlib import Path

from ..insight.followups import suggest, urgent
from ..rules.loader import load_rules
from ..store import Database, Scope
from ..store.assessments import run_assessment, save_rule_set
from ..store.events import import_events
from ..store.registry import current_registry, import_registry
from ..store.tasks import create_tasks
from ..store.uploads import import_monthly
from ..store.users import count_accounts
from .accounts import add_user
from .loading import load_district
from .roles import Principal, Role

ROOT = Path(__file__).resolve().parents[2]
ALL = Scope.everything()
SEEDER = "示例数据"
DEMO_PASSWORD = "demo-2026"
STREET_TYPES = ("街道", "镇", "乡")


def seed_sample(db: Database, root: Path = ROOT, accounts: bool = True) -> bool:
    """Import the sample registry, its 12 months and the shipped rule sets; publish each month;
    turn the latest month's red and orange suggestions into tasks; add the demo accounts.
    False if the database already holds a registry."""
    if len(current_registry(db, ALL)):
        return False
    sample = root / "sample_data"
    import_registry(db, (sample / "units.csv").read_bytes(), "units.csv", SEEDER, ALL, "示例区县")
    loaded = [load_rules(root / "rules" / f) for f in ("community.yaml", "village.yaml")]
    sets = [x.rules for x in loaded]
    months = sorted(p for p in sample.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))
    for path in months:
        import_monthly(db, path.read_bytes(), path.name, SEEDER, ALL, sets)
    for path in sorted(sample.glob("hotline_*.csv")):  # the 12345 export of each month
        import_events(db, path.read_bytes(), path.name, SEEDER, ALL, sets, "hotline")
    versions = [save_rule_set(db, x, SEEDER, "随系统提供的规则集") for x in loaded]
    periods = load_district(db, versions).periods
    last = []
    for period in periods:
        last = run_assessment(db, ALL, period, versions, SEEDER, publish=True)
    district = load_district(db, versions)
    for assessment, run_id in zip(district.assessments, last, strict=True):
        todo = suggest(assessment, periods[-1])
        todo = urgent(todo)
        if len(todo):
            create_tasks(db, ALL, todo, SEEDER, run_id)
    if accounts:
        add_demo_accounts(db)
    return True


def demo_accounts(registry) -> list[dict]:
    """name, display name, role and scope of each demo account."""
    county = registry[registry["unit_type"] == "区县"]
    county_name = county["unit_name"].iloc[0] if len(county) else "全区"
    out = [
        {"name": "admin", "display_name": "区委组织部管理员", "role": Role.ADMIN, "scope": None},
        {"name": "rules", "display_name": "规则管理员", "role": Role.RULES, "scope": None},
        {
            "name": "supervisor",
            "display_name": f"{county_name}督导",
            "role": Role.SUPERVISOR,
            "scope": list(county["unit_code"][:1]),
        },
    ]
    streets = registry[registry["unit_type"].isin(STREET_TYPES)].sort_values("unit_code")
    for k, (code, name) in enumerate(zip(streets["unit_code"], streets["unit_name"], strict=True)):
        out.append(
            {
                "name": f"org{k + 1:02d}",
                "display_name": f"{name}组织委员",
                "role": Role.ORGANIZER,
                "scope": [code],
            }
        )
    return out


def add_demo_accounts(db: Database) -> int:
    """The demo accounts, into a database that has none yet; returns how many were added."""
    if count_accounts(db):
        return 0
    seeder = Principal.operator(SEEDER)
    specs = demo_accounts(current_registry(db, ALL))
    for spec in specs:
        add_user(
            db,
            seeder,
            spec["name"],
            spec["role"].value,
            spec["scope"],
            DEMO_PASSWORD,
            spec["display_name"],
            demo=True,
        )
    return len(specs)
