"""在线填报: a village or community enters its own month, checked as an upload is, and its street
reviews it.

The form is generated from the rule sets for the unit's type: one field per column the template
asks for, grouped by dimension. Every check is the upload's own: the entered values become the
one-row table ``check_monthly`` takes (same codes, same messages, the same month-to-month
warnings). A draft is kept on the server; a submission waits for the street's organizer, who
approves it (the values enter the store as an upload by the reporter, approved by the
organizer, in the history and the audit log) or returns it with a comment. Only approved values
count in grades.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd

from ..grading.engine import assess
from ..grading.scoring import shift_period
from ..insight.explain import explain
from ..insight.explanation import UnitExplanation
from ..outputs.spreadsheets import template_columns
from ..problems import WARNING, Problem, ProblemsError, errors_only
from ..rules.models import Input
from ..store.forms import Entry, entries, get_entry, save_entry
from ..store.registry import current_registry
from ..store.schema import now
from ..store.uploads import (
    UploadOutcome,
    check_monthly,
    current_values,
    import_monthly,
    reported_units,
)
from .actions import Service, report_deadline, reporting_month
from .roles import Action, Role, denied

STATUS_TEXT = {
    "": "未填报",
    "draft": "草稿",
    "submitted": "已提交",
    "returned": "已退回",
    "approved": "已通过",
}
COUNT_UNITS = ("件", "人", "个", "天", "处", "次", "户", "名")


@dataclass(frozen=True)
class Field:
    id: str
    name: str
    group: str  # the dimension (or 一票否决) it is shown under
    unit: str
    low: float | None
    high: float | None
    kind: str  # yes_no | count | number
    hint: str
    last: str  # last month's value as stored, shown beside the field, never filled in


def _unit(svc: Service, unit_code: str) -> pd.Series:
    registry = current_registry(svc.db, svc.user.scope)
    row = registry[registry["unit_code"] == unit_code]
    if row.empty:  # outside the scope, or no such unit: the same answer
        raise denied(f"单位 {unit_code[:40]} 不在您可查看的范围内")
    return row.iloc[0]


def columns(svc: Service, unit_code: str) -> list[str]:
    """The ids of the form's fields: what the rule sets read for the unit's type."""
    unit = _unit(svc, unit_code)
    return [spec.id for spec, _ in template_columns(svc._sets(), {unit["unit_type"]})]


def fields(svc: Service, unit_code: str, period: str) -> list[Field]:
    """The form of ``unit_code`` for ``period``: what its rule set reads for its type."""
    svc.user.require(Action.READ)
    unit = _unit(svc, unit_code)
    sets = svc._sets()
    groups: dict[str, str] = {}
    for rules in sets:
        for dim, _ in rules.iter_dimensions():
            for ind in dim.indicators or []:
                groups[ind.id] = dim.name
                if ind.rate is not None:
                    groups.setdefault(ind.rate.numerator, dim.name)
                    groups.setdefault(ind.rate.denominator, dim.name)
    last = _last_month(svc, unit_code, period)
    out = []
    for spec, note in template_columns(sets, {unit["unit_type"]}):
        scoring = getattr(spec, "scoring", None)
        low, high = spec.valid_range if spec.valid_range is not None else (None, None)
        yes_no = (scoring is not None and scoring.method == "pass_fail") or [low, high] == [0, 1]
        count = isinstance(spec, Input) or (spec.unit or "") in COUNT_UNITS
        previous = last.get(spec.id)
        out.append(
            Field(
                id=spec.id,
                name=spec.name,
                group=groups.get(spec.id, "一票否决" if "否决" in note else "其他"),
                unit=spec.unit or "",
                low=low,
                high=high,
                kind="yes_no" if yes_no else "count" if count else "number",
                hint=" ".join(x for x in (note, spec.description or "") if x),
                last="" if previous is None else _shown(previous, yes_no),
            )
        )
    return out


def _shown(value: float, yes_no: bool) -> str:
    if yes_no:
        return "是" if value >= 0.5 else "否"
    return f"{value:g}"


def _last_month(svc: Service, unit_code: str, period: str) -> dict[str, float]:
    values = current_values(svc.db, svc.user.scope, [shift_period(period, -1)])
    row = values[values["unit_code"] == unit_code]
    if row.empty:
        return {}
    out = {}
    for key, value in row.iloc[0].items():
        if key in ("unit_code", "period"):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if not math.isnan(number):
            out[str(key)] = number
    return out


def not_applicable(svc: Service) -> str:
    """The rule sets' word for "not applicable" (the first declared), or "" when none is."""
    words = [w for r in svc._sets() for w in r.not_applicable]
    return words[0] if words else ""


def _table(unit_code: str, period: str, values: dict[str, str], ids: list[str]) -> bytes:
    row = {"unit_code": unit_code, "period": period}
    row.update({k: str(values.get(k, "") or "").strip() for k in ids})
    return pd.DataFrame([row]).to_csv(index=False).encode("utf-8")


def check(svc: Service, unit_code: str, period: str, values: dict[str, str]) -> list[Problem]:
    """Every problem of these values, exactly as an upload of them would list it."""
    svc.user.require(Action.READ)
    data = _table(unit_code, period, values, columns(svc, unit_code))
    _, problems = check_monthly(
        svc.db,
        data,
        f"在线填报_{unit_code}_{period}.csv",
        svc.user.scope,
        svc._sets(),
        period=period,
        expect_all=False,
    )
    return problems


BACK_FILL = 2  # months before the reporting month a unit that missed one may still fill


def fillable_months(today: dt.date | None = None) -> list[str]:
    """The reporting month and the ``BACK_FILL`` months before it, latest first: the months a
    form can be for, and the months the review looks at."""
    latest = reporting_month(today)
    return [shift_period(latest, -k) for k in range(BACK_FILL + 1)]


def open_months(svc: Service, unit_code: str, today: dt.date | None = None) -> list[str]:
    """The months a unit may fill, latest first: the reporting month, and each of the
    ``BACK_FILL`` months before it for which the store holds nothing of the unit yet (a
    missed month filled late, reviewed as any other). Never a future month."""
    svc.user.require(Action.READ)
    _unit(svc, unit_code)
    latest, *earlier = fillable_months(today)
    stored = reported_units(svc.db, svc.user.scope, earlier)  # not the 12345 export's values
    have = set(stored.loc[stored["unit_code"] == unit_code, "period"])
    return [latest, *(p for p in earlier if p not in have)]


def _may_fill(svc: Service, unit_code: str, period: str) -> None:
    svc.user.require(Action.FILL_FORM)
    if period not in open_months(svc, unit_code):
        raise denied(
            f"{period} 不在可填报的月份内(本月报送上月数据;漏报的月份可在 {BACK_FILL} 个月内补报,"
            "已入库的月份请联系街道组织员更正)",
            "month_closed",
        )


def save_draft(svc: Service, unit_code: str, period: str, values: dict[str, str]) -> Entry:
    """Kept on the server as typed (back after a reload or on another device)."""
    _may_fill(svc, unit_code, period)
    return _keep(svc, unit_code, period, values, status="draft")


def _keep(svc: Service, unit_code: str, period: str, values: dict, **fields: object) -> Entry:
    """Store the reporter's values (from none yet, a draft or a returned form)."""
    return save_entry(
        svc.db,
        unit_code,
        period,
        svc.user.name,
        now(),
        ("", "draft", "returned"),
        values=_clean(values),
        **fields,
    )


def submit(svc: Service, unit_code: str, period: str, values: dict[str, str]) -> Entry:
    """Submitted for review when no check finds an error (warnings go with it to the
    reviewer); otherwise refused with every problem, and kept as a draft."""
    _may_fill(svc, unit_code, period)
    problems = check(svc, unit_code, period, values)
    if errors_only(problems):
        save_draft(svc, unit_code, period, values)
        raise ProblemsError(problems)
    return _keep(svc, unit_code, period, values, status="submitted", submitted_at=now())


def _clean(values: dict[str, str]) -> dict[str, str]:
    return {str(k)[:64]: str(v or "").strip()[:100] for k, v in values.items()}


def entry(svc: Service, unit_code: str, period: str) -> Entry | None:
    svc.user.require(Action.READ)
    _unit(svc, unit_code)
    return get_entry(svc.db, unit_code, period)


def trial(
    svc: Service, unit_code: str, period: str, values: dict[str, str]
) -> UnitExplanation | None:
    """试算: the grade and explanation these values would give if approved, the months before
    as stored (escalation sees them). None when the values do not pass the checks, or when a
    rule set ranks units against each other (then only the whole district can say)."""
    svc.user.require(Action.READ)
    unit = _unit(svc, unit_code)
    district = svc.district()
    loaded = next(
        (
            r
            for r in district.rules
            if r.rules.applies_to is None or unit["unit_type"] in r.rules.applies_to
        ),
        None,
    )
    if loaded is None or loaded.rules.relative:
        return None
    frame, problems = check_monthly(
        svc.db,
        _table(unit_code, period, values, columns(svc, unit_code)),
        "试算.csv",
        svc.user.scope,
        svc._sets(),
        period=period,
        expect_all=False,
    )
    if frame is None or errors_only(problems):
        return None
    history = current_values(svc.db, svc.user.scope)
    mine = history["unit_code"] == unit_code
    derived = [c for c in loaded.rules.derived() if c in history.columns]
    now = history.loc[mine & (history["period"] == period), ["unit_code", "period", *derived]]
    if len(now) and derived:  # the month's 12345 figures, from the export, count in the trial
        frame = frame.drop(columns=[c for c in derived if c in frame]).merge(now, how="left")
    history = history[mine & (history["period"] < period)]
    data = pd.concat([history, frame], ignore_index=True)
    registry = current_registry(svc.db, svc.user.scope)
    line = registry[registry["unit_code"] == unit_code]
    graded = assess(loaded, data, line)
    return explain(graded, unit_code, period)


# -- review by the street ------------------------------------------------------------------


def _may_review(svc: Service, unit_code: str) -> None:
    svc.user.require(Action.UPLOAD)  # whoever may bring a street's data in reviews its forms
    _unit(svc, unit_code)


def tracker(svc: Service, period: str, today: dt.date | None = None) -> pd.DataFrame:
    """Each unit of the scope with its form's status for ``period``, whether its values are
    in the store (by form or by file), the deadline, and how long review took."""
    svc.user.require(Action.READ)
    units = svc.view().leaves()[["unit_code", "unit_name", "parent_code"]].copy()
    found = {e.unit_code: e for e in entries(svc.db, set(units["unit_code"]), period)}
    sent = set(reported_units(svc.db, svc.user.scope, [period])["unit_code"])
    status = [found[c].status if c in found else "" for c in units["unit_code"]]
    units["status"] = status
    units["status_text"] = [STATUS_TEXT[s] for s in status]
    units["in_store"] = units["unit_code"].isin(sent)
    units["by"] = [
        "表单" if s == "approved" else "文件" if c in sent else ""
        for c, s in zip(units["unit_code"], status, strict=True)
    ]
    units["submitted_at"] = [
        found[c].submitted_at if c in found else None for c in units["unit_code"]
    ]
    units["review_hours"] = [
        (found[c].reviewed_at - found[c].submitted_at).total_seconds() / 3600
        if c in found and found[c].reviewed_at and found[c].submitted_at
        else None
        for c in units["unit_code"]
    ]
    deadline = report_deadline(period)
    units["late"] = _late(units, deadline, today or dt.date.today())
    units.attrs["deadline"] = deadline
    return units.reset_index(drop=True)


def _late(units: pd.DataFrame, deadline: dt.date, today: dt.date) -> pd.Series:
    """Sent after the deadline's day, or past it with nothing sent yet (a draft or a returned
    form is not sent; a street's file is)."""
    end = pd.Timestamp(deadline) + pd.Timedelta(days=1)  # the whole day counts
    sent_late = pd.to_datetime(units["submitted_at"]) >= end
    waiting = ~units["in_store"] & ~units["status"].isin(["submitted", "approved"])
    return sent_late.fillna(False) | (waiting & (today > deadline))


def flagged(svc: Service, unit_code: str, period: str) -> list[Problem]:
    """The submission's values far from last month's (the upload's own warnings)."""
    e = get_entry(svc.db, unit_code, period)
    if e is None:
        return []
    return [p for p in check(svc, unit_code, period, e.values) if p.severity == WARNING]


def approve(svc: Service, unit_code: str, period: str) -> UploadOutcome:
    """The submission's values enter the store as an upload by the reporter, approved by this
    organizer (in the upload history and the audit log)."""
    _may_review(svc, unit_code)
    e = get_entry(svc.db, unit_code, period)
    if e is None or e.status != "submitted":
        raise ProblemsError(
            [Problem("form_state", f"该单位 {period} 没有待审核的填报(可能已被他人处理,请刷新)")]
        )
    outcome = import_monthly(
        svc.db,
        _table(unit_code, period, e.values, columns(svc, unit_code)),
        f"在线填报_{unit_code}_{period}_{e.updated_by}_审核{svc.user.name}.csv",
        e.updated_by,
        svc.user.scope,
        svc._sets(),
        period=period,
        expect_all=False,
    )
    if not outcome.ok:
        raise ProblemsError(errors_only(outcome.problems) or outcome.problems)
    _reviewed(svc, unit_code, period, "approved", upload_id=outcome.upload_id)
    return outcome


def _reviewed(svc: Service, unit_code: str, period: str, status: str, **fields) -> Entry:
    """The reviewer's step, taken only from a submission."""
    return save_entry(
        svc.db,
        unit_code,
        period,
        svc.user.name,
        now(),
        ("submitted",),
        status=status,
        reviewed_by=svc.user.name,
        reviewed_at=now(),
        **fields,
    )


def return_form(svc: Service, unit_code: str, period: str, comment: str) -> Entry:
    """Back to the reporter with what to fix (they see it on their form and in their inbox)."""
    _may_review(svc, unit_code)
    comment = " ".join(comment.split())[:500]
    if not comment:
        raise ProblemsError([Problem("comment_required", "退回时请写明需要修改什么")])
    returned = _reviewed(svc, unit_code, period, "returned", comment=comment)
    _tell_reporters(svc, returned)
    return returned


def _tell_reporters(svc: Service, returned: Entry) -> None:
    """The reporter sees the return in 消息 at once; ``fivecolor remind`` mails it and posts it
    to the group robots, and skips the inbox copy claimed here (one event, one message)."""
    from ..store.messages import add_message, claim, settle
    from ..store.users import accounts
    from .reminders import returned_event

    event = returned_event(returned.unit_code, returned.period, returned.reviewed_at)
    for a in accounts(svc.db):
        if a.role != Role.REPORTER or a.disabled or returned.unit_code not in (a.scope or ()):
            continue
        if claim(svc.db, event, a.name, "inbox", now()):
            add_message(
                svc.db,
                a.name,
                "form_returned",
                f"{returned.period} 的填报被退回,请修改后重新提交",
                f"退回意见:{returned.comment}",
                f"/form?month={returned.period}",
                now(),
            )
            settle(svc.db, event, a.name, "inbox", "", now())


def approve_unflagged(svc: Service, period: str) -> list[str]:
    """Approve at once every submitted form of the scope with no value far from last month's."""
    done = []
    for row in tracker(svc, period).itertuples():
        if row.status == "submitted" and not flagged(svc, row.unit_code, period):
            approve(svc, row.unit_code, period)
            done.append(row.unit_code)
    return done
