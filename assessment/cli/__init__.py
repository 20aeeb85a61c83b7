"""The command line, a shell like the Streamlit pages (``fivecolor --help``).

- ``console``: the process entry point (allocator settings before Arrow loads)
- ``main``: the typer app and the commands on files (validate, grade, explain, …)
- ``store_commands``: the commands on the store (db, import, assess, tasks, users, report)
- ``account_commands``: accounts for many people (users provision, users import)
- ``ops_commands``: running a deployment (remind, db backup and restore, users email and
  end-sessions)

May import anything; nothing in the core imports it.
"""

__all__ = ["account_commands", "console", "main", "ops_commands", "store_commands"]
