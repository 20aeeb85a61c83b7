"""催办 against real local sinks: an SMTP server (aiosmtpd, with STARTTLS and login) and an HTTP
receiver for the WeCom/DingTalk webhooks, both on 127.0.0.1. The right people, the right
links, nothing sent twice, a failing channel retried without losing the inbox copy."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import subprocess
import threading
from email import message_from_bytes
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import SAMPLE
from typer.testing import CliRunner

from assessment.cli.main import app as cli
from assessment.service import Principal
from assessment.service.accounts import add_user
from assessment.service.channels import Channels, Smtp, Webhook
from assessment.service.reminders import remind
from assessment.store import Scope
from assessment.store.messages import inbox, sent_log
from assessment.store.registry import import_registry
from assessment.store.tasks import create_tasks

ALL = Scope.everything()
OPERATOR = Principal.operator("setup")
TODAY = dt.date(2026, 12, 8)  # after the 5th: November's table is overdue
LONGXI, SHUANGFENG = "500188001000", "500188002000"


class Inbox:
    def __init__(self) -> None:
        self.mails: list = []

    async def handle_DATA(self, server, session, envelope):
        self.mails.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email_policy))
        )
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"robot",
        b"robot-secret",
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture
def smtp(tls, monkeypatch):
    key, cert = tls
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Inbox()
    with socket.socket() as probe:  # a free port on 127.0.0.1
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_required=True,
    )
    controller.start()
    monkeypatch.setenv("FIVECOLOR_SMTP_CAFILE", str(cert))
    handler.port = port
    yield handler
    controller.stop()


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list] = []
    fail_next = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Hook.fail_next:
            Hook.fail_next -= 1
            self.send_response(500)
            self.end_headers()
            return
        Hook.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    Hook.received, Hook.fail_next = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def town(db):
    """The sample registry, two tasks (one due in two days in 龙溪, one overdue in 双凤), and
    accounts: an organizer per street (with e-mail), a supervisor, an administrator."""
    import_registry(db, (SAMPLE / "units.csv").read_bytes(), "units.csv", "setup", ALL)
    tasks = pd.DataFrame(
        [
            {"unit_code": "500188001001", "due_date": TODAY + dt.timedelta(days=2)},
            {"unit_code": "500188002001", "due_date": TODAY - dt.timedelta(days=3)},
            {"unit_code": "500188001002", "due_date": TODAY + dt.timedelta(days=20)},  # not yet
        ]
    ).assign(period="2026-10", source="grade:red", action="整改", owner="村党组织书记")
    create_tasks(db, ALL, tasks, "setup")
    add_user(db, OPERATOR, "org01", "organizer", [LONGXI], "secret-pw-1", email="org01@town.test")
    add_user(
        db, OPERATOR, "org02", "organizer", [SHUANGFENG], "secret-pw-2", email="org02@town.test"
    )
    add_user(db, OPERATOR, "watch", "supervisor", ["500188000000"], "secret-pw-3")
    add_user(db, OPERATOR, "chief", "admin", None, "secret-pw-4", email="chief@town.test")
    return db


def channels(smtp=None, hook=None, **kw) -> Channels:
    return Channels(
        base_url="https://wusetu.town.test",
        smtp=Smtp("127.0.0.1", smtp.port, True, "robot", "robot-secret", "wusetu@town.test")
        if smtp
        else None,
        webhooks=tuple(hook or ()),
        **kw,
    )


def _titles(db, name):
    return sorted(m.title for m in inbox(db, name))


def test_the_right_people_get_the_right_reminders_with_links(town, smtp, hook):
    hooks = [
        Webhook("龙溪群", f"{hook}/wecom", "wecom", (LONGXI,)),
        Webhook("区督导群", f"{hook}/ding", "dingtalk", ()),
    ]
    sent = remind(town, TODAY, channels(smtp, hooks))
    org01, org02, watch = (inbox(town, n) for n in ("org01", "org02", "watch"))
    assert [m.link for m in org01 if m.kind == "task_due"] == ["/tasks?task=1"]
    assert [m.link for m in org02 if m.kind == "task_overdue"] == ["/tasks?task=2"]
    assert not any(m.kind.startswith("task") and "#3" in m.title for m in org01)  # not due yet
    assert {m.link for m in watch} == {"/tasks?task=1", "/tasks?task=2"}  # the supervisor: both
    assert not inbox(town, "chief")  # not an owner nor a supervisor of either
    # streets that have not reported November by the 5th: to their organizers only
    assert any(m.kind == "not_reported" and m.link == "/upload?month=2026-11" for m in org01)
    assert not any(m.kind == "not_reported" for m in watch)
    # e-mail: to the organizers' addresses, over STARTTLS with login, the link in the text
    to = sorted(r for rcpts, _ in smtp.mails for r in rcpts)
    assert to.count("org01@town.test") == 2 and to.count("org02@town.test") == 2
    assert "chief@town.test" not in to
    due = next(m for rcpts, m in smtp.mails if "将于" in m["Subject"])
    assert "https://wusetu.town.test/tasks?task=1" in due.get_content()
    # webhooks: the street's group gets its street's, the district group everything (two
    # tasks and the twelve streets, none of which has reported November)
    paths = [p for p, _ in Hook.received]
    assert paths.count("/wecom") == 2 and paths.count("/ding") == 14
    wecom = next(body for p, body in Hook.received if p == "/wecom")
    assert (
        wecom["msgtype"] == "markdown"
        and "https://wusetu.town.test/" in wecom["markdown"]["content"]
    )
    ding = next(body for p, body in Hook.received if p == "/ding")
    assert set(ding["markdown"]) == {"title", "text"}
    assert (sent.failed, sent.email, sent.webhook) == (0, 4, 16)


def test_a_rerun_sends_nothing_twice(town, smtp, hook):
    config = channels(smtp, [Webhook("区群", f"{hook}/w")])
    first = remind(town, TODAY, config)
    again = remind(town, TODAY, config)
    assert first.inbox > 0 and (again.inbox, again.email, again.webhook) == (0, 0, 0)
    assert len(smtp.mails) == first.email and len(Hook.received) == first.webhook
    assert len(inbox(town, "org01")) == 2


def test_a_failing_channel_is_retried_and_never_loses_the_inbox_copy(town, hook):
    config = channels(None, [Webhook("区群", f"{hook}/w")])
    Hook.fail_next = 2  # the first two posts fail
    first = remind(town, TODAY, config)
    assert first.failed == 2 and first.inbox == 6
    failed = [r for r in sent_log(town) if r["status"] == "failed"]
    assert len(failed) == 2 and all("500" in r["error"] for r in failed)
    second = remind(town, TODAY, config)
    assert (second.webhook, second.failed, second.inbox) == (2, 0, 0)  # retried, once each
    assert all(r["status"] == "sent" for r in sent_log(town))
    assert len(Hook.received) == first.webhook + 2 == 14


def test_an_unreachable_mail_server_is_logged_and_retried(town):
    dead = Channels(smtp=Smtp("127.0.0.1", 1, False), base_url="http://x")
    sent = remind(town, TODAY, dead)
    assert sent.failed == 4 and sent.inbox == 6
    assert {r["attempts"] for r in sent_log(town) if r["channel"] == "email"} == {1}
    remind(town, TODAY, dead)
    assert {r["attempts"] for r in sent_log(town) if r["channel"] == "email"} == {2}


def test_the_command_line_dry_run_lists_and_sends_nothing(town, tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.setenv("FIVECOLOR_CONFIG", str(tmp_path / "none.toml"))
    dry = runner.invoke(cli, ["remind", "--dry-run", "--today", str(TODAY), "--db", town.url])
    assert dry.exit_code == 0, dry.output
    assert "inbox\torg01\t督办事项 #1 将于" in dry.output and "试运行" in dry.output
    assert not inbox(town, "org01") and not sent_log(town)
    real = runner.invoke(cli, ["remind", "--today", str(TODAY), "--db", town.url])
    assert real.exit_code == 0, real.output
    assert "站内消息 6 条" in real.output
    assert _titles(town, "org01") == [
        "督办事项 #1 将于 2026-12-10 到期(银杏苑社区)",
        "龙溪街道 尚有 16 个单位未报 2026-11 数据",
    ]


def test_the_in_process_schedule_reminds_and_stops(town, monkeypatch, tmp_path):
    import threading

    from assessment.service.reminders import run_every

    monkeypatch.setenv("FIVECOLOR_CONFIG", str(tmp_path / "none.toml"))
    stop = threading.Event()
    worker = threading.Thread(target=run_every, args=(town, 0.001, stop, lambda: TODAY))
    worker.start()
    for _ in range(400):
        if len(sent_log(town)) >= 6 and audit_count(town) >= 3:  # sent, then run again twice
            break
        threading.Event().wait(0.05)
    stop.set()
    worker.join(5)
    assert not worker.is_alive()
    assert {m.kind for m in inbox(town, "watch")} <= {"task_due", "task_overdue"}
    assert len(inbox(town, "watch")) == 2  # run many times, sent once
    assert audit_count(town) >= 3


def audit_count(db) -> int:
    from assessment.store.audit import audit_entries

    return int((audit_entries(db)["action"] == "reminders_sent").sum())


def test_the_configuration_is_read_as_written_or_refused_with_where(tmp_path, monkeypatch):
    from assessment.problems import ProblemsError

    config = tmp_path / "fivecolor.toml"
    monkeypatch.setenv("FIVECOLOR_CONFIG", str(config))
    for name in ("FIVECOLOR_REMIND_DAYS", "FIVECOLOR_SMTP_PORT", "FIVECOLOR_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    config.write_text(
        '[remind]\ndays_before = 5\n[smtp]\nhost = "127.0.0.1"\nport = 2525\n', encoding="utf-8"
    )
    loaded = Channels.load()
    assert loaded.days_before == 5 and loaded.smtp.port == 2525
    monkeypatch.setenv("FIVECOLOR_SMTP_PORT", "1025")  # the environment over the file
    assert Channels.load().smtp.port == 1025
    monkeypatch.setenv("FIVECOLOR_SMTP_PORT", "smtp")
    with pytest.raises(ProblemsError, match="环境变量 FIVECOLOR_SMTP_PORT"):
        Channels.load()
    monkeypatch.delenv("FIVECOLOR_SMTP_PORT")
    for wrong, shown in (('"2d"', "2d"), ("2.5", "2.5"), ("true", "True"), ("-1", "-1")):
        config.write_text(f"[remind]\ndays_before = {wrong}\n", encoding="utf-8")
        with pytest.raises(ProblemsError) as caught:
            Channels.load()
        (problem,) = caught.value.problems
        assert problem.code == "bad_setting"
        assert f"fivecolor.toml 的 remind.days_before 应是不小于 0 的整数,现在是“{shown}”" in (
            problem.message
        )
    config.write_text("[remind\ndays_before = 2\n", encoding="utf-8")  # not TOML
    with pytest.raises(ProblemsError, match=r"配置文件 fivecolor\.toml 无法读取"):
        Channels.load()
