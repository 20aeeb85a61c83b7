"""Persistent storage (SQLAlchemy 2): SQLite file by default, PostgreSQL by URL.

Every function that reads or writes unit data takes the caller's ``Scope`` as an argument, so
access control is enforced here, in the core, never in pages.
"""

from .database import Database, default_url, open_database
from .scope import Scope

__all__ = ["Database", "Scope", "default_url", "open_database"]
