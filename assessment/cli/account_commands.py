"""Accounts for many people at once: one reporter per village or community
(``users provision``) and accounts from a sheet (``users import``); the initial passwords go to
a spreadsheet readable by its owner only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .problem_lines import echo_problems
from .store_commands import DbOpt, UserOpt, operator_service, users_app

OutOpt = Annotated[Path, typer.Option("--out", help="写入初始密码的 .xlsx(新文件,仅所有者可读)")]


def _write_private(path: Path, data: bytes) -> None:
    """A new file, owner-only from its first byte (never an existing file overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        typer.echo(f"{path} 已存在:请换一个文件名(不覆盖已有文件)", err=True)
        raise typer.Exit(1) from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _hand_out(handouts, out: Path) -> None:
    from ..outputs.handouts import handout_workbook

    if not handouts:
        return
    _write_private(out, handout_workbook(handouts))
    typer.echo(
        f"初始密码已写入 {out}(仅本机当前用户可读):请逐一发放后销毁该文件;"
        "每个账户首次登录时须设置自己的密码。"
    )


@users_app.command("provision")
def users_provision(
    under: Annotated[
        str, typer.Option("--under", help="为该单位下每个还没有填报员的村/社区建账户")
    ],
    out: OutOpt,
    role: Annotated[str, typer.Option("--role", help="只支持 reporter(填报员)")] = "reporter",
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """为 --under 下每个还没有账户的村/社区新建一个填报员账户(用户名 r+单位代码,显示名为单位名称,随机初始密码)。"""
    from ..service.provisioning import provision_reporters

    if role != "reporter":
        typer.echo("provision 只为村/社区建填报员账户(--role reporter)", err=True)
        raise typer.Exit(1)
    if out.exists():
        typer.echo(f"{out} 已存在:请换一个文件名(不覆盖已有文件)", err=True)
        raise typer.Exit(1)
    svc = operator_service(db, user)
    made = provision_reporters(svc.db, svc.user, under)
    typer.echo(f"已新建 {len(made)} 个填报员账户")
    _hand_out(made, out)


@users_app.command("import")
def users_import(
    file: Path,
    out: Annotated[Path | None, typer.Option("--out", help="新账户的初始密码写入此 .xlsx")] = None,
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """按 CSV/XLSX 新建或更新账户(列:用户名 name、角色 role、管辖范围 scope、显示名 display_name、邮箱 email)。"""
    from ..intake.readers import read_table
    from ..problems import ProblemsError, errors_only
    from ..service.provisioning import import_accounts

    raw = read_table(
        file, file.name, text_columns={"scope", "管辖范围", "单位代码", "name", "用户名"}
    )
    if errors_only(raw.problems) or raw.table is None:
        echo_problems(raw.problems)
        raise typer.Exit(1)
    frame = raw.table.to_pandas().astype(str).replace({"None": "", "nan": ""})
    if out is not None and out.exists():
        typer.echo(f"{out} 已存在:请换一个文件名(不覆盖已有文件)", err=True)
        raise typer.Exit(1)
    svc = operator_service(db, user)
    try:
        created, updated = import_accounts(svc.db, svc.user, frame)
    except ProblemsError as exc:
        echo_problems(exc.problems)
        typer.echo("表中有错误,没有新建或修改任何账户。", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"已新建 {len(created)} 个账户,更新 {len(updated)} 个账户")
    if created and out is None:
        out = file.with_name(file.stem + "_初始密码.xlsx")
    if created:
        _hand_out(created, out)
