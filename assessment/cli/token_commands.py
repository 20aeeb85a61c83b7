"""API tokens for other systems: ``tokens add NAME --for ACCOUNT [--expires DAYS]`` (the token
is shown once), ``tokens list``, ``tokens revoke NAME`` (refused from the next call on)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..problems import ProblemsError
from .problem_lines import echo_problems
from .store_commands import DbOpt, UserOpt, operator_service

tokens_app = typer.Typer(help="其他系统调用 HTTP API 用的令牌", no_args_is_help=True)


@tokens_app.command("add")
def tokens_add(
    name: str,
    account: Annotated[str, typer.Option("--for", help="令牌代表的账户(其角色和管辖范围)")],
    expires: Annotated[int | None, typer.Option("--expires", help="有效天数(默认不过期)")] = None,
    db: DbOpt = None,
    user: UserOpt = "admin",
) -> None:
    """新建令牌:只显示这一次,库中只保存其哈希。"""
    from ..service.api_tokens import add_token

    try:
        secret = add_token(operator_service(db, user), name, account, expires)
    except ProblemsError as exc:
        echo_problems(exc.problems)
        raise typer.Exit(1) from None
    until = f",{expires} 天后过期" if expires else ""
    typer.echo(f"令牌“{name}”代表账户 {account}{until}。请立即复制保存,之后无法再次查看:")
    typer.echo(secret)


@tokens_app.command("list")
def tokens_list(db: DbOpt = None) -> None:
    """列出令牌(不显示令牌本身)。"""
    from ..service.api_tokens import tokens

    rows = tokens(operator_service(db, "admin"))
    if rows.empty:
        typer.echo("还没有令牌。")
    for r in rows.itertuples():
        state = "已撤销" if r.revoked_at is not None and str(r.revoked_at) != "NaT" else "有效"
        if state == "有效" and r.expires_at is not None and str(r.expires_at) != "NaT":
            state = f"有效至 {str(r.expires_at)[:16]}"
        used = (
            ""
            if r.last_used_at is None or str(r.last_used_at) == "NaT"
            else str(r.last_used_at)[:16]
        )
        typer.echo(f"{r.name}\t{r.user_name}\t{r.prefix}…\t{state}\t最近使用 {used or '无'}")


@tokens_app.command("revoke")
def tokens_revoke(name: str, db: DbOpt = None, user: UserOpt = "admin") -> None:
    """撤销令牌:下一次调用起即被拒绝。"""
    from ..service.api_tokens import revoke

    try:
        revoke(operator_service(db, user), name)
    except ProblemsError as exc:
        echo_problems(exc.problems)
        raise typer.Exit(1) from None
    typer.echo(f"已撤销令牌“{name}”。")
