"""Follow-up tasks (处理意见) tracked to closure: 待签收 → 整改中 → 待验收 → 已销号."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from ..problems import Problem, ProblemsError
from .audit import log
from .database import Database
from .registry import allowed_codes
from .schema import FollowUpTask, TaskEvent
from .scope import Scope

STATUSES = ("待签收", "整改中", "待验收", "已销号")
TRANSITIONS = {
    "待签收": ("整改中",),
    "整改中": ("待验收",),
    "待验收": ("已销号", "整改中"),  # accepted, or sent back for more work
    "已销号": (),
}
COLUMNS = [
    "id",
    "unit_code",
    "period",
    "source",
    "action",
    "owner_role",
    "due_date",
    "status",
    "overdue",
    "created_at",
    "created_by",
    "assessment_id",
]


def _check_scope(db: Database, scope: Scope, codes: set[str]) -> None:
    allowed = allowed_codes(db, scope)
    outside = [] if allowed is None else sorted(codes - allowed)
    if outside:
        raise ProblemsError(
            [Problem("out_of_scope", f"单位 {c} 不在您的管辖范围内", value=c) for c in outside]
        )


def create_tasks(
    db: Database,
    scope: Scope,
    suggestions: pd.DataFrame,
    who: str,
    assessment_id: int | None = None,
) -> list[int]:
    """Turn suggested follow-ups (rows of ``followups.suggest``) into tracked tasks."""
    _check_scope(db, scope, set(suggestions["unit_code"]))
    ids = []
    with db.transaction() as s:
        for r in suggestions.to_dict("records"):
            task = FollowUpTask(
                unit_code=r["unit_code"],
                period=r["period"],
                source=r["source"],
                action=r["action"],
                owner_role=r["owner"],
                due_date=dt.date.fromisoformat(str(r["due_date"])),
                status=STATUSES[0],
                created_by=who,
                assessment_id=assessment_id,
            )
            s.add(task)
            s.flush()
            s.add(
                TaskEvent(
                    task_id=task.id,
                    who=who,
                    from_status="",
                    to_status=STATUSES[0],
                    comment="由评定结果生成",
                )
            )
            ids.append(task.id)
        log(s, who, "tasks_created", tasks=ids, assessment=assessment_id)
    return ids


def move_task(
    db: Database,
    scope: Scope,
    task_id: int,
    to: str,
    who: str,
    comment: str = "",
    expected: str | None = None,
) -> None:
    """One step, recorded. The task's row is locked for the step (SQLite: the write lock;
    PostgreSQL: FOR UPDATE), so two servers moving it at once apply one step after the other;
    with ``expected`` (the status the user saw) a step on a task changed meanwhile is refused."""
    with db.sessions() as s:
        task = s.get(FollowUpTask, task_id)
    if task is None:
        raise ProblemsError([Problem("unknown_task", f"没有编号为 {task_id} 的督办事项")])
    _check_scope(db, scope, {task.unit_code})
    with db.transaction() as s:
        task = s.scalar(select(FollowUpTask).where(FollowUpTask.id == task_id).with_for_update())
        if expected is not None and task.status != expected:
            raise ProblemsError(
                [
                    Problem(
                        "changed_meanwhile",
                        f"督办事项 {task_id} 已被他人修改(现为“{task.status}”),请刷新后再办理",
                        value=task.status,
                    )
                ]
            )
        if to not in TRANSITIONS[task.status]:
            allowed = "、".join(TRANSITIONS[task.status]) or "无(已销号)"
            raise ProblemsError(
                [
                    Problem(
                        "bad_transition",
                        f"督办事项 {task_id} 当前为“{task.status}”,不能改为“{to}”。"
                        f"可改为: {allowed}",
                        value=to,
                    )
                ]
            )
        if task.status == "待验收" and to == "整改中" and not comment.strip():
            raise ProblemsError([Problem("comment_required", "退回整改须写明原因")])
        s.add(
            TaskEvent(
                task_id=task_id, who=who, from_status=task.status, to_status=to, comment=comment
            )
        )
        log(s, who, "task_moved", task=task_id, from_status=task.status, to_status=to)
        task.status = to


def list_tasks(
    db: Database, scope: Scope, status: str | None = None, today: dt.date | None = None
) -> pd.DataFrame:
    """Tasks in the scope, overdue ones first, then by due date."""
    today = today or dt.date.today()
    allowed = allowed_codes(db, scope)
    with db.sessions() as s:
        q = select(FollowUpTask)
        if status:
            q = q.where(FollowUpTask.status == status)
        rows = [t for t in s.scalars(q).all() if allowed is None or t.unit_code in allowed]
    frame = pd.DataFrame(
        [
            {
                "id": t.id,
                "unit_code": t.unit_code,
                "period": t.period,
                "source": t.source,
                "action": t.action,
                "owner_role": t.owner_role,
                "due_date": t.due_date,
                "status": t.status,
                "overdue": t.status != "已销号" and t.due_date < today,
                "created_at": t.created_at,
                "created_by": t.created_by,
                "assessment_id": t.assessment_id,
            }
            for t in rows
        ],
        columns=COLUMNS,
    )
    return frame.sort_values(
        ["overdue", "due_date", "id"], ascending=[False, True, True], ignore_index=True
    )


def task_events(db: Database, scope: Scope, task_id: int) -> pd.DataFrame:
    with db.sessions() as s:
        task = s.get(FollowUpTask, task_id)
        if task is None:
            return pd.DataFrame()
        _check_scope(db, scope, {task.unit_code})
        rows = s.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
        ).all()
    return pd.DataFrame(
        [
            {
                "at": e.at,
                "who": e.who,
                "from": e.from_status,
                "to": e.to_status,
                "comment": e.comment,
            }
            for e in rows
        ]
    )
