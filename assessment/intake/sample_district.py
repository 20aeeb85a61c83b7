"""A seeded generator for the bundled sample district (``fivecolor sample``).

One 区县, 12 街道/乡镇 and about 180 村/社区 with 12-digit codes, and 12 monthly indicator files
drawn from the ranges in DOMAIN.md: most units 较好, some 好 and 合格, a few 较差 and 差; some
improving and some declining over the year; a few vetoes; missing cells; villages with months
without 12345 tickets. One month is saved as GB18030 with Chinese headers and 是/否, one as .xlsx.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..rules.loader import load_rules

COUNTY = ("500188000000", "示例区")
STREETS = [  # (code digits 7-9, name, kind): 001-099 街道, 100-199 镇
    ("001", "龙溪街道", "街道"),
    ("002", "双凤街道", "街道"),
    ("003", "回兴街道", "街道"),
    ("004", "宝圣街道", "街道"),
    ("005", "仙桃街道", "街道"),
    ("006", "悦来街道", "街道"),
    ("007", "礼嘉街道", "街道"),
    ("101", "古路镇", "镇"),
    ("102", "石船镇", "镇"),
    ("103", "大湾镇", "镇"),
    ("104", "木耳镇", "镇"),
    ("105", "兴隆镇", "镇"),
]
FIRST = "青松翠柏金桂银杏紫荆丹枫玉兰碧湖清泉红岩白鹤凤鸣龙湾锦绣花园新华民主和平东风胜利幸福"
SECOND = "苑里坪湾园苑林坡岭溪坝塘沟寨桥湖港庄"
MONTHS = [f"{y}-{m:02d}" for y, m in [(2025, 11), (2025, 12)] + [(2026, m) for m in range(1, 11)]]
GB18030_MONTH = "2026-03"
XLSX_MONTH = "2026-06"
ROOT = Path(__file__).resolve().parents[2]
QUALITY_MEAN = -0.15


def _names(rng: np.random.Generator, n: int, suffix: str, used: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        a, b = rng.integers(0, len(FIRST) // 2), rng.integers(0, len(SECOND))
        name = FIRST[2 * a : 2 * a + 2] + SECOND[b] + suffix
        if name not in used:
            used.add(name)
            out.append(name)
    return out


def make_registry(rng: np.random.Generator) -> pd.DataFrame:
    rows = [(COUNTY[0], COUNTY[1], "区县", "")]
    used: set[str] = set()
    for digits, name, kind in STREETS:
        code = COUNTY[0][:6] + digits + "000"
        rows.append((code, name, kind, COUNTY[0]))
        if kind == "街道":
            n_comm, n_vill = int(rng.integers(12, 17)), 0
        else:
            n_comm, n_vill = int(rng.integers(2, 5)), int(rng.integers(9, 14))
        for k, unit in enumerate(_names(rng, n_comm, "社区", used), 1):
            rows.append((code[:9] + f"{k:03d}", unit, "社区", code))
        for k, unit in enumerate(_names(rng, n_vill, "村", used), 200):
            rows.append((code[:9] + f"{k:03d}", unit, "村", code))
    return pd.DataFrame(rows, columns=["unit_code", "unit_name", "unit_type", "parent_code"])


HOTLINE = (
    "hotline_tickets",
    "hotline_accepted_ontime",
    "hotline_closed_ontime",
    "hotline_callbacks",
    "hotline_satisfied",
    "hotline_repeat",
)


def make_months(
    registry: pd.DataFrame,
    rng: np.random.Generator,
    last: int | None = None,
    with_hotline: bool = False,
) -> dict[str, pd.DataFrame]:
    """The monthly tables of the registry's 村/社区 (only the ``last`` months, when given).
    The 12345 figures come from the hotline's export since the rule sets derive them
    (``hotline_events``), so the tables leave them out unless ``with_hotline`` (the counts
    the export is generated from)."""
    months = _make_months(registry, rng, last)
    if with_hotline:
        return months
    return {p: df.drop(columns=list(HOTLINE)) for p, df in months.items()}


def _make_months(
    registry: pd.DataFrame, rng: np.random.Generator, last: int | None = None
) -> dict[str, pd.DataFrame]:
    units = registry[registry["unit_type"].isin(["社区", "村"])].reset_index(drop=True)
    n = len(units)
    village = (units["unit_type"] == "村").to_numpy()
    quality = rng.normal(QUALITY_MEAN, 0.4, n)  # latent quality of each organisation
    weak = rng.random(n) < 0.07  # a few weak organisations (软弱涣散 candidates)
    quality[weak] = rng.normal(-1.7, 0.4, weak.sum())
    trend = np.where(rng.random(n) < 0.12, rng.choice([-0.16, 0.14], n), 0.0)  # per month
    households = np.where(village, rng.integers(250, 900, n), rng.integers(1500, 6000, n))
    members = np.maximum(15, (households * rng.uniform(0.03, 0.06, n)).astype(int))
    vacancy_unit = rng.choice(np.flatnonzero(village), 1)[0]  # 书记 vacant from month 6 on
    months = {}
    for t, period in enumerate(MONTHS):
        if last is not None and t < len(MONTHS) - last:  # only the last ``last`` months
            continue
        q = quality + trend * t + rng.normal(0, 0.15, n)

        def pct(center, spread, lo=0.0, hi=100.0, q=q):
            return np.clip(center + spread * q + rng.normal(0, spread * 0.35, n), lo, hi).round(1)

        def count(lam, q=q):
            return rng.poisson(np.maximum(lam * np.exp(-0.9 * q), 0.0))

        def binom(total, p, q=q):
            return rng.binomial(total, np.clip(p, 0, 1))

        tickets = rng.poisson(households / (60 if t % 2 else 75))
        tickets = np.where(village & (rng.random(n) < 0.25), 0, tickets)  # no tickets this month
        accepted = binom(tickets, 0.985 + 0.01 * q)
        closed = binom(tickets, 0.92 + 0.04 * q)
        satisfied = binom(closed, 0.93 + 0.03 * q)
        repeat = binom(tickets, 0.07 - 0.02 * q)
        grid_events = rng.poisson(np.where(village, 12, 40))
        disputes = rng.poisson(np.where(village, 4, 7))
        hazards = rng.poisson(np.where(village, 5, 9))
        df = pd.DataFrame(
            {
                "unit_code": units["unit_code"],
                "unit_name": units["unit_name"],
                "period": period,
                "committee_meeting_held": (rng.random(n) < 0.93 + 0.04 * q).astype(int),
                "theme_day_held": (rng.random(n) < 0.97 + 0.03 * q).astype(int),
                "theme_day_attendance_rate": pct(90, 5, 50),
                "three_meetings_one_lesson_rate": np.where(
                    rng.random(n) < 0.8 + 0.1 * q, 100.0, pct(88, 6, 50)
                ),
                "secretary_vacancy_days": np.where(rng.random(n) < 0.02, rng.integers(5, 60, n), 0),
                "committee_vacancy_count": rng.binomial(2, np.clip(0.1 - 0.05 * q, 0.01, 0.5)),
                "dues_paid_rate": np.where(rng.random(n) < 0.7 + 0.15 * q, 100.0, pct(96, 2.5, 80)),
                "inactive_members_3m": count(0.6),
                "mobile_member_contact_rate": pct(92, 5, 50),
                "member_volunteer_rate": pct(70, 10, 20, 100),
                "recruitment_pipeline_count": np.where(
                    village, rng.poisson(np.clip(1.6 + 0.6 * q, 0.1, 5)), 0
                ),
                "hotline_tickets": tickets,
                "hotline_accepted_ontime": accepted,
                "hotline_closed_ontime": closed,
                "hotline_callbacks": closed,
                "hotline_satisfied": satisfied,
                "hotline_repeat": repeat,
                "resident_satisfaction_rate": pct(90, 4, 40),
                "pledge_ontime_rate": np.where(
                    rng.random(n) < 0.6 + 0.2 * q, 100.0, pct(85, 10, 20)
                ),
                "grid_events": grid_events,
                "grid_events_ontime": binom(grid_events, 0.94 + 0.03 * q),
                "grid_patrol_coverage_rate": pct(95, 3, 60),
                "disputes": disputes,
                "disputes_resolved": binom(disputes, 0.96 + 0.03 * q),
                "escalated_petition_count": count(0.08),
                "three_affairs_disclosure_on_time": (rng.random(n) < 0.95 + 0.04 * q).astype(int),
                "cadre_complaint_count": count(0.12),
                "finance_issue_count": count(0.15),
                "discipline_case_count": (rng.random(n) < 0.004).astype(int),
                "fatal_accident_deaths": (rng.random(n) < 0.004).astype(int),
                "hazards": hazards,
                "hazards_fixed": binom(hazards, 0.93 + 0.05 * q),
                "major_incident_flag": 0,
                "leader_investigated": 0,
                "member_count": members,
                "households": households,
            }
        )
        df.loc[~village, "recruitment_pipeline_count"] = np.nan  # a village-only indicator
        if t >= 5:
            df.loc[vacancy_unit, "secretary_vacancy_days"] = 30 * (t - 4)  # > 90 from month 8: veto
        months[period] = df
    if last is None:
        _plant_events(months, units, rng)
    _blank_cells(months, rng)
    return months


def _plant_events(months: dict[str, pd.DataFrame], units: pd.DataFrame, rng) -> None:
    """The rare things a supervisor must see: vetoes, a unit that did not report."""
    pick = rng.choice(len(units), 5, replace=False)
    months["2026-02"].loc[pick[0], "fatal_accident_deaths"] = 2  # veto: 2 deaths
    months["2026-07"].loc[pick[1], "major_incident_flag"] = 1  # veto: major incident
    months["2026-09"].loc[pick[2], "resident_satisfaction_rate"] = 55.0  # veto: < 60%
    months["2026-05"].loc[pick[3], ["leader_investigated", "discipline_case_count"]] = 1
    months["2026-08"] = months["2026-08"].drop(index=pick[4]).reset_index(drop=True)  # 未上报


def _blank_cells(months: dict[str, pd.DataFrame], rng) -> None:
    """Cells organizers leave empty (never the 12345 counts: they come from an export)."""
    skip = {"unit_code", "unit_name", "period"}
    for df in months.values():
        for col in df.columns.difference(list(skip)):
            blank = rng.random(len(df)) < 0.006
            if col not in HOTLINE:
                df.loc[blank, col] = np.nan


def write_sample(out: Path, seed: int = 2026) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    registry = make_registry(rng)
    months = make_months(registry, rng, with_hotline=True)
    files = [out / "units.csv"]
    for period, tickets in hotline_events(registry, months, seed).items():
        files.append(out / f"hotline_{period}.csv")
        tickets.to_csv(files[-1], index=False, encoding="utf-8")
    months = {p: df.drop(columns=list(HOTLINE)) for p, df in months.items()}
    registry.to_csv(files[0], index=False, encoding="utf-8")
    names = _chinese_headers()
    for period, df in months.items():
        df = df.astype({c: "Int64" for c in df.columns if _whole(c)})  # counts print as 3, not 3.0
        if period == GB18030_MONTH:
            chinese = df.copy()
            for col in (
                "committee_meeting_held",
                "theme_day_held",
                "three_affairs_disclosure_on_time",
            ):
                chinese[col] = chinese[col].map({1: "是", 0: "否"})
            chinese["period"] = period.replace("-", "年") + "月"
            chinese = chinese.rename(columns=names)
            path = out / f"indicators_{period}_gb18030.csv"
            chinese.to_csv(path, index=False, encoding="gb18030")
        elif period == XLSX_MONTH:
            path = out / f"indicators_{period}.xlsx"
            df.to_excel(path, index=False, sheet_name=f"{period}指标")
        else:
            path = out / f"indicators_{period}.csv"
            df.to_csv(path, index=False, encoding="utf-8")
        files.append(path)
    return files


CATEGORIES = {
    "社区": [
        "城市管理",
        "环境卫生",
        "物业服务",
        "市政设施",
        "噪音扰民",
        "交通出行",
        "社会保障",
        "邻里纠纷",
    ],
    "村": ["农业农村", "环境卫生", "道路交通", "社会保障", "邻里纠纷", "土地房屋", "水电气"],
}
RATINGS_GOOD = ("满意", "基本满意")


def hotline_events(
    registry: pd.DataFrame, months: dict[str, pd.DataFrame], seed: int = 2026
) -> dict[str, pd.DataFrame]:
    """The 12345 hotline's monthly export behind each month's counts (``make_months`` with
    ``with_hotline``): one row per ticket with its times, category, repeat flag and callback
    rating, such that the shipped rule sets' ``derive`` rules give back exactly those counts
    (received tickets; accepted within 24 hours; closed within 7 days; rated callbacks among
    the closed ones and the satisfied among them; repeat complaints)."""
    rng = np.random.default_rng(seed + 12345)
    names = registry.set_index("unit_code")["unit_name"]
    kinds = registry.set_index("unit_code")["unit_type"]
    parents = registry.set_index("unit_code")["parent_code"].map(names)
    out = {}
    for period, df in months.items():
        counts = df.set_index("unit_code")[list(HOTLINE)].fillna(0).astype(int)
        start = np.datetime64(f"{period}-01T00:00")
        days = int((np.datetime64(_next(period)) - np.datetime64(f"{period}-01")).astype(int))
        export = np.datetime64(_next(period) + "T00:00") + np.timedelta64(3, "D")
        frames = []
        for code, (tickets, accepted, closed, rated, satisfied, repeat) in counts.iterrows():
            if tickets <= 0:
                continue
            received = start + (rng.uniform(0, days * 24 * 60, tickets)).astype("timedelta64[m]")
            received = np.sort(received)
            order = rng.permutation(tickets)
            on_time = np.zeros(tickets, bool)
            on_time[order[: min(accepted, tickets)]] = True
            accept_h = np.where(
                on_time, rng.uniform(0.2, 23.5, tickets), rng.uniform(25, 72, tickets)
            )
            accepted_at = received + (accept_h * 60).astype("timedelta64[m]")
            order = rng.permutation(tickets)
            closed_ok = np.zeros(tickets, bool)
            closed_ok[order[: min(closed, tickets)]] = True
            close_d = np.where(
                closed_ok, rng.uniform(0.5, 6.9, tickets), rng.uniform(8, 20, tickets)
            )
            closed_at = received + (close_d * 24 * 60).astype("timedelta64[m]")
            open_ = ~closed_ok & (closed_at > export)  # not closed when the export was taken
            rating = np.full(tickets, "", dtype=object)
            rated_at = np.flatnonzero(closed_ok)[: min(rated, closed)]
            good = rated_at[: min(satisfied, len(rated_at))]
            rating[rated_at] = "不满意"
            rating[good] = rng.choice(RATINGS_GOOD, len(good), p=[0.75, 0.25])
            repeated = np.zeros(tickets, bool)
            repeated[rng.permutation(tickets)[: min(repeat, tickets)]] = True
            kind = kinds[code]
            frames.append(
                pd.DataFrame(
                    {
                        "受理时间": _minutes(received),
                        "签收时间": _minutes(accepted_at),
                        "办结时间": np.where(open_, "", _minutes(closed_at)),
                        "所属街道": parents[code],
                        "所属村社区": names[code],
                        "诉求类别": rng.choice(CATEGORIES.get(kind, CATEGORIES["社区"]), tickets),
                        "是否重复诉求": np.where(repeated, "是", "否"),
                        "回访结果": rating,
                    }
                )
            )
        month = pd.concat(frames, ignore_index=True).sort_values("受理时间", kind="stable")
        month.insert(
            0, "工单编号", [f"GD{period.replace('-', '')}{k:06d}" for k in range(1, len(month) + 1)]
        )
        out[period] = month.reset_index(drop=True)
    return out


def _next(period: str) -> str:
    y, m = int(period[:4]), int(period[5:])
    return f"{y + m // 12}-{m % 12 + 1:02d}-01"


def _minutes(stamps: np.ndarray) -> np.ndarray:
    return np.char.replace(np.datetime_as_string(stamps, unit="m"), "T", " ").astype(object)


COUNT_SUFFIXES = ("_count", "_held", "_flag", "_on_time", "_days", "_3m", "investigated")
COUNT_PREFIXES = ("hotline_", "grid_events", "disputes", "hazards", "member_count", "households")


def _whole(column: str) -> bool:
    """Columns that count things (whole numbers, blanks allowed)."""
    return column.endswith(COUNT_SUFFIXES) or column.startswith(COUNT_PREFIXES)


def _chinese_headers() -> dict[str, str]:
    names = {"unit_code": "单位代码", "unit_name": "单位名称", "period": "月份"}
    for file in ("community.yaml", "village.yaml"):
        rules = load_rules(ROOT / "rules" / file).rules
        for col in [*rules.indicators(), *rules.inputs]:
            names.setdefault(col.id, col.name)
    return names
