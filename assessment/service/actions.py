"""The application layer: everything a page or a command does, as one signed-in user.

``Service(db, principal)`` returns data already cut to the user's scope (registry, values,
grades, history, tasks, uploads, exports) and refuses, with a Chinese message, what the role may
not do. Shells call only this; the store below it takes the scope on every call as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from ..insight.followups import suggest, urgent
from ..insight.sensitivity import compare_tables
from ..intake.limits import Limits
from ..problems import Problem, ProblemsError
from ..problems.settings import setting_number
from ..rules.loader import LoadedRules
from ..store import Database
from ..store.assessments import (
    assessments,
    load_rule_version,
    rule_versions,
    run_assessment,
    save_rule_set,
)
from ..store.audit import audit_entries, record
from ..store.registry import RegistryImport, allowed_codes, import_registry, keep_allowed
from ..store.tasks import (
    TRANSITIONS,
    attach_file,
    create_tasks,
    edit_task,
    list_tasks,
    move_task,
    task_events,
    task_file,
    task_files,
)
from ..store.uploads import (
    UploadOutcome,
    check_monthly,
    import_monthly,
    reported_units,
    upload_history,
)
from .district import District, publication_status
from .loading import graded
from .roles import Action, Denied, Principal, denied
from .view import View

# Which permission each task step needs: the responsible unit signs and reports, a supervisor
# accepts or sends back.
STEP_NEEDS = {
    ("待签收", "整改中"): Action.WORK_TASKS,
    ("整改中", "待验收"): Action.WORK_TASKS,
    ("待验收", "已销号"): Action.MANAGE_TASKS,
    ("待验收", "整改中"): Action.MANAGE_TASKS,
}


def reporting_month(today: dt.date | None = None) -> str:
    """The month a unit is reporting now: last month (due on the report day of this one)."""
    today = today or dt.date.today()
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def report_day() -> int:
    """``FIVECOLOR_REPORT_DAY``: the day of the month a table is due (5 unless set; 1-28)."""
    return setting_number("FIVECOLOR_REPORT_DAY", 5, high=28)


def report_deadline(period: str) -> dt.date:
    """The day a month's table is due: day ``FIVECOLOR_REPORT_DAY`` (default 5) of the month
    after."""
    day = report_day()
    year, month = map(int, period.split("-"))
    return dt.date(year + (month == 12), 1 if month == 12 else month + 1, day)


@dataclass
class Service:
    db: Database
    user: Principal

    def _require(self, action: Action) -> None:
        """Refuse what the role may not do, and leave the refusal in the audit log."""
        try:
            self.user.require(action)
        except Denied:
            record(self.db, self.user.name, "access_denied", denied=action.value)
            raise

    # -- reading -------------------------------------------------------------------------

    @cached_property
    def allowed(self) -> set[str] | None:
        return allowed_codes(self.db, self.user.scope)

    def district(self) -> District:
        """The graded district for this user: their scope read and graded alone when it can
        be (see ``graded``), else the whole."""
        return graded(self.db, self.user.scope)

    def view(self) -> View:
        """The graded district as this user may see it (graded once per data version)."""
        self._require(Action.READ)
        roots = self.user.scope.roots
        return View(self.district(), self.allowed, lambda: graded(self.db), roots)

    def publication(self, period: str) -> list[dict]:
        self._require(Action.READ)
        return publication_status(self.db, self.district(), period)

    def rule_versions(self, rules_id: str | None = None) -> pd.DataFrame:
        self._require(Action.READ)
        return rule_versions(self.db, rules_id)

    def rule_version(self, version_id: int) -> LoadedRules:
        self._require(Action.READ)
        return load_rule_version(self.db, version_id)

    def assessments(self, period: str | None = None) -> pd.DataFrame:
        self._require(Action.READ)
        return assessments(self.db, period)

    # -- uploads -------------------------------------------------------------------------

    def template(self, period: str) -> bytes:
        """The .xlsx to fill in, pre-filled with this user's units only."""
        self._require(Action.UPLOAD)
        view = self.view()
        from ..outputs.spreadsheets import make_template  # openpyxl: only when a template is made

        return make_template([r.rules for r in view.rules], view.leaves(), period)

    def check_upload(
        self, data: bytes, filename: str, period: str | None
    ) -> tuple[pd.DataFrame | None, list[Problem]]:
        self._require(Action.UPLOAD)
        return check_monthly(self.db, data, filename, self.user.scope, self._sets(), period)

    def upload(self, data: bytes, filename: str, period: str | None) -> UploadOutcome:
        self._require(Action.UPLOAD)
        return import_monthly(
            self.db, data, filename, self.user.name, self.user.scope, self._sets(), period=period
        )

    def correct_value(
        self, period: str, unit_code: str, column: str, value: str, note: str = ""
    ) -> UploadOutcome:
        """Correct one cell online: a one-cell table imported as a new upload version, checked
        like any file (range, type, scope) and traceable like any upload."""
        self._require(Action.UPLOAD)
        known = {c.id for r in self._sets() for c in [*r.indicators(), *r.inputs]}
        if column not in known:
            raise ProblemsError(
                [Problem("unknown_indicator", f"“{column[:40]}”不是规则集中的指标")]
            )
        frame = pd.DataFrame({"unit_code": [unit_code], "period": [period], column: [value]})
        reason = "".join(ch for ch in note if ch.isprintable())[:40]
        name = f"在线更正_{unit_code}_{column}{'_' + reason if reason else ''}.csv"
        return import_monthly(
            self.db,
            frame.to_csv(index=False).encode("utf-8"),
            name,
            self.user.name,
            self.user.scope,
            self._sets(),
            period=period,
            require_columns=False,
            expect_all=False,
        )

    def submissions(self, period: str) -> pd.DataFrame:
        """Who has reported ``period`` in the scope: one row per graded unit (unit_code,
        unit_name, parent_code, reported) and the deadline in ``attrs``."""
        self._require(Action.READ)
        view = self.view()
        units = view.leaves()[["unit_code", "unit_name", "parent_code"]].copy()
        sent = set(reported_units(self.db, self.user.scope, [period])["unit_code"])
        units["reported"] = units["unit_code"].isin(sent)
        units.attrs["deadline"] = report_deadline(period)
        return units.reset_index(drop=True)

    def briefing(self, period: str):
        """The monthly briefing of ``period`` for this user's scope (see ``briefing``)."""
        from ..insight.rollup import grade_counts
        from ..outputs.briefing import Briefing
        from ..rules.grades import GRADE_KEYS, MISSING_LABEL, display

        view = self.view()
        periods = view.periods
        k = periods.index(period)
        previous = periods[k - 1] if k > 0 else None
        table = view.table(period)
        before = view.previous_table(period)
        grades = table["grade"].astype(str).replace("nan", "")
        now = grade_counts(grades)
        counts = pd.DataFrame(
            {
                "grade": list(now),
                "label": [display(g) if g else MISSING_LABEL for g in now],
                "now": list(now.values()),
            }
        )
        if before is not None:
            counts["before"] = list(grade_counts(before["grade"]).values())
            counts["change"] = [
                f"{n - b:+d}" for n, b in zip(counts["now"], counts["before"], strict=True)
            ]
        else:
            counts["before"], counts["change"] = float("nan"), ""
        tasks = self.tasks()
        level = view.summary_level()
        summary = view.level_summary(period, level.index, tasks)
        summary["grade_label"] = summary["grade"].map(
            lambda g: display(g) if g in GRADE_KEYS else ""
        )
        sure = view.stability(period).set_index("unit_code")
        ahead = view.forecast(period)
        ahead = ahead.set_index("unit_code") if len(ahead) else pd.DataFrame()
        units = pd.DataFrame(
            {
                "unit_code": table["unit_code"],
                "unit_name": table["unit_name"],
                "street": view.names.names_of(table["parent_code"]).fillna(table["parent_code"]),
                "grade": grades,
                "score": table["score"].astype(float),
                "reasons": table["reasons"].fillna("").astype(str),
            }
        )
        units["stability"] = units["unit_code"].map(sure["stability"]) if len(sure) else None
        for col in ("predicted_score", "p_orange_or_red", "drivers", "worse"):
            units[col] = units["unit_code"].map(ahead[col]) if len(ahead) else None
        units = units.sort_values(["street", "unit_code"], ignore_index=True)
        borderline = units[units["stability"].fillna(1.0) < 0.8]
        warning = units[units["p_orange_or_red"].fillna(0) >= 0.5].sort_values(
            "p_orange_or_red", ascending=False
        )
        open_tasks = tasks[tasks["status"] != "已销号"].assign(
            unit_name=lambda t: view.names.names_of(t["unit_code"])
        )
        county = view.registry[view.registry["parent_code"] == ""]
        where = county["unit_name"].iloc[0] if len(county) else "本辖区"
        if self.user.scope.roots is not None:
            where = "、".join(view.names.get(r, r) for r in sorted(self.user.scope.roots))
        return Briefing(
            title=f"{where}基层党组织“五色图”月度简报 {period}",
            period=period,
            previous=previous,
            units=units,
            counts=counts,
            summary=summary,
            borderline=borderline,
            warning=warning,
            overdue=open_tasks[open_tasks["overdue"]],
            open_tasks=open_tasks,
            summary_level=level.name,
        )

    def upload_history(self) -> pd.DataFrame:
        self._require(Action.READ)
        return upload_history(self.db, self.user.scope)

    def _sets(self):
        return [r.rules for r in self.district().rules]

    # -- rules and assessments -----------------------------------------------------------

    def save_rules(self, loaded: LoadedRules, note: str) -> int:
        self._require(Action.EDIT_RULES)
        if not note.strip():
            raise ProblemsError([Problem("note_required", "保存新版本须写明修改说明")])
        return save_rule_set(self.db, loaded, self.user.name, note)

    def assess(
        self, period: str, versions: Sequence[int] | None = None, publish: bool = False
    ) -> list[int]:
        """Grade ``period`` with the given (default: the district's active) rule-set versions,
        all of them in one call, and publish them if asked."""
        self._require(Action.ASSESS)
        if versions is None:  # the versions this month shows (published, or in force)
            versions = [s.version_id for s in self.district().shown(period)]
        return run_assessment(
            self.db, self.user.scope, period, list(versions), self.user.name, publish=publish
        )

    def publish_plan(self, period: str, version_id: int | None = None) -> pd.DataFrame:
        """What publishing ``period`` would do, to confirm before it is done: every rule set of
        the district, each with the version it would be published with (``version_id`` for its
        own rule set, else the version the month shows now), the month from which that version
        applies, and how many units (in the user's scope) would change color against what the
        month shows now."""
        self._require(Action.ASSESS)
        d = self.district()
        picked = None if version_id is None else load_rule_version(self.db, version_id)
        saved = rule_versions(self.db)
        labels = saved.set_index("id")["version"].to_dict()
        number = {  # 第n版 within its own rule set (ids are shared by all rule sets)
            int(v): k
            for _, group in saved.groupby("rules_id")
            for k, v in enumerate(group["id"], start=1)
        }
        now = d.table(period)
        rows = []
        for shown in d.shown(period):
            vid = shown.version_id
            if picked is not None and picked.rules.id == shown.rules_id:
                vid = version_id
            a = d.by_version.get(vid) or self.view().regrade(load_rule_version(self.db, vid))
            if period not in a.periods:
                continue
            before = keep_allowed(now[now["rules_id"] == shown.rules_id], self.allowed)
            after = keep_allowed(a.table([period]), self.allowed)
            _, moved = compare_tables(before, after)
            since = d.applies_from(vid)
            rows.append(
                {
                    "rules_id": shown.rules_id,
                    "rules": shown.rules_name,
                    "version_id": vid,
                    "version": labels.get(vid, ""),
                    "number": number.get(vid, 0),
                    "now": shown.status,
                    "applies_from": min(since, period) if since else period,
                    "units": len(after),
                    "changed": len(moved),
                }
            )
        return pd.DataFrame(rows)

    def publish_month(self, period: str, version_id: int | None = None) -> list[int]:
        """Publish ``period`` for every rule set of the district together, as ``publish_plan``
        showed it."""
        plan = self.publish_plan(period, version_id)
        return self.assess(period, [int(v) for v in plan["version_id"]], publish=True)

    def import_registry(self, data: bytes, filename: str, note: str = "") -> RegistryImport:
        self._require(Action.IMPORT_REGISTRY)
        return import_registry(self.db, data, filename, self.user.name, self.user.scope, note)

    # -- follow-ups ----------------------------------------------------------------------

    def tasks(self, status: str | None = None, today: dt.date | None = None) -> pd.DataFrame:
        self._require(Action.READ)
        return list_tasks(self.db, self.user.scope, status, today)

    def create_tasks(
        self, suggestions: pd.DataFrame, assessment_id: int | None = None
    ) -> list[int]:
        self._require(Action.MANAGE_TASKS)
        return create_tasks(self.db, self.user.scope, suggestions, self.user.name, assessment_id)

    def create_urgent_tasks(self, period: str) -> list[int]:
        """One task for every red or orange unit and every veto of ``period`` in the scope
        that has none yet (the same unit, month and cause): one step for the whole list."""
        self._require(Action.MANAGE_TASKS)
        todo = urgent(self.view().all_suggestions(period))
        if todo.empty:
            return []
        have = self.tasks()
        have = have[have["period"] == period]
        known = set(zip(have["unit_code"], have["source"], strict=True))
        fresh = todo[
            [(u, s) not in known for u, s in zip(todo["unit_code"], todo["source"], strict=True)]
        ]
        if fresh.empty:
            return []
        shown = {s.rules_id: s.run_id for s in self.district().shown(period)}
        run = next((r for r in shown.values() if r is not None), None)
        return self.create_tasks(fresh, run)

    def edit_task(
        self,
        task_id: int,
        owner: str | None = None,
        due_date: dt.date | None = None,
        comment: str = "",
    ) -> None:
        """Change who is responsible or the deadline (kept in the task's history)."""
        self._require(Action.MANAGE_TASKS)
        edit_task(self.db, self.user.scope, task_id, self.user.name, owner, due_date, comment)

    def attach_evidence(self, task_id: int, filename: str, data: bytes) -> int:
        """Keep a 整改材料 file with the task (the responsible unit or a supervisor)."""
        if not (self.user.can(Action.WORK_TASKS) or self.user.can(Action.MANAGE_TASKS)):
            self._require(Action.WORK_TASKS)
        limit = Limits.from_env().max_evidence
        return attach_file(self.db, self.user.scope, task_id, self.user.name, filename, data, limit)

    def evidence(self, task_id: int) -> pd.DataFrame:
        self._require(Action.READ)
        return task_files(self.db, self.user.scope, task_id)

    def evidence_file(self, file_id: int) -> tuple[str, bytes]:
        self._require(Action.READ)
        return task_file(self.db, self.user.scope, file_id)

    def suggestions(self, period: str, version_id: int | None = None) -> pd.DataFrame:
        """Suggested follow-ups for ``period`` in the scope: under the active rule sets, or
        under one stored rule-set version (the one an assessment used)."""
        self._require(Action.READ)
        view = self.view()
        if version_id is None:
            return view.all_suggestions(period)
        graded = view.regrade(load_rule_version(self.db, version_id))
        if period not in graded.periods:
            return pd.DataFrame(columns=["unit_code", "period", "source", "action"])
        return view.cut(suggest(graded, period))

    def task_steps(self, status: str) -> tuple[str, ...]:
        """The steps this user may take from ``status`` (for the page; enforced in move)."""
        return tuple(t for t in TRANSITIONS[status] if self.user.can(STEP_NEEDS[(status, t)]))

    def move_task(self, task_id: int, to: str, comment: str = "", expected: str | None = None):
        """Move a task one step. ``expected`` is the status the user saw: if someone else moved
        the task meanwhile, the step is refused (已被他人修改) rather than applied blindly."""
        self._require(Action.READ)
        tasks = list_tasks(self.db, self.user.scope)
        row = tasks[tasks["id"] == task_id]
        if row.empty:
            raise denied(f"没有编号为 {task_id} 的督办事项,或不在您的管辖范围内", "unknown_task")
        need = STEP_NEEDS.get((row["status"].iloc[0], to))
        if need is not None:
            self._require(need)
        move_task(self.db, self.user.scope, task_id, to, self.user.name, comment, expected=expected)

    def task_events(self, task_id: int) -> pd.DataFrame:
        self._require(Action.READ)
        return task_events(self.db, self.user.scope, task_id)

    # -- administration ------------------------------------------------------------------

    def audit(self, **filters) -> pd.DataFrame:
        self._require(Action.READ_AUDIT)
        return audit_entries(self.db, **filters)

    def sign_out(self) -> None:
        record(self.db, self.user.name, "signed_out")

    def database_location(self) -> str:
        """Where the data is, password hidden (administrators only)."""
        self._require(Action.SEE_SYSTEM)
        return safe_url(self.db.url)


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
