"""Follow-up tasks (处理意见) tracked to closure: 待签收 → 整改中 → 待验收 → 已销号."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
from sqlalchemy import func, select

from ..problems import Problem, ProblemsError
from .audit import log
from .database import Database
from .registry import allowed_codes
from .schema import FollowUpTask, TaskEvent, TaskFile
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
    "closed_at",
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
    today = dt.date.today()
    with db.transaction() as s:
        for r in suggestions.to_dict("records"):
            days = r.get("due_days")
            task = FollowUpTask(
                unit_code=r["unit_code"],
                period=r["period"],
                source=r["source"],
                action=r["action"],
                owner_role=r["owner"],
                # the time allowed counts from the day the task is set, not the month's end
                due_date=today + dt.timedelta(days=int(days))
                if days is not None and not pd.isna(days)
                else dt.date.fromisoformat(str(r["due_date"])),
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
        if task.status == "待验收" and to == "已销号" and who == _reported_by(s, task_id):
            raise ProblemsError(
                [Problem("own_report", "报送整改完成的人不能验收销号自己的事项:请由督导验收")]
            )
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
        closed = dict(
            s.execute(
                select(TaskEvent.task_id, func.max(TaskEvent.at))
                .where(TaskEvent.to_status == STATUSES[-1])
                .group_by(TaskEvent.task_id)
            ).all()
        )
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
                "closed_at": closed.get(t.id) if t.status == STATUSES[-1] else None,
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


def _reported_by(s, task_id: int) -> str | None:
    """Who last reported the task done (moved it to 待验收)."""
    return s.scalar(
        select(TaskEvent.who)
        .where(TaskEvent.task_id == task_id, TaskEvent.to_status == "待验收")
        .order_by(TaskEvent.id.desc())
        .limit(1)
    )


def edit_task(
    db: Database,
    scope: Scope,
    task_id: int,
    who: str,
    owner: str | None = None,
    due_date: dt.date | None = None,
    comment: str = "",
) -> None:
    """Change a task's responsible party or deadline; the change is kept in its history."""
    with db.sessions() as s:
        task = s.get(FollowUpTask, task_id)
    if task is None:
        raise ProblemsError([Problem("unknown_task", f"没有编号为 {task_id} 的督办事项")])
    _check_scope(db, scope, {task.unit_code})
    owner = None if owner is None else " ".join(owner.split())[:100]
    if owner is not None and not owner:
        raise ProblemsError([Problem("owner_required", "责任方不能为空")])
    with db.transaction() as s:
        task = s.scalar(select(FollowUpTask).where(FollowUpTask.id == task_id).with_for_update())
        changes = []
        if owner is not None and owner != task.owner_role:
            changes.append(f"责任方: {task.owner_role} → {owner}")
            task.owner_role = owner
        if due_date is not None and due_date != task.due_date:
            changes.append(f"期限: {task.due_date} → {due_date}")
            task.due_date = due_date
        if not changes:
            return
        note = ";".join(changes) + (f"。{comment.strip()}" if comment.strip() else "")
        s.add(
            TaskEvent(
                task_id=task_id,
                who=who,
                from_status=task.status,
                to_status=task.status,
                comment=note,
            )
        )
        log(s, who, "task_edited", task=task_id, changes=changes)


EVIDENCE_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".wps", ".txt")


def attach_file(
    db: Database, scope: Scope, task_id: int, who: str, filename: str, data: bytes, max_bytes: int
) -> int:
    """Keep one evidence file (整改材料) with the task; refused when too large or of a type
    that could run in a browser (only documents and pictures)."""
    with db.sessions() as s:
        task = s.get(FollowUpTask, task_id)
    if task is None:
        raise ProblemsError([Problem("unknown_task", f"没有编号为 {task_id} 的督办事项")])
    _check_scope(db, scope, {task.unit_code})
    name = _clean_name(filename)
    if not name.lower().endswith(EVIDENCE_TYPES):
        kinds = "、".join(t[1:] for t in EVIDENCE_TYPES)
        raise ProblemsError(
            [Problem("evidence_type", f"“{name}”不是可接受的材料类型:只接受 {kinds}", value=name)]
        )
    if len(data) > max_bytes:
        raise ProblemsError(
            [
                Problem(
                    "evidence_too_large",
                    f"“{name}”有 {len(data) / 2**20:.1f} MB,超过上限 {max_bytes / 2**20:.0f} MB:"
                    "请压缩图片或拆分后上传",
                    value=name,
                )
            ]
        )
    if not data:
        raise ProblemsError([Problem("evidence_empty", f"“{name}”是空文件", value=name)])
    with db.transaction() as s:
        row = TaskFile(
            task_id=task_id,
            who=who,
            filename=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
        )
        s.add(row)
        s.flush()
        log(s, who, "evidence_added", task=task_id, file=row.id, filename=name, size=len(data))
        return row.id


def task_files(db: Database, scope: Scope, task_id: int) -> pd.DataFrame:
    """The evidence of one task (without the bytes)."""
    with db.sessions() as s:
        task = s.get(FollowUpTask, task_id)
        if task is None:
            return pd.DataFrame(columns=["id", "at", "who", "filename", "size"])
        _check_scope(db, scope, {task.unit_code})
        rows = s.execute(
            select(TaskFile.id, TaskFile.at, TaskFile.who, TaskFile.filename, TaskFile.size)
            .where(TaskFile.task_id == task_id)
            .order_by(TaskFile.id)
        ).all()
    return pd.DataFrame(rows, columns=["id", "at", "who", "filename", "size"])


def task_file(db: Database, scope: Scope, file_id: int) -> tuple[str, bytes]:
    with db.sessions() as s:
        row = s.get(TaskFile, file_id)
        task = None if row is None else s.get(FollowUpTask, row.task_id)
    if row is None or task is None:
        raise ProblemsError([Problem("unknown_file", f"没有编号为 {file_id} 的材料")])
    _check_scope(db, scope, {task.unit_code})
    return row.filename, row.content


def _clean_name(filename: str) -> str:
    """A file name fit to show and to offer for download: no path, no control characters."""
    base = str(filename).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return (base or "材料")[-120:]
