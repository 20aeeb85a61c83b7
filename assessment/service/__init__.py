"""The application layer between the shells (CLI, Streamlit pages) and the store: it takes the
signed-in user, returns data already cut to their scope, refuses what their role may not do and
leaves every write in the audit log. It never imports Streamlit; the core never imports it."""

from ..store import Database
from ..store.audit import ACTION_LABELS
from ..store.tasks import STATUSES as TASK_STATUSES
from .accounts import Policy, SignInError, sign_in, sign_in_sso
from .actions import Service, safe_url
from .roles import Action, Denied, Principal, Role
from .view import View

__all__ = [
    "ACTION_LABELS",
    "TASK_STATUSES",
    "Action",
    "Database",
    "Denied",
    "Policy",
    "Principal",
    "Role",
    "Service",
    "SignInError",
    "View",
    "safe_url",
    "sign_in",
    "sign_in_sso",
]
