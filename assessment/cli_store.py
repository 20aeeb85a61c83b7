"""Store-backed commands: ``fivecolor db upgrade | import | assess | tasks``.

The database URL comes from ``--db`` or ``FIVECOLOR_DB`` (default: ``./data/fivecolor.db``).
The CLI acts as the district administrator (scope: every unit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .followups import suggest
from .rule_loader import load_rules
from .store import Scope, open_database
from .store.assessments import run_assessment, save_rule_set
from .store.tasks import STATUSES, create_tasks, list_tasks, move_task

DbOpt = Annotated[
    str | None, typer.Option("--db", help="数据库 URL(默认 FIVECOLOR_DB 或 ./data/fivecolor.db)")
]
UserOpt = Annotated[str, typer.Option("--as", help="操作人(记入审计日志)")]
ALL = Scope.everything()

db_app = typer.Typer(help="数据库", no_args_is_help=True)
import_app = typer.Typer(help="导入单位名册或月度数据", no_args_is_help=True)
tasks_app = typer.Typer(help="跟进督办事项", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """创建或升级数据库结构(可重复执行)。"""
    database = open_database(db)
    typer.echo(f"数据库已是最新结构: {database.url}")


@import_app.command("registry")
def import_registry_cmd(
    file: Path, db: DbOpt = None, user: UserOpt = "admin", note: str = ""
) -> None:
    """导入单位名册(整表快照,旧版本保留)。"""
    from .store.registry import import_registry

    result = import_registry(open_database(db), file.read_bytes(), file.name, user, ALL, note)
    for p in result.problems:
        typer.echo(p.render(), err=True)
    typer.echo(
        f"单位名册第 {result.version_id} 版: 新增 {len(result.added)}、撤销 {len(result.retired)}"
        f"(其中合并 {len(result.merged)})、变更 {len(result.changed)}"
    )


@import_app.command("data")
def import_data_cmd(
    files: list[Path],
    rules: Annotated[list[Path], typer.Option("--rules", "-r")],
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="文件中没有月份列时用")
    ] = None,
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """导入月度指标表:每个文件全部通过才导入,否则一行都不导入并列出全部问题。"""
    from .store.uploads import import_monthly

    database = open_database(db)
    sets = [load_rules(r).rules for r in rules]
    failed = False
    for file in files:
        out = import_monthly(database, file.read_bytes(), file.name, user, ALL, sets, period=period)
        for p in out.problems:
            typer.echo(p.render(), err=True)
        changed = f",改动 {len(out.changes)} 个数值" if len(out.changes) else ""
        status = {"imported": "已导入", "rejected": "未导入", "unchanged": "未变化"}[out.status]
        typer.echo(f"{file.name}: {status}(第 {out.upload_id} 次上传,{out.rows} 行{changed})")
        failed |= out.status == "rejected"
    if failed:
        raise typer.Exit(1)


def assess_cmd(
    period: Annotated[str, typer.Option("--period", "-p")],
    rules: Annotated[list[Path], typer.Option("--rules", "-r")],
    publish: Annotated[bool, typer.Option("--publish", help="发布(发布后不再改变)")] = False,
    db: DbOpt = None,
    user: UserOpt = "admin",
    note: str = "",
) -> None:
    """按库中数据评定一个月份,保存为草稿或发布。"""
    database = open_database(db)
    versions = [save_rule_set(database, load_rules(r), user, note) for r in rules]
    ids = run_assessment(database, ALL, period, versions, user, publish=publish)
    typer.echo(
        f"{period} 评定{'已发布' if publish else '草稿'}: " + ", ".join(f"#{i}" for i in ids)
    )


@tasks_app.command("list")
def tasks_list(
    status: Annotated[str | None, typer.Option(help="/".join(STATUSES))] = None, db: DbOpt = None
) -> None:
    """列出督办事项,逾期的在前。"""
    frame = list_tasks(open_database(db), ALL, status)
    if frame.empty:
        typer.echo("没有督办事项。")
        return
    for r in frame.itertuples():
        flag = "【逾期】" if r.overdue else ""
        typer.echo(
            f"#{r.id} {flag}{r.status} {r.unit_code} {r.period} 截止 {r.due_date} "
            f"{r.owner_role}: {r.action}"
        )


@tasks_app.command("create")
def tasks_create(
    assessment: Annotated[int, typer.Option(help="评定编号")],
    source: Annotated[str | None, typer.Option(help="只生成某类,如 grade:red")] = None,
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """把一次评定的处理意见建议生成督办事项。"""
    from .store.assessments import assessments, grade_from_store

    database = open_database(db)
    runs = assessments(database)
    row = runs[runs["id"] == assessment]
    if row.empty:
        typer.echo(f"没有编号为 {assessment} 的评定", err=True)
        raise typer.Exit(1)
    period, vid = row["period"].item(), int(row["rule_set_version_id"].item())
    ((_, result, _),) = grade_from_store(database, ALL, period, [vid])
    todo = suggest(result, period)
    if source:
        todo = todo[todo["source"] == source]
    ids = create_tasks(database, ALL, todo, user, assessment)
    typer.echo(f"已生成 {len(ids)} 个督办事项。")


@tasks_app.command("move")
def tasks_move(
    task: int,
    to: Annotated[str, typer.Option("--to", help="/".join(STATUSES))],
    comment: str = "",
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """推进督办事项: 待签收 → 整改中 → 待验收 → 已销号(验收不通过可退回整改中)。"""
    move_task(open_database(db), ALL, task, to, user, comment)
    typer.echo(f"#{task} → {to}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(import_app, name="import")
    app.add_typer(tasks_app, name="tasks")
    app.command("assess")(assess_cmd)
