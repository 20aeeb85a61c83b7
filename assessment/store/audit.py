"""The audit log: who did what, when. Written in the same transaction as the change it records."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from .database import Database
from .schema import AuditEntry

COLUMNS = ["id", "at", "who", "action", "detail"]
ACTION_LABELS = {
    "registry_imported": "导入单位名册",
    "upload_imported": "导入月度数据",
    "upload_rejected": "上传未通过检查",
    "rules_saved": "保存规则集版本",
    "assessment_created": "评定",
    "assessment_published": "发布评定",
    "tasks_created": "生成督办事项",
    "task_moved": "办理督办事项",
    "task_edited": "修改督办事项的责任方或期限",
    "evidence_added": "上传整改材料",
    "user_added": "新增账户",
    "user_disabled": "停用账户",
    "user_unlocked": "解除锁定",
    "password_changed": "修改密码",
    "password_rehashed": "更新密码哈希",
    "signed_in": "登录",
    "signed_out": "退出登录",
    "sign_in_failed": "登录失败",
    "account_locked": "账户锁定",
    "access_denied": "越权操作被拒绝",
    "sessions_ended": "结束账户的全部会话",
    "reminders_sent": "发送催办提醒",
    "email_changed": "修改邮箱",
    "user_updated": "修改账户",
    "form_draft": "保存填报草稿",
    "form_submitted": "提交填报",
    "form_returned": "退回填报",
    "form_approved": "审核通过填报",
    "api_call": "API 调用",
    "token_added": "新增 API 令牌",
    "token_revoked": "撤销 API 令牌",
}


def log(session: Session, who: str, action: str, **detail: object) -> None:
    session.add(AuditEntry(who=who, action=action, detail=detail))


def record(db: Database, who: str, action: str, **detail: object) -> None:
    """An entry of its own (for events that change nothing else: sign-out, a refusal)."""
    with db.transaction() as s:
        log(s, who, action, **detail)


def audit_entries(
    db: Database,
    limit: int = 200,
    who: str | None = None,
    actions: list[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> pd.DataFrame:
    """The newest entries first, optionally for one account, some actions and a time window
    (``until`` exclusive)."""
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if who:
        q = q.where(AuditEntry.who == who)
    if actions:
        q = q.where(AuditEntry.action.in_(actions))
    if since is not None:
        q = q.where(AuditEntry.at >= since)
    if until is not None:
        q = q.where(AuditEntry.at < until)
    with db.sessions() as s:
        rows = s.scalars(q).all()
    return pd.DataFrame(
        [
            {"id": r.id, "at": r.at, "who": r.who, "action": r.action, "detail": r.detail}
            for r in rows
        ],
        columns=COLUMNS,
    )
