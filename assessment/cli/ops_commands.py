"""Commands for running a deployment: reminders (``fivecolor remind``, for cron or a systemd
timer), the SQLite online backup and its restore, and account e-mail and sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from .store_commands import DbOpt, UserOpt, db_app, operator_service, users_app


def remind_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出将发送的提醒,不发送")] = False,
    today: Annotated[str, typer.Option("--today", help="按哪一天计算(YYYY-MM-DD),默认今天")] = "",
    db: DbOpt = None,
    user: UserOpt = "system",
) -> None:
    """发送催办提醒:即将到期和已逾期的督办事项、截止日后仍未上报的街道。每件事对每人每个渠道只发一次。"""
    from ..service.reminders import remind

    svc = operator_service(db, user)
    day = dt.date.fromisoformat(today) if today else dt.date.today()
    sent = remind(svc.db, day, dry_run=dry_run, who=user)
    if dry_run:
        for channel, recipient, title in sent.planned:
            typer.echo(f"{channel}\t{recipient}\t{title}")
        typer.echo(f"将发送 {len(sent.planned)} 条(试运行,未发送)")
        return
    typer.echo(
        f"站内消息 {sent.inbox} 条,邮件 {sent.email} 封,群机器人 {sent.webhook} 条;"
        f"失败 {sent.failed} 条(下次运行时重试)"
    )
    if sent.failed:
        raise typer.Exit(1)


@db_app.command("backup")
def db_backup(path: Path, db: DbOpt = None) -> None:
    """SQLite 在线备份到 PATH(应用运行时也可执行);PostgreSQL 请用 pg_dump。"""
    from ..store import open_database
    from ..store.backup import backup

    backup(open_database(db), path)
    typer.echo(f"已备份到 {path}(仅所有者可读)")


@db_app.command("restore")
def db_restore(
    path: Path, db: DbOpt = None, yes: Annotated[bool, typer.Option("--yes")] = False
) -> None:
    """用 PATH 的备份替换数据库(先停止应用)。"""
    from ..store.backup import restore
    from ..store.database import resolve_url

    if not yes:
        typer.confirm(f"用 {path} 覆盖当前数据库?", abort=True)
    restore(path, resolve_url(db))
    typer.echo("已恢复。")


@users_app.command("email")
def users_email(name: str, address: str, db: DbOpt = None, user: UserOpt = "admin") -> None:
    """设置接收催办邮件的邮箱(空字符串表示不发邮件)。"""
    from ..service.accounts import set_email

    svc = operator_service(db, user)
    set_email(svc.db, svc.user, name, address)
    typer.echo(f"已设置 {name} 的邮箱")


@users_app.command("end-sessions")
def users_end_sessions(name: str, db: DbOpt = None, user: UserOpt = "admin") -> None:
    """结束账户的全部会话(如手机丢失):各处已打开的页面在下一次操作时要求重新登录。"""
    from ..service.sessions import end_all_sessions

    svc = operator_service(db, user)
    typer.echo(f"已结束 {name} 的 {end_all_sessions(svc.db, svc.user, name)} 个会话")


def register(app: typer.Typer) -> None:
    app.command("remind")(remind_cmd)
