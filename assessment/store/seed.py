"""First start: load the bundled sample district into an empty database, so the app opens on a
real district with nothing to configure."""

from __future__ import annotations

from pathlib import Path

from ..followups import suggest
from ..rule_loader import load_rules
from .assessments import run_assessment, save_rule_set
from .database import Database
from .registry import current_registry, import_registry
from .scope import Scope
from .tasks import create_tasks
from .uploads import import_monthly

ROOT = Path(__file__).resolve().parents[2]
ALL = Scope.everything()


def seed_sample(db: Database, root: Path = ROOT) -> bool:
    """Import the sample registry, its 12 months and the shipped rule sets; publish each month;
    turn the latest month's red and orange suggestions into tasks. False if not empty."""
    if len(current_registry(db, ALL)):
        return False
    sample = root / "sample_data"
    import_registry(
        db, (sample / "units.csv").read_bytes(), "units.csv", "示例数据", ALL, "示例区县"
    )
    loaded = [load_rules(root / "rules" / f) for f in ("community.yaml", "village.yaml")]
    sets = [x.rules for x in loaded]
    months = sorted(p for p in sample.glob("indicators_*") if p.suffix in (".csv", ".xlsx"))
    for path in months:
        import_monthly(db, path.read_bytes(), path.name, "示例数据", ALL, sets)
    versions = [save_rule_set(db, x, "示例数据", "随系统提供的规则集") for x in loaded]
    from ..district import load_district

    periods = load_district(db, versions).periods
    last = []
    for period in periods:
        last = run_assessment(db, ALL, period, versions, "示例数据", publish=True)
    district = load_district(db, versions)
    for assessment, run_id in zip(district.assessments, last, strict=True):
        todo = suggest(assessment, periods[-1])
        todo = todo[
            todo["source"].isin(["grade:red", "grade:orange", "grade:redx2"])
            | todo["source"].str.startswith("veto:")
        ]
        if len(todo):
            create_tasks(db, ALL, todo, "示例数据", run_id)
    return True
