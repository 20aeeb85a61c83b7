"""Accounts for every unit: one reporter (填报员) per village or community that has none, each
with a random initial password to be handed out (and changed at first sign-in), and accounts
created or updated from a sheet (name, role, scope, display name, e-mail)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

import pandas as pd

from ..problems import Problem, ProblemsError
from ..store import Database, Scope
from ..store.registry import current_registry
from ..store.users import accounts, get_account, update_account
from .accounts import EMAIL, NAME, add_user, scope_problems
from .roles import WHOLE_BY_DEFAULT, Action, Principal, Role

ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I
COLUMNS = {  # the sheet's headers, in Chinese or English
    "name": ("name", "用户名", "账户"),
    "role": ("role", "角色"),
    "scope": ("scope", "管辖范围", "单位代码"),
    "display_name": ("display_name", "显示名", "姓名或职务", "单位名称"),
    "email": ("email", "邮箱"),
}
ROLE_NAMES = {**{r.value: r for r in Role}, **{r.label: r for r in Role}}


@dataclass(frozen=True)
class Handout:
    """What one person is given: their account name, unit and initial password."""

    name: str
    unit_code: str
    unit_name: str
    password: str


def initial_password() -> str:
    """Twelve characters in three groups, none that read alike (0/O, 1/l/I): typed from paper."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(4)) for _ in range(3))


def reporter_name(unit_code: str) -> str:
    return f"r{unit_code}"


def provision_reporters(db: Database, by: Principal, under: str) -> list[Handout]:
    """One reporter account for every village or community under ``under`` that no reporter
    account covers yet; returns the sheet to hand out."""
    by.require(Action.MANAGE_USERS)
    registry = current_registry(db, Scope.everything())
    if under not in set(registry["unit_code"]):
        raise ProblemsError(
            [Problem("unknown_scope", f"单位代码不在单位名册中: {under}", value=under[:80])]
        )
    inside = Scope.of(under).codes(registry)
    parents = set(registry["parent_code"])
    leaves = registry[registry["unit_code"].isin(inside) & ~registry["unit_code"].isin(parents)]
    covered = {
        code for a in accounts(db) if a.role == Role.REPORTER and a.scope for code in a.scope
    }
    taken = {a.name for a in accounts(db)}
    out = []
    for code, unit in zip(leaves["unit_code"], leaves["unit_name"], strict=True):
        if code in covered:
            continue
        name = reporter_name(code)
        if name in taken:  # a non-reporter account of that name: leave it be, say so below
            continue
        password = initial_password()
        add_user(
            db, by, name, Role.REPORTER.value, [code], password, unit, must_change_password=True
        )
        out.append(Handout(name, code, unit, password))
    return out


def read_accounts(frame: pd.DataFrame) -> tuple[list[dict], list[Problem]]:
    """The sheet's rows as accounts to create or update, and every problem in it (row numbers
    as a spreadsheet shows them: the header is row 1)."""
    lookup = {h.strip().lower(): key for key, names in COLUMNS.items() for h in names}
    columns = {c: lookup.get(str(c).strip().lower()) for c in frame.columns}
    problems = [
        Problem("missing_column", f"缺少“{COLUMNS[key][1]}”列({key})", column=key)
        for key in ("name", "role")
        if key not in columns.values()
    ]
    if problems:
        return [], problems
    rows = []
    seen: set[str] = set()
    for k, raw in enumerate(frame.rename(columns=columns).to_dict("records"), start=2):
        row = {key: str(raw.get(key) or "").strip() for key in COLUMNS}
        where = {"row": k}
        if not NAME.match(row["name"]):
            problems.append(
                Problem(
                    "bad_user_name",
                    "用户名须为 2-64 个字母、数字或 _ . @ -",
                    value=row["name"][:80],
                    column="name",
                    **where,
                )
            )
        elif row["name"] in seen:
            problems.append(
                Problem(
                    "duplicate_user",
                    f"用户名 {row['name']} 在表中出现了两次",
                    value=row["name"],
                    column="name",
                    **where,
                )
            )
        seen.add(row["name"])
        role = ROLE_NAMES.get(row["role"])
        if role is None:
            problems.append(
                Problem(
                    "bad_role",
                    "角色须为 " + "、".join(f"{r.value}({r.label})" for r in Role),
                    value=row["role"][:80],
                    column="role",
                    **where,
                )
            )
        scope = [c for c in row["scope"].replace("、", ",").replace(" ", ",").split(",") if c]
        if role is not None and not scope and role not in WHOLE_BY_DEFAULT:
            problems.append(
                Problem(
                    "scope_required",
                    f"{role.label}须填写管辖范围(单位代码)",
                    column="scope",
                    **where,
                )
            )
        if row["email"] and not EMAIL.match(row["email"]):
            problems.append(
                Problem(
                    "bad_email",
                    "邮箱地址格式不对",
                    value=row["email"][:80],
                    column="email",
                    **where,
                )
            )
        rows.append({**row, "role": role, "scope": scope or None, "row": k})
    return rows, problems


def import_accounts(
    db: Database, by: Principal, frame: pd.DataFrame
) -> tuple[list[Handout], list[str]]:
    """Create the accounts of the sheet that do not exist (with initial passwords to hand out)
    and update role, scope, display name and e-mail of those that do. Every problem of the
    sheet is listed before anything is stored; then all rows are applied."""
    by.require(Action.MANAGE_USERS)
    rows, problems = read_accounts(frame)
    registry = current_registry(db, Scope.everything())
    for row in rows:
        if row["role"] is not None and row["scope"]:
            problems += [
                replace(p, row=row["row"], column="scope")
                for p in scope_problems(registry, row["role"], row["scope"])
            ]
    if problems:
        raise ProblemsError(problems)
    created, updated = [], []
    for row in rows:
        scope = row["scope"]
        if get_account(db, row["name"]) is None:
            password = initial_password()
            add_user(
                db,
                by,
                row["name"],
                row["role"].value,
                scope,
                password,
                row["display_name"],
                email=row["email"],
                must_change_password=True,
            )
            code = scope[0] if scope else ""
            unit = dict(zip(registry["unit_code"], registry["unit_name"], strict=True)).get(
                code, ""
            )
            created.append(Handout(row["name"], code, unit, password))
        else:
            fields = {"role": row["role"].value, "scope": scope}
            if row["display_name"]:
                fields["display_name"] = row["display_name"]
            if row["email"]:
                fields["email"] = row["email"]
            update_account(db, row["name"], by.name, "user_updated", **fields)
            updated.append(row["name"])
    return created, updated
