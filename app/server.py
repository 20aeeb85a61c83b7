"""The HTTP side of the app, beside Streamlit's own routes (``st.App`` in streamlit_app.py):
the sign-in page and its form, sign-out, and a middleware that sends a browser without a live
session to the sign-in page with the address it asked for, so that after signing in it lands
there. The browser holds only a random session id in an HttpOnly, SameSite=Strict cookie;
the session itself lives in the database (assessment.service.sessions)."""

from __future__ import annotations

import contextlib
import functools
import hmac
import html
import importlib
import logging
import os
import secrets
import threading
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.bundle import app_bundle
from assessment.rules.grades import legend
from assessment.service import Database, SignInError
from assessment.service.demo import (
    app_database_url,
    demo_logins,
    has_accounts,
    open_app_database,
)
from assessment.service.sessions import current_user, open_session, sign_out

COOKIE = "fivecolor_session"
CSRF_COOKIE = "fivecolor_csrf"
SSO_COOKIE = "_streamlit_user"  # set by Streamlit's own OIDC routes (st.login), signed
SIGN_IN, SIGN_OUT = "/signin", "/signout"
# paths Streamlit serves itself (assets, the websocket, health, uploads, media, st.login)
OWN_PATHS = ("/_stcore", "/static", "/media", "/component", "/auth", "/oauth2callback", "/app")
API_PATHS = (
    "/api/"  # app/api.py: tokens, never a session cookie; answered with 401, not sent to sign in
)
_lock = threading.Lock()
# what the pages import (the service, pandas, altair, ...): about 2 s on a server's first run
PAGE_MODULES = ("app.navigation", "app.charts", "app.publishing")


@functools.cache
def _database(url: str) -> Database:
    from assessment.service.reminders import start_schedule
    from assessment.service.warm import warm_up

    db = open_app_database()
    warm_up(db)
    start_schedule(db)  # only when fivecolor.toml sets remind.every_minutes
    return db


@contextlib.asynccontextmanager
async def lifespan(app):
    """At server start, before the first request: open the store, which starts grading it
    (assessment.service.warm) and the reminder schedule, and import the pages' modules and
    build the map's chart shapes in the background, so the first person to sign in does not
    wait for either. A store that cannot be opened is reported by the first request, as
    before."""
    del app
    check_settings()
    threading.Thread(target=_start, name="fivecolor-start", daemon=True).start()
    yield None


def check_settings() -> None:
    """Every number the environment and fivecolor.toml set, read once at start: a mistyped
    one (``0.5``, ``100MB``) stops the server here with its name and what to write, instead
    of failing the first sign-in, upload or reminder."""
    from assessment.intake.limits import Limits
    from assessment.problems import ProblemsError
    from assessment.service.accounts import Policy
    from assessment.service.actions import report_day
    from assessment.service.api_tokens import calls_per_minute
    from assessment.service.channels import Channels

    readers = (Limits.from_env, Policy.from_env, report_day, calls_per_minute, Channels.load)
    try:
        for read in readers:
            read()
    except ProblemsError as exc:
        logging.getLogger(__name__).error("%s", exc.summary())
        raise


def _start() -> None:
    try:
        shared_database()
        for name in PAGE_MODULES:
            importlib.import_module(name)
        importlib.import_module("app.charts").warm_specs()
    except Exception:  # the first request meets the same problem and shows it
        logging.getLogger(__name__).exception("the store could not be opened at start")


def shared_database() -> Database:
    """One database handle per process and URL, for the pages and these routes alike."""
    with _lock:
        return _database(app_database_url())


def _from_proxy(request: Request) -> bool:
    """The request came through the proxy named in FIVECOLOR_TRUSTED_PROXY (docs/DEPLOY.md):
    only then are its X-Forwarded-* headers believed."""
    peer = request.client.host if request.client else ""
    trusted = {a.strip() for a in os.environ.get("FIVECOLOR_TRUSTED_PROXY", "").split(",")}
    return bool(peer) and peer in trusted


def client_address(request: Request) -> str:
    """The browser's address: the proxy's X-Forwarded-For only from the trusted proxy, so
    nobody can pick their own address to dodge back-off."""
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded and _from_proxy(request):
        return forwarded.split(",")[-1].strip()[:64]
    return (request.client.host if request.client else "")[:64]


def _https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    return _from_proxy(request) and request.headers.get("x-forwarded-proto", "") == "https"


def safe_next(target: str | None) -> str:
    """Only a path of this site: never another host (``//evil``, ``https://…``, ``\\\\evil``)."""
    target = (target or "/").strip()
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or parts.scheme
        or parts.netloc
        or any(ord(c) < 32 for c in target)
        or target.startswith((SIGN_IN, SIGN_OUT))
    ):
        return "/"
    return target[:2000]


def _same_origin(request: Request) -> bool:
    """A form post from this site's own page: the browser says so (Sec-Fetch-Site), or the
    Origin (or, without it, the Referer) names this host."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    return bool(origin) and urlsplit(origin).netloc == request.headers.get("host", "")


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int):
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )


def _session_token(request: Request) -> str:
    return request.cookies.get(COOKIE, "")


# -- routes ------------------------------------------------------------------------------------


async def sign_in_page(request: Request) -> Response:
    if request.method == "POST":
        return await _sign_in_post(request)
    message = request.query_params.get("m", "")
    return await _page(request, notice=MESSAGES.get(message, ""))


MESSAGES = {
    "signed_out": "已退出登录。",
    "ended": "会话已结束,请重新登录。",
}


async def _sign_in_post(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=8, max_part_size=4096)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    token = str(form.get("csrf", ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not _same_origin(request) or not cookie or not hmac.compare_digest(token, cookie):
        return await _page(request, error="登录表单已过期或来自其他网站,请重新输入。", status=403)
    db = shared_database()
    try:
        opened = await run_in_threadpool(
            open_session,
            db,
            name,
            password,
            client_address(request),
            request.headers.get("user-agent", ""),
        )
    except SignInError as exc:
        problem = exc.problems[0]
        status = 429 if problem.code == "sign_in_throttled" else 401
        return await _page(request, error=problem.message, status=status, name=name, target=target)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, request, COOKIE, opened.token, opened.max_age)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


async def sign_out_route(request: Request) -> Response:
    """Ends the session (when asked by this site's own page) and clears the cookie."""
    response = RedirectResponse(f"{SIGN_IN}?m=signed_out", status_code=303)
    if _same_origin(request) and _session_token(request):
        await run_in_threadpool(sign_out, shared_database(), _session_token(request))
    response.delete_cookie(COOKIE, path="/")
    return response


async def _page(
    request: Request,
    notice: str = "",
    error: str = "",
    status: int = 200,
    name: str = "",
    target: str | None = None,
) -> Response:
    db = shared_database()
    demo, any_account = await run_in_threadpool(lambda: (demo_logins(db), has_accounts(db)))
    csrf = secrets.token_urlsafe(24)
    target = target or safe_next(request.query_params.get("next"))
    body = sign_in_html(csrf, target, notice, error, name, demo, any_account, _sso_configured())
    response = HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
    _set_cookie(response, request, CSRF_COOKIE, csrf, 3600)
    if _session_token(request) and status == 200:
        response.delete_cookie(COOKIE, path="/")  # whatever it held has ended
    return response


SECURITY_HEADERS = {
    # no script at all on this page; 'self' only so that the app's bundle can be prefetched
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _sso_configured() -> bool:
    """Single sign-on through st.login when .streamlit/secrets.toml has an [auth] section."""
    import streamlit as st

    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def sign_in_html(
    csrf: str,
    target: str,
    notice: str,
    error: str,
    name: str,
    demo: list[dict],
    any_account: bool,
    sso: bool,
) -> str:
    e = html.escape
    tiles = "".join(
        f'<span class="tile" style="background:{hex_};color:'
        f'{"white" if key in ("green", "blue", "red") else "#222"}">{e(text)}</span>'
        for key, text, hex_ in legend()
    )
    parts = [
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>五色图 · 登录</title><style>",
        "body{font-family:'WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;margin:0;",
        "background:#f6f7f9;color:#222}main{max-width:30rem;margin:0 auto;padding:1.5rem 1rem}",
        "h1{font-size:1.6rem;margin:.2rem 0 1rem}label{display:block;margin:.8rem 0 .3rem}",
        "input{box-sizing:border-box;width:100%;font-size:1.05rem;padding:.7rem;min-height:44px;",
        "border:1px solid #bbb;border-radius:6px}button{width:100%;min-height:48px;",
        "margin-top:1.2rem;font-size:1.1rem;background:#c62828;color:white;border:0;",
        "border-radius:6px}.note{padding:.7rem;border-radius:6px;margin:.6rem 0}",
        ".error{background:#fdecea;color:#8a1c1c}.info{background:#e8f0fe}",
        ".warn{background:#fff4e5}.tiles{display:flex;flex-wrap:wrap;gap:4px;margin:.6rem 0}",
        ".tile{padding:6px 10px;border-radius:4px;font-weight:600;font-size:.9rem}",
        "table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid",
        " #ddd;padding:4px;text-align:left}a.sso{display:block;text-align:center;margin-top:1rem}",
        "</style>",
        *(f'<link rel="prefetch" crossorigin href="{e(path)}">' for path in app_bundle()),
        "</head><body><main>",
    ]
    if demo:
        parts.append(
            '<p class="note warn">演示模式:示例区县的虚构数据和公开的演示账户,请勿录入真实数据。</p>'
        )
    parts.append("<h1>五色图 · 登录</h1>")
    if notice:
        parts.append(f'<p class="note info" role="status">{e(notice)}</p>')
    if error:
        parts.append(f'<p class="note error" role="alert">{e(error)}</p>')
    if not any_account:
        parts.append(
            '<p class="note warn">还没有任何账户。请在服务器上用命令行创建第一个管理员账户,例如:'
            "<br><code>fivecolor users add admin --role admin</code><br>"
            "(随后按提示输入两次密码),再刷新本页登录。</p>"
        )
    else:
        parts += [
            f'<form method="post" action="{SIGN_IN}">',
            f'<input type="hidden" name="csrf" value="{e(csrf)}">',
            f'<input type="hidden" name="next" value="{e(target)}">',
            '<label for="name">用户名</label>',
            f'<input id="name" name="name" autocomplete="username" required value="{e(name)}"',
            ' autocapitalize="none" autofocus>',
            '<label for="password">密码</label>',
            '<input id="password" name="password" type="password" required',
            ' autocomplete="current-password">',
            '<button type="submit">登录</button></form>',
        ]
        if sso:
            parts.append(f'<a class="sso" href="/?sso=1&amp;next={quote(target)}">单点登录</a>')
    parts.append("<p>五色图按综合得分和否决项把每个村/社区评为五档:</p>")
    parts.append(f'<div class="tiles">{tiles}</div>')
    if demo:
        parts.append(
            f"<h2>演示账户</h2><p>以下账户的密码都是 <code>{e(demo[0]['password'])}</code>。"
            "正式部署不会创建这些账户。</p><table><tr><th>用户名</th><th>身份</th><th>角色</th></tr>"
        )
        parts += [
            f"<tr><td>{e(d['name'])}</td><td>{e(d['display_name'])}</td><td>{e(d['role'])}</td></tr>"
            for d in demo
        ]
        parts.append("</table>")
    parts.append("</main></body></html>")
    return "".join(parts)


# -- the middleware ------------------------------------------------------------------------------


class RequireSession:
    """A page request (GET, HTML) without a live session goes to the sign-in page with the
    address it asked for. A request that arrives from another site carries no SameSite=Strict
    cookie even when the user is signed in (a link in a chat), so it is let through: the page
    then reads the cookie from its own connection, and asks for sign-in itself if need be."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "/")
        if (
            path.startswith((*OWN_PATHS, API_PATHS, SIGN_IN, SIGN_OUT))
            or "." in path.rsplit("/", 1)[-1]
        ):
            return await self.app(scope, receive, send)
        request = Request(scope)
        if request.headers.get("sec-fetch-site") == "cross-site":
            return await self.app(scope, receive, send)
        if request.query_params.get("sso") == "1" or SSO_COOKIE in request.cookies:
            return await self.app(scope, receive, send)  # st.login's flow; the page checks it
        token = _session_token(request)
        if token and await run_in_threadpool(_live, token):
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"").decode("latin-1")
        wanted = path + (f"?{query}" if query else "")
        response = RedirectResponse(f"{SIGN_IN}?next={quote(wanted, safe='')}", status_code=303)
        if token:
            response.delete_cookie(COOKIE, path="/")
        await response(scope, receive, send)


def _live(token: str) -> bool:
    try:
        current_user(shared_database(), token)
    except SignInError:
        return False
    return True


ROUTES = [
    Route(SIGN_IN, sign_in_page, methods=["GET", "POST"]),
    Route(SIGN_OUT, sign_out_route, methods=["GET", "POST"]),
]
MIDDLEWARE = [Middleware(RequireSession)]
