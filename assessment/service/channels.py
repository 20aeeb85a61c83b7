"""Where reminders go besides the in-app inbox, configured in one file (``fivecolor.toml``, or
the file FIVECOLOR_CONFIG names) or in the environment: e-mail over SMTP (STARTTLS, login) and
webhooks that post JSON as WeCom (企业微信) and DingTalk group robots expect."""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import tomllib
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from ..problems import Problem, ProblemsError
from ..problems.settings import setting_number, whole_number

TIMEOUT = 10  # seconds for one SMTP conversation or one webhook post


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = ""
    sender: str = "wusetu@localhost"


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    format: str = "wecom"  # wecom | dingtalk
    scope: tuple[str, ...] = ()  # root unit codes whose messages it takes; () = every unit


@dataclass(frozen=True)
class Channels:
    base_url: str = "http://127.0.0.1:8501"
    days_before: int = 2
    every_minutes: int = 0  # the in-process schedule; 0 = off (use cron or a systemd timer)
    smtp: Smtp | None = None
    webhooks: tuple[Webhook, ...] = field(default_factory=tuple)

    @classmethod
    def load(cls) -> Channels:
        """The configuration file, then the environment over it."""
        path = Path(os.environ.get("FIVECOLOR_CONFIG", "fivecolor.toml"))
        data = _read(path)
        env = os.environ.get
        app = data.get("app", {})
        smtp = dict(data.get("smtp", {}))
        for key in ("host", "user", "password", "sender", "starttls"):
            value = env(f"FIVECOLOR_SMTP_{key.upper()}")
            if value is not None:
                smtp[key] = value

        def number(name: str, section: str, key: str, default: int, **bounds) -> int:
            if env(name, "").strip():  # the environment over the file
                return setting_number(name, default, **bounds)
            value = data.get(section, {}).get(key)
            return whole_number(value, f"{path.name} 的 {section}.{key}", default, **bounds)

        smtp["port"] = number("FIVECOLOR_SMTP_PORT", "smtp", "port", 587, high=65535)
        hooks = [dict(h) for h in data.get("webhook", [])]
        if env("FIVECOLOR_WEBHOOK_URL"):
            hooks.append(
                {
                    "name": "env",
                    "url": env("FIVECOLOR_WEBHOOK_URL"),
                    "format": env("FIVECOLOR_WEBHOOK_FORMAT", "wecom"),
                }
            )
        return cls(
            base_url=str(env("FIVECOLOR_BASE_URL") or app.get("base_url", cls.base_url)).rstrip(
                "/"
            ),
            days_before=number("FIVECOLOR_REMIND_DAYS", "remind", "days_before", 2, low=0),
            every_minutes=number(
                "FIVECOLOR_REMIND_EVERY_MINUTES", "remind", "every_minutes", 0, low=0
            ),
            smtp=_smtp(smtp) if smtp.get("host") else None,
            webhooks=tuple(
                Webhook(
                    name=str(h.get("name") or h["url"].split("?")[0]),
                    url=str(h["url"]),
                    format=str(h.get("format", "wecom")),
                    scope=tuple(str(c) for c in h.get("scope", [])),
                )
                for h in hooks
                if h.get("url")
            ),
        )


def _read(path: Path) -> dict:
    """The configuration file's tables ({} when there is none); one that TOML cannot read is
    refused with where it goes wrong."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        message = f"配置文件 {path.name} 无法读取({exc}):请按 README 的示例改正"
        raise ProblemsError([Problem("bad_setting", message, file=path.name)]) from None


def _smtp(d: dict) -> Smtp:
    flag = str(d.get("starttls", True)).strip().lower() not in ("0", "false", "no", "off")
    return Smtp(
        host=str(d["host"]),
        port=d["port"],
        starttls=flag,
        user=str(d.get("user", "")),
        password=str(d.get("password", "")),
        sender=str(d.get("sender", "wusetu@localhost")),
    )


def send_mail(smtp: Smtp, to: list[str], subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, ", ".join(to), subject
    message.set_content(body)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT) as conn:
        if smtp.starttls:
            context = ssl.create_default_context()
            if os.environ.get("FIVECOLOR_SMTP_CAFILE"):
                context.load_verify_locations(os.environ["FIVECOLOR_SMTP_CAFILE"])
            conn.starttls(context=context)
        if smtp.user:
            conn.login(smtp.user, smtp.password)
        conn.send_message(message)


def webhook_payload(hook: Webhook, title: str, text: str) -> dict:
    """The JSON a WeCom or DingTalk group robot takes: a markdown message."""
    if hook.format == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": f"### {title}\n\n{text}"},
        }
    return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{text}"}}


def post_webhook(hook: Webhook, title: str, text: str) -> None:
    body = json.dumps(webhook_payload(hook, title, text), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        hook.url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        answer = response.read(65536)
    try:
        reply = json.loads(answer or b"{}")
    except ValueError:
        reply = {}
    if isinstance(reply, dict) and reply.get("errcode", 0) not in (0, "0"):
        raise RuntimeError(f"webhook refused: {reply.get('errmsg', reply)}")
