"""Numbers set in the environment (limits, sign-in policy, the report day) or in a
configuration file (fivecolor.toml's reminders): read exactly as written or refused naming
where they were set, never replaced by the default without a word
(``FIVECOLOR_MAX_UPLOAD_MB=0.5`` once meant 100 MB)."""

from __future__ import annotations

import os

from .problem import Problem, ProblemsError


def setting_number(name: str, default: int, low: int = 1, high: int | None = None) -> int:
    """The whole number in environment variable ``name`` (``default`` when unset or blank),
    from ``low`` to ``high``; anything else raises a problem saying what to write."""
    return whole_number(os.environ.get(name), f"环境变量 {name}", default, low, high)


def whole_number(
    value: object, where: str, default: int, low: int = 1, high: int | None = None
) -> int:
    """``value`` (text or a number, as a configuration file holds it) as a whole number from
    ``low`` to ``high``, ``default`` when absent or blank; anything else (``0.5``, ``100MB``,
    ``true``) raises a problem naming ``where``."""
    raw = "" if value is None else str(value).strip()
    if not raw:
        return default
    ok = not isinstance(value, bool | float) and raw.isascii() and raw.isdigit() and len(raw) <= 12
    number = int(raw) if ok else None
    if number is None or number < low or (high is not None and number > high):
        span = f" {low}~{high} 之间" if high is not None else f"不小于 {low} "
        raise ProblemsError(
            [
                Problem(
                    "bad_setting",
                    f"{where} 应是{span}的整数,现在是“{raw[:40]}”:"
                    f"请改正,或删去它以用默认值 {default}",
                    value=raw,
                )
            ]
        )
    return number
