"""Store-backed commands: ``fivecolor db upgrade | import | assess | tasks | users``.

The database URL comes from ``--db`` or ``FIVECOLOR_DB`` (default: ``./data/fivecolor.db``).
Whoever runs these holds the database credentials, so the commands act as an administrator
(``--as`` names them in the audit log) through the same service layer as the app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .problem_lines import AllOpt, echo_problems

STATUSES = ("待签收", "整改中", "待验收", "已销号")  # as in store.tasks (a test keeps them equal)

DbOpt = Annotated[
    str | None, typer.Option("--db", help="数据库 URL(默认 FIVECOLOR_DB 或 ./data/fivecolor.db)")
]
UserOpt = Annotated[str, typer.Option("--as", help="操作人(记入审计日志)")]

db_app = typer.Typer(help="数据库", no_args_is_help=True)
import_app = typer.Typer(help="导入单位名册、月度数据或其他系统的导出", no_args_is_help=True)
tasks_app = typer.Typer(help="跟进督办事项", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """创建或升级数据库结构(可重复执行)。"""
    from ..service import safe_url
    from ..store import open_database

    database = open_database(db)
    typer.echo(f"数据库已是最新结构: {safe_url(database.url)}")


def _import_each(svc, files: list[Path], one, rows: str, loaded: list, every: bool) -> None:
    """Each file imported by ``one(file, data)``, its problems and one line of what happened;
    the rule sets given on the command line registered when every file was taken, else exit 1."""
    failed = False
    for file in files:
        out = one(file, file.read_bytes())
        echo_problems(out.problems, every)
        changed = f",改动 {len(out.changes)} 个数值" if len(out.changes) else ""
        status = {"imported": "已导入", "rejected": "未导入", "unchanged": "未变化"}[out.status]
        typer.echo(f"{file.name}: {status}(第 {out.upload_id} 次上传,{out.rows} {rows}{changed})")
        failed |= out.status == "rejected"
    if failed:
        raise typer.Exit(1)
    for x in loaded:
        svc.save_rules(x, "随数据导入登记")


@import_app.command("registry")
def import_registry_cmd(
    file: Path,
    db: DbOpt = None,
    user: UserOpt = "admin",
    note: str = "",
    every: AllOpt = False,
) -> None:
    """导入单位名册(整表快照,旧版本保留)。"""
    result = operator_service(db, user).import_registry(file.read_bytes(), file.name, note)
    echo_problems(result.problems, every)
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
    every: AllOpt = False,
) -> None:
    """导入月度指标表:每个文件全部通过才导入,否则一行都不导入并列出全部问题。
    所用规则集同时登记到库中(已有相同文本的版本则不重复),应用即可按它试评。"""
    from ..store.uploads import import_monthly

    svc = operator_service(db, user)
    from ..rules.loader import load_rules

    loaded = [load_rules(r) for r in rules]
    sets = [x.rules for x in loaded]

    def one(file: Path, data: bytes):
        return import_monthly(svc.db, data, file.name, user, svc.user.scope, sets, period=period)

    _import_each(svc, files, one, "行", loaded, every)


@import_app.command("events")
def import_events_cmd(
    files: list[Path],
    source: Annotated[str, typer.Option("--source", "-s", help="规则集 sources 中的来源 id")],
    period: Annotated[
        str | None, typer.Option("--period", "-p", help="月份 YYYY-MM(默认取事件日期所在的月)")
    ] = None,
    rules: Annotated[
        list[Path], typer.Option("--rules", "-r", help="规则集(默认用库中现行的规则集)")
    ] = [],  # noqa: B006 - typer reads the default
    db: DbOpt = None,
    user: UserOpt = "admin",
    every: AllOpt = False,
) -> None:
    """导入其他系统的导出(如12345工单,每行一个事件),按规则集的 derive 规则计算各单位当月的指标。
    每个文件一个月;全部通过才导入。同一来源同一月份再次导入时,以新文件为准。"""
    from ..rules.loader import load_rules
    from ..service.event_imports import import_export
    from ..store.events import import_events

    svc = operator_service(db, user)
    loaded = [load_rules(r) for r in rules]
    sets = [x.rules for x in loaded]

    def one(file: Path, data: bytes):
        if not sets:  # the rule sets in force in the store
            return import_export(svc, data, file.name, source, period)
        return import_events(svc.db, data, file.name, user, svc.user.scope, sets, source, period)

    _import_each(svc, files, one, "个事件", loaded, every)


def assess_cmd(
    period: Annotated[str, typer.Option("--period", "-p")],
    rules: Annotated[list[Path], typer.Option("--rules", "-r")],
    publish: Annotated[bool, typer.Option("--publish", help="发布(发布后不再改变)")] = False,
    db: DbOpt = None,
    user: UserOpt = "admin",
    note: str = "",
) -> None:
    """按库中数据评定一个月份,保存为草稿或发布。"""
    svc = operator_service(db, user)
    from ..rules.loader import load_rules

    versions = [svc.save_rules(load_rules(r), note or "评定时登记") for r in rules]
    ids = svc.assess(period, versions, publish=publish)
    echo_problems(ids.problems)
    typer.echo(
        f"{period} 评定{'已发布' if publish else '草稿'}: " + ", ".join(f"#{i}" for i in ids)
    )


def report_cmd(
    period: Annotated[str, typer.Option("--period", "-p", help="月份 YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录")],
    db: DbOpt = None,
    user: UserOpt = "admin",
    unit: Annotated[
        str | None, typer.Option("--unit", help="只含这个单位及其下属(任一层级,如省、市、区县)")
    ] = None,
) -> None:
    """月度简报: Excel 工作簿和 A4 PDF(全部单位,或 --unit 一个单位及其下属)。"""
    from ..outputs.briefing import pdf, workbook
    from ..service import Principal, Service

    svc = operator_service(db, user)
    if unit is not None:
        if svc.view().level_of(unit) is None:
            typer.echo(f"单位代码 {unit} 不在单位名册中:请核对(如 500101000000)", err=True)
            raise typer.Exit(1)
        svc = Service(svc.db, Principal(user, svc.user.role, frozenset({unit}), user))
    if period not in svc.view().periods:
        typer.echo(f"库中没有 {period} 的数据", err=True)
        raise typer.Exit(1)
    brief = svc.briefing(period)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"五色图月度简报_{period}.xlsx").write_bytes(workbook(brief))
    try:
        (out / f"五色图月度简报_{period}.pdf").write_bytes(pdf(brief))
    except RuntimeError as exc:  # no CJK font on this machine: say so, keep the workbook
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{period} 月度简报 → {out}(.xlsx 与 .pdf)")


@tasks_app.command("list")
def tasks_list(
    status: Annotated[str | None, typer.Option(help="/".join(STATUSES))] = None, db: DbOpt = None
) -> None:
    """列出督办事项,逾期的在前。"""
    frame = operator_service(db, "admin").tasks(status)
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
    svc = operator_service(db, user)
    runs = svc.assessments()
    row = runs[runs["id"] == assessment]
    if row.empty:
        typer.echo(f"没有编号为 {assessment} 的评定", err=True)
        raise typer.Exit(1)
    period, vid = row["period"].item(), int(row["rule_set_version_id"].item())
    todo = svc.suggestions(period, vid)
    if source:
        todo = todo[todo["source"] == source]
    ids = svc.create_tasks(todo, assessment)
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
    operator_service(db, user).move_task(task, to, comment)
    typer.echo(f"#{task} → {to}")


users_app = typer.Typer(help="账户(登录应用的用户)", no_args_is_help=True)
RoleOpt = Annotated[
    str,
    typer.Option(
        "--role",
        help="admin 管理员 / rules 规则管理员 / supervisor 督导 / organizer 组织员 / reporter 填报员",
    ),
]
ScopeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--scope", help="所辖单位代码(街道、区县;填报员为村/社区),可重复;管理员和规则管理员默认全部"
    ),
]


def _read_password(confirm: bool = True) -> str:
    """From standard input when it is not a terminal (one line), else prompted (twice)."""
    import sys

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("密码", hide_input=True, confirmation_prompt=confirm and "再输入一次")


@users_app.command("add")
def users_add(
    name: str,
    role: RoleOpt,
    scope: ScopeOpt = None,
    display_name: Annotated[
        str, typer.Option("--display-name", help="显示名,如 双凤街道组织委员")
    ] = "",
    email: Annotated[str, typer.Option("--email", help="接收催办邮件的邮箱")] = "",
    must_change: Annotated[
        bool | None,
        typer.Option(
            "--must-change/--no-must-change",
            help="首次登录须修改密码(默认:除库中第一个账户外都须修改)",
        ),
    ] = None,
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """新增账户。密码从标准输入读取(非终端时),否则提示输入两次。"""
    from ..service.accounts import add_user
    from ..store.users import count_accounts

    svc = operator_service(db, user)
    if must_change is None:  # the first account is its owner's, typed at the server
        must_change = count_accounts(svc.db) > 0
    add_user(
        svc.db,
        svc.user,
        name,
        role,
        scope or None,
        _read_password(),
        display_name,
        email=email,
        must_change_password=must_change,
    )
    typer.echo(f"已新增账户 {name}({role})")


@users_app.command("list")
def users_list(db: DbOpt = None) -> None:
    """列出账户。"""
    from ..service.accounts import list_users
    from ..service.roles import Role

    svc = operator_service(db, "admin")
    rows = list_users(svc.db, svc.user)
    if not rows:
        typer.echo("还没有账户。")
    for a in rows:
        state = "已停用" if a.disabled else ("已锁定" if a.locked_until else "正常")
        scope = "全部" if a.scope is None else ",".join(a.scope)
        typer.echo(f"{a.name}\t{Role(a.role).label}\t{scope}\t{state}\t{a.display_name}")


@users_app.command("disable")
def users_disable(name: str, db: DbOpt = None, user: UserOpt = "admin") -> None:
    """停用账户(立即生效,已登录的会话在下一次操作时结束)。"""
    from ..service.accounts import disable_user

    svc = operator_service(db, user)
    disable_user(svc.db, svc.user, name)
    typer.echo(f"已停用账户 {name}")


@users_app.command("passwd")
def users_passwd(name: str, db: DbOpt = None, user: UserOpt = "admin") -> None:
    """重设密码(同时解除锁定)。"""
    from ..service.accounts import set_password

    svc = operator_service(db, user)
    set_password(svc.db, svc.user, name, _read_password())
    typer.echo(f"已重设 {name} 的密码")


@users_app.command("unlock")
def users_unlock(name: str, db: DbOpt = None, user: UserOpt = "admin") -> None:
    """解除锁定。"""
    from ..service.accounts import unlock_user

    svc = operator_service(db, user)
    unlock_user(svc.db, svc.user, name)
    typer.echo(f"已解除 {name} 的锁定")


def operator_service(db: str | None, user: str):
    from ..service import Principal, Service
    from ..store import open_database

    return Service(open_database(db), Principal.operator(user))


def register(app: typer.Typer) -> None:
    app.command("report")(report_cmd)
    app.add_typer(db_app, name="db")
    app.add_typer(import_app, name="import")
    app.add_typer(tasks_app, name="tasks")
    app.add_typer(users_app, name="users")
    app.command("assess")(assess_cmd)
