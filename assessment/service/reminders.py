"""催办: who should be reminded of what today, and sending it once on every channel.

Events: a task due within ``days_before`` days, a task overdue (each to the organizers whose
scope holds the unit and to its supervisors), a street that has not reported last month by
the deadline (to its organizers). Each message carries a link to what it is about. Every
message lands in the in-app inbox; e-mail and webhooks are tried as configured, and a failure
is logged and retried on the next run, never losing the inbox copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

import pandas as pd

from ..store import Database, Scope
from ..store.audit import record
from ..store.messages import add_message, claim, settle
from ..store.registry import current_registry
from ..store.schema import now
from ..store.tasks import list_tasks
from ..store.uploads import reported_units
from ..store.users import Account, accounts
from .actions import report_deadline, reporting_month
from .channels import Channels, post_webhook, send_mail
from .roles import Role


@dataclass(frozen=True)
class Reminder:
    event: str  # stable key: the same event is never sent twice to one recipient
    kind: str
    unit_code: str  # what it concerns (a unit or a street)
    title: str
    body: str
    link: str  # path within the app, e.g. /tasks?task=3
    roles: tuple[Role, ...]


def due_reminders(
    db: Database, today: dt.date, days_before: int, registry: pd.DataFrame | None = None
) -> list[Reminder]:
    if registry is None:
        registry = current_registry(db, Scope.everything())
    names = dict(zip(registry["unit_code"], registry["unit_name"], strict=True))
    out = []
    tasks = list_tasks(db, Scope.everything(), today=today)
    for t in tasks[tasks["status"] != "已销号"].itertuples():
        due = t.due_date
        unit = names.get(t.unit_code, t.unit_code)
        link = f"/tasks?task={t.id}"
        who = (Role.ORGANIZER, Role.SUPERVISOR)
        if due < today:
            out.append(
                Reminder(
                    f"task_overdue:{t.id}:{due}",
                    "task_overdue",
                    t.unit_code,
                    f"督办事项 #{t.id} 已逾期({unit})",
                    f"{unit}:{t.action}\n期限 {due},已逾期 {(today - due).days} 天,当前状态:{t.status}。",
                    link,
                    who,
                )
            )
        elif (due - today).days <= days_before:
            out.append(
                Reminder(
                    f"task_due:{t.id}:{due}",
                    "task_due",
                    t.unit_code,
                    f"督办事项 #{t.id} 将于 {due} 到期({unit})",
                    f"{unit}:{t.action}\n期限 {due},还有 {(due - today).days} 天,当前状态:{t.status}。",
                    link,
                    who,
                )
            )
    return out + _not_reported(db, registry, names, today) + _returned_forms(db, names)


def _returned_forms(db, names: dict) -> list[Reminder]:
    """Forms sent back for correction and not yet resubmitted, to their reporters."""
    from ..store.forms import returned_entries

    return [
        Reminder(
            returned_event(e.unit_code, e.period, e.reviewed_at),
            "form_returned",
            e.unit_code,
            f"{names.get(e.unit_code, e.unit_code)} {e.period} 的填报被退回,请修改后重新提交",
            f"退回意见:{e.comment}",
            f"/form?month={e.period}",
            (Role.REPORTER,),
        )
        for e in returned_entries(db)
    ]


def returned_event(unit_code: str, period: str, at: dt.datetime | None) -> str:
    """One event per return (a form returned twice is two events)."""
    return (
        f"form_returned:{unit_code}:{period}:{at:%Y%m%d%H%M%S}"
        if at
        else f"form_returned:{unit_code}:{period}"
    )


def _not_reported(db, registry: pd.DataFrame, names: dict, today: dt.date) -> list[Reminder]:
    """Last month's table is due on the report day of this month: once that day has passed,
    every street with units that have not reported it."""
    period = reporting_month(today)
    deadline = report_deadline(period)
    if today <= deadline or registry.empty:
        return []
    parents = set(registry["parent_code"])
    leaves = registry[~registry["unit_code"].isin(parents)]
    sent = set(reported_units(db, Scope.everything(), [period])["unit_code"])
    missing = leaves[~leaves["unit_code"].isin(sent)]
    out = []
    for street, group in missing.groupby("parent_code", sort=True):
        listed = "、".join(group["unit_name"].head(10)) + ("等" if len(group) > 10 else "")
        out.append(
            Reminder(
                f"not_reported:{period}:{street}",
                "not_reported",
                str(street),
                f"{names.get(street, street)} 尚有 {len(group)} 个单位未报 {period} 数据",
                f"截止日 {deadline} 已过,未报:{listed}。",
                f"/upload?month={period}",
                (Role.ORGANIZER,),
            )
        )
    return out


def line_of(code: str, parent: dict[str, str]) -> set[str]:
    """The unit and every unit above it."""
    line = {code}
    while parent.get(code):
        code = parent[code]
        line.add(code)
    return line


def recipients(r: Reminder, people: list[Account], line: set[str]) -> list[Account]:
    """The active accounts of the reminder's roles whose scope holds its unit (``line``: the
    unit and the units above it)."""
    return [
        a
        for a in people
        if not a.disabled
        and Role(a.role) in r.roles
        and (a.scope is None or bool(line & set(a.scope)))
    ]


@dataclass
class Sent:
    inbox: int = 0
    email: int = 0
    webhook: int = 0
    failed: int = 0
    planned: list[tuple[str, str, str]] | None = None  # (channel, recipient, title) on a dry run


def remind(
    db: Database,
    today: dt.date | None = None,
    channels: Channels | None = None,
    dry_run: bool = False,
    who: str = "system",
) -> Sent:
    """Send every reminder due today that has not been sent, on every channel."""
    today = today or dt.date.today()
    channels = channels or Channels.load()
    registry = current_registry(db, Scope.everything())
    parent = dict(zip(registry["unit_code"], registry["parent_code"], strict=True))
    people = accounts(db)
    sent = Sent(planned=[] if dry_run else None)
    for r in due_reminders(db, today, channels.days_before, registry):
        url = channels.base_url + r.link
        text = f"{r.body}\n查看:{url}"
        line = line_of(r.unit_code, parent)
        to = recipients(r, people, line)
        plan = [("inbox", a.name) for a in to]
        plan += [("email", a.email) for a in to if a.email and channels.smtp]
        plan += [
            ("webhook", h.name) for h in channels.webhooks if not h.scope or line & set(h.scope)
        ]
        for channel, recipient in plan:
            if dry_run:
                sent.planned.append((channel, recipient, r.title))
                continue
            if not claim(db, r.event, recipient, channel, now()):
                continue
            error = ""
            try:
                if channel == "inbox":
                    add_message(db, recipient, r.kind, r.title, r.body, r.link, now())
                elif channel == "email":
                    send_mail(channels.smtp, [recipient], f"【五色图】{r.title}", text)
                else:
                    hook = next(h for h in channels.webhooks if h.name == recipient)
                    post_webhook(hook, r.title, text)
            except Exception as exc:  # a channel's failure is logged and retried next run
                error = f"{type(exc).__name__}: {exc}"
            settle(db, r.event, recipient, channel, error, now())
            if error:
                sent.failed += 1
            else:
                setattr(sent, channel, getattr(sent, channel) + 1)
    if not dry_run:
        record(
            db,
            who,
            "reminders_sent",
            inbox=sent.inbox,
            email=sent.email,
            webhook=sent.webhook,
            failed=sent.failed,
        )
    return sent


def run_every(db: Database, minutes: float, stop: threading.Event, clock=dt.date.today) -> None:
    """The in-process schedule (``every_minutes`` in fivecolor.toml): remind now, then every
    ``minutes`` until ``stop`` is set. Several servers may run it: the sent-log's claims make
    each message go out once."""
    while not stop.is_set():
        try:
            remind(db, clock())
        except Exception:  # a bad run must not end the schedule; the next one tries again
            logging.getLogger(__name__).exception("reminders failed")
        stop.wait(minutes * 60)


def start_schedule(db: Database) -> threading.Event | None:
    """Start the schedule on a daemon thread when configured; returns its stop switch."""
    every = Channels.load().every_minutes
    if every <= 0:
        return None
    stop = threading.Event()
    threading.Thread(target=run_every, args=(db, every, stop), daemon=True, name="remind").start()
    return stop
