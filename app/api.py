"""The HTTP API for other systems, under ``/api/v1`` on the app's own server (routes of its
``st.App``): grades, a unit's explanation, tasks, the monthly briefing's tables, and uploads of
monthly tables and of exports, with exactly the checks and problem lists of the pages.

A call carries ``Authorization: Bearer <token>``; the token acts as the account it was made for
(``fivecolor tokens add NAME --for ACCOUNT``), through the same service as the pages, so the
account's role and scope decide everything. No token or a bad one: 401 without detail; a role
that may not: 403; a unit outside the scope: 404, as if it did not exist. Every call is in the
audit log; each token has a rate limit (``FIVECOLOR_API_PER_MINUTE``, default 120); a body is
refused past the upload limit (``FIVECOLOR_MAX_UPLOAD_MB``) before it is read whole.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import time
from collections import defaultdict, deque

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api_spec import openapi
from app.server import client_address, shared_database
from assessment.intake.limits import Limits
from assessment.outputs.exports import parquet_bytes, table_csv_bytes
from assessment.problems import Problem, ProblemsError
from assessment.service import Denied, Service, event_imports
from assessment.service.api_tokens import audit_call, calls_per_minute, principal_for

LOG = logging.getLogger("fivecolor.api")
API = "/api/v1"
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PARQUET = "application/vnd.apache.parquet"
PAGE, MAX_PAGE = 10_000, 100_000  # rows of a JSON answer; CSV and Parquet carry the whole table


class NotFound(Exception):
    pass


class BadRequest(Exception):
    pass


class TooLarge(Exception):
    pass


# -- calls per token -----------------------------------------------------------------------


class Limiter:
    """At most ``per_minute`` calls per token in any sliding minute (per server process)."""

    def __init__(self) -> None:
        self.calls: dict[str, deque] = defaultdict(deque)
        self.lock = threading.Lock()

    def wait(self, token: str) -> int:
        """0 when the call may go ahead (it is counted), else the seconds to wait."""
        per_minute = calls_per_minute()
        now = time.monotonic()
        with self.lock:
            calls = self.calls[token]
            while calls and now - calls[0] >= 60:
                calls.popleft()
            if len(calls) >= per_minute:
                return max(1, math.ceil(60 - (now - calls[0])))
            calls.append(now)
            return 0


LIMITER = Limiter()


# -- one call --------------------------------------------------------------------------------


def endpoint(handler):
    """Authenticate, limit, run ``handler(svc, request, body)`` in a thread, answer, and leave
    the call in the audit log (who, method, path, status)."""

    async def call(request: Request) -> Response:
        db = await run_in_threadpool(shared_database)
        secret = request.headers.get("authorization", "")
        secret = secret[7:].strip() if secret.lower().startswith("bearer ") else ""
        found = await run_in_threadpool(principal_for, db, secret) if secret else None
        if found is None:
            await run_in_threadpool(_audit, db, "(无有效令牌)", request, 401, "")
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        user, token = found
        wait = LIMITER.wait(token)
        if wait:
            await run_in_threadpool(_audit, db, user.name, request, 429, token)
            return JSONResponse(
                {"error": "too_many_requests", "message": f"调用过于频繁,请 {wait} 秒后再试"},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        try:
            body = await _body(request) if request.method == "POST" else b""
            response = await run_in_threadpool(handler, Service(db, user), request, body)
        except TooLarge as exc:
            response = _error(413, "too_large", str(exc))
        except BadRequest as exc:
            response = _error(400, "bad_request", str(exc))
        except NotFound as exc:
            response = _error(404, "not_found", str(exc))
        except Denied as exc:
            response = _error(403, "forbidden", exc.problems[0].message)
        except ProblemsError as exc:
            response = JSONResponse({"problems": problems(exc.problems)}, status_code=422)
        except Exception:  # a bug must not leak a traceback; the server log keeps it
            LOG.exception("API call failed: %s %s", request.method, request.url.path)
            response = _error(500, "internal", "服务内部错误,已记入日志")
        await run_in_threadpool(_audit, db, user.name, request, response.status_code, token)
        return response

    return call


def _audit(db, who: str, request: Request, status: int, token: str) -> None:
    audit_call(
        db,
        who,
        method=request.method,
        path=request.url.path[:200],
        query=str(request.url.query)[:200],
        status=status,
        token=token,
        address=client_address(request),
    )


async def _body(request: Request) -> bytes:
    """The request body, refused past the upload limit (by its length when it says, and by
    what arrives when it does not)."""
    limit = Limits.from_env().max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"请求体超过上传上限 {limit // 2**20} MB(FIVECOLOR_MAX_UPLOAD_MB)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"请求体超过上传上限 {limit // 2**20} MB(FIVECOLOR_MAX_UPLOAD_MB)")
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def problems(found: list[Problem]) -> list[dict]:
    keys = ("code", "severity", "row", "column", "value", "message", "file", "more")
    return [{k: getattr(p, k) for k in keys} for p in found]


def _plain(value):
    """JSON has no NaN: null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    frame = frame.astype(object).where(frame.notna(), None)
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def table_response(request: Request, frame: pd.DataFrame, name: str, meta: dict) -> Response:
    """JSON (``meta``, a page of ``rows``: ``offset``, ``limit``, ``total``, ``next``), or the
    whole table as CSV (``Accept: text/csv`` or
    ``format=csv``: UTF-8 with BOM, every cell inert in Excel/WPS) or as Parquet."""
    wanted = request.query_params.get("format", "")
    accept = request.headers.get("accept", "")
    if wanted == "csv" or (not wanted and "text/csv" in accept):
        return Response(
            table_csv_bytes(frame),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if wanted == "parquet" or (not wanted and PARQUET in accept):
        return Response(
            parquet_bytes(frame),
            media_type=PARQUET,
            headers={"Content-Disposition": f'attachment; filename="{name}.parquet"'},
        )
    if wanted not in ("", "json"):
        raise BadRequest("format 须为 json、csv 或 parquet")
    offset, limit = _number(request, "offset", 0), _number(request, "limit", PAGE)
    if limit < 1 or limit > MAX_PAGE:
        raise BadRequest(f"limit 须在 1 到 {MAX_PAGE} 之间(整表请用 format=csv 或 parquet)")
    page = frame.iloc[offset : offset + limit]
    after = offset + len(page)
    paging = {"total": len(frame), "offset": offset, "limit": limit}
    paging["next"] = after if after < len(frame) else None
    return JSONResponse({**meta, **paging, "rows": records(page)})


def _number(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest(f"{name} 须为非负整数")
    return int(raw)


def _period(svc: Service, request: Request) -> str:
    view = svc.view()
    period = request.query_params.get("period") or (view.periods[-1] if view.periods else "")
    if not PERIOD.match(period):
        raise BadRequest("period 须写成 YYYY-MM,如 2026-10")
    if period not in view.periods:
        raise NotFound(f"没有 {period} 的数据。已有的月份: {', '.join(view.periods) or '无'}")
    return period


def _unit(svc: Service, code: str) -> str:
    view = svc.view()
    if (view.allowed is not None and code not in view.allowed) or code not in view.names:
        raise NotFound(f"没有单位 {code[:32]}")  # outside the scope: as if it did not exist
    return code


# -- the endpoints ---------------------------------------------------------------------------


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def spec(request: Request) -> Response:
    return JSONResponse(openapi())


def grades(svc: Service, request: Request, body: bytes) -> Response:
    view = svc.view()
    period = _period(svc, request)
    parent = request.query_params.get("parent") or None
    if parent is not None:
        _unit(svc, parent)
    level_name = request.query_params.get("level")
    if level_name is None:  # the graded units, with every column of `fivecolor grade`
        frame = view.under(view.table(period), parent)
        level_name = view.levels()[-1].name
    else:
        levels = {lv.name: lv for lv in view.levels()}
        if level_name not in levels:
            raise BadRequest(f"level 须为以下之一: {', '.join(levels)}")
        frame = view.tiles(period, levels[level_name].index, parent).drop(columns=["group_name"])
    meta = {"period": period, "level": level_name, "parent": parent, "count": len(frame)}
    return table_response(request, frame.reset_index(drop=True), f"grades_{period}", meta)


def explain(svc: Service, request: Request, body: bytes) -> Response:
    from assessment.insight.explanation import explanation_json

    code = _unit(svc, request.path_params["code"])
    period = _period(svc, request)
    found = svc.view().explain(code, period)
    if found is None:
        raise NotFound(f"单位 {code} 在 {period} 没有评定")
    return JSONResponse(explanation_json(found))  # plain data already: no NaN, no numpy


def unit_events(svc: Service, request: Request, body: bytes) -> Response:
    """The events behind a unit's derived values (the tickets its 12345 rates count)."""
    code = _unit(svc, request.path_params["code"])
    period = _period(svc, request)
    source = request.query_params.get("source", "")
    known = {s.source.id for s in event_imports.sources(svc)}
    if source not in known:
        raise BadRequest(f"source 须为以下之一: {', '.join(sorted(known)) or '(无)'}")
    frame = event_imports.events_of(svc, code, period, source)
    meta = {"unit_code": code, "period": period, "source": source, "count": len(frame)}
    return table_response(request, frame, f"events_{source}_{code}_{period}", meta)


def tasks(svc: Service, request: Request, body: bytes) -> Response:
    status = request.query_params.get("status") or None
    frame = svc.tasks(status)
    return table_response(request, frame, "tasks", {"status": status, "count": len(frame)})


BRIEFING_TABLES = ("counts", "summary", "units", "borderline", "warning", "overdue")


def briefing(svc: Service, request: Request, body: bytes) -> Response:
    period = _period(svc, request)
    made = svc.briefing(period)
    table = request.query_params.get("table", "")
    if table:
        if table not in BRIEFING_TABLES:
            raise BadRequest(f"table 须为以下之一: {', '.join(BRIEFING_TABLES)}")
        frame = getattr(made, table)
        meta = {"title": made.title, "period": period, "table": table}
        return table_response(request, frame, f"briefing_{table}_{period}", meta)
    return JSONResponse(
        {
            "title": made.title,
            "period": period,
            "previous": made.previous,
            "summary_level": made.summary_level,
            **{name: records(getattr(made, name)) for name in BRIEFING_TABLES},
        }
    )


def _upload_answer(out) -> Response:
    answer = {
        "upload_id": out.upload_id,
        "status": out.status,
        "rows": out.rows,
        "changes": len(out.changes),
        "problems": problems(out.problems),
    }
    return JSONResponse(answer, status_code=200 if out.ok else 422)


def _filename(request: Request, default: str) -> str:
    name = request.query_params.get("filename") or request.headers.get("x-filename") or default
    return name[:255]


def upload(svc: Service, request: Request, body: bytes) -> Response:
    period = request.query_params.get("period") or None
    if period is not None and not PERIOD.match(period):
        raise BadRequest("period 须写成 YYYY-MM,如 2026-10")
    out = svc.upload(body, _filename(request, "api.csv"), period)
    return _upload_answer(out)


def events(svc: Service, request: Request, body: bytes) -> Response:
    period = request.query_params.get("period") or None
    if period is not None and not PERIOD.match(period):
        raise BadRequest("period 须写成 YYYY-MM,如 2026-10")
    source = request.path_params["source"][:64]
    out = event_imports.import_export(svc, body, _filename(request, "api.csv"), source, period)
    return _upload_answer(out)


ROUTES = [
    Route(f"{API}/health", health, methods=["GET"]),
    Route(f"{API}/openapi.json", spec, methods=["GET"]),
    Route(f"{API}/grades", endpoint(grades), methods=["GET"]),
    Route(f"{API}/units/{{code}}/explain", endpoint(explain), methods=["GET"]),
    Route(f"{API}/units/{{code}}/events", endpoint(unit_events), methods=["GET"]),
    Route(f"{API}/tasks", endpoint(tasks), methods=["GET"]),
    Route(f"{API}/briefing", endpoint(briefing), methods=["GET"]),
    Route(f"{API}/uploads", endpoint(upload), methods=["POST"]),
    Route(f"{API}/events/{{source}}", endpoint(events), methods=["POST"]),
]
