"""Who may do what: the five roles, what each may do, and the signed-in principal.

One table (``PERMISSIONS``) decides every permission; the service asks ``principal.require``
before each write and cuts every read to ``principal.scope``. Pages may ask ``can`` to hide a
button, but hiding is courtesy: the refusal happens here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..problems import Problem, ProblemsError
from ..store import Scope


class Role(StrEnum):
    ADMIN = "admin"
    RULES = "rules"
    SUPERVISOR = "supervisor"
    ORGANIZER = "organizer"
    REPORTER = "reporter"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "管理员",
    Role.RULES: "规则管理员",
    Role.SUPERVISOR: "督导",
    Role.ORGANIZER: "组织员",
    Role.REPORTER: "填报员",
}


class Action(StrEnum):
    READ = "read"  # units, grades, values, history, tasks and uploads in scope
    UPLOAD = "upload"  # import monthly data for units in scope
    ASSESS = "assess"  # grade a month and publish it
    EDIT_RULES = "edit_rules"  # save rule-set versions
    MANAGE_TASKS = "manage_tasks"  # create tasks, accept (销号) or send back, edit owner/due
    WORK_TASKS = "work_tasks"  # sign for a task and report it done (待签收 → 整改中 → 待验收)
    IMPORT_REGISTRY = "import_registry"
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"
    SEE_SYSTEM = "see_system"  # where the database is
    FILL_FORM = "fill_form"  # enter its own unit's month online (在线填报)


ACTION_TEXT = {
    Action.READ: "查看数据",
    Action.UPLOAD: "上传月度数据",
    Action.ASSESS: "评定和发布",
    Action.EDIT_RULES: "保存规则集版本",
    Action.MANAGE_TASKS: "生成、验收和退回督办事项",
    Action.WORK_TASKS: "签收和报送督办事项",
    Action.IMPORT_REGISTRY: "导入单位名册",
    Action.MANAGE_USERS: "管理账户",
    Action.READ_AUDIT: "查看审计日志",
    Action.SEE_SYSTEM: "查看系统配置",
    Action.FILL_FORM: "在线填报",
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.RULES: frozenset({Action.READ, Action.ASSESS, Action.EDIT_RULES}),
    Role.SUPERVISOR: frozenset({Action.READ, Action.MANAGE_TASKS, Action.WORK_TASKS}),
    Role.ORGANIZER: frozenset({Action.READ, Action.UPLOAD, Action.WORK_TASKS}),
    # a village or community's own account: its unit only, its form, its tasks
    Role.REPORTER: frozenset({Action.READ, Action.FILL_FORM, Action.WORK_TASKS}),
}
# Roles that see the whole registry unless given roots; the others must be given roots.
WHOLE_BY_DEFAULT = frozenset({Role.ADMIN, Role.RULES})


class Denied(ProblemsError):
    """The signed-in user may not do this (a Chinese message saying what and why)."""


def denied(message: str, code: str = "forbidden") -> Denied:
    return Denied([Problem(code, message)])


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the service sees it."""

    name: str
    role: Role
    roots: frozenset[str] | None  # None: every unit
    display_name: str = ""
    must_change_password: bool = False  # an initial password: set one's own before anything

    @property
    def scope(self) -> Scope:
        return Scope(self.roots)

    @property
    def label(self) -> str:
        return f"{self.display_name or self.name}({self.role.label})"

    def can(self, action: Action) -> bool:
        """What the role allows; nothing at all while an initial password is still in use."""
        return not self.must_change_password and action in PERMISSIONS[self.role]

    def require(self, action: Action) -> None:
        if self.must_change_password:
            raise denied("请先设置自己的密码(首次登录须修改初始密码)", "must_change_password")
        if not self.can(action):
            raise denied(f"{self.role.label}无权{ACTION_TEXT[action]}")

    @classmethod
    def operator(cls, name: str = "命令行") -> Principal:
        """Whoever runs the command line on the server: they hold the database credentials,
        so they act as an administrator (recorded in the audit log under ``name``)."""
        return cls(name=name, role=Role.ADMIN, roots=None, display_name=name)
