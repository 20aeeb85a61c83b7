"""The OpenAPI 3.1 description of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

PERIOD = {
    "name": "period",
    "in": "query",
    "schema": {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
    "description": "月份 YYYY-MM(默认最新月份)",
}
PAGING = [
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 10000},
        "description": "JSON 每页行数;CSV、Parquet 为整表",
    },
]
FORMAT = {
    "name": "format",
    "in": "query",
    "schema": {"enum": ["json", "csv", "parquet"]},
    "description": "或用 Accept: text/csv / application/vnd.apache.parquet",
}
ERRORS = {
    "401": {"description": "没有令牌或令牌无效、已撤销、已过期(不说明原因)"},
    "403": {"description": "令牌所属账户的角色无权这样做"},
    "404": {"description": "没有该月份,或没有该单位(含不在管辖范围内的单位)"},
    "429": {"description": "调用过于频繁(见 Retry-After)"},
}
PROBLEM = {
    "type": "object",
    "properties": {
        k: {"type": ["string", "integer", "null"]}
        for k in ("code", "severity", "row", "column", "value", "message", "file", "more")
    },
}
UPLOADED = {
    "200": {"description": "已导入(imported)或与之前的文件相同(unchanged)"},
    "413": {"description": "请求体超过上传上限(FIVECOLOR_MAX_UPLOAD_MB)"},
    "422": {
        "description": "未通过检查,一行也未导入;problems 列出全部问题(与上传页相同)",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "upload_id": {"type": "integer"},
                        "status": {"enum": ["imported", "unchanged", "rejected"]},
                        "rows": {"type": "integer"},
                        "changes": {"type": "integer"},
                        "problems": {"type": "array", "items": PROBLEM},
                    },
                }
            }
        },
    },
}
FILE_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}
        },
    },
}
FILENAME = {"name": "filename", "in": "query", "schema": {"type": "string"}}


def _get(summary: str, params: list, extra: dict | None = None) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {"200": {"description": "成功"}, **ERRORS, **(extra or {})},
        }
    }


def openapi() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "五色图 API",
            "version": "1",
            "description": "令牌代表一个账户,按该账户的角色和管辖范围返回数据、执行操作;"
            "每次调用都记入审计日志。见 docs/API.md。",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": PROBLEM},
        },
        "security": [{"token": []}],
        "paths": {
            "/health": {
                "get": {
                    "summary": "服务是否在运行(无需令牌)",
                    "security": [],
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/grades": _get(
                "某月各单位的得分和等级",
                [
                    PERIOD,
                    {"name": "level", "in": "query", "schema": {"type": "string"}},
                    {"name": "parent", "in": "query", "schema": {"type": "string"}},
                    FORMAT,
                    *PAGING,
                ],
            ),
            "/units/{code}/explain": _get(
                "一个单位为什么是这个颜色",
                [{"name": "code", "in": "path", "required": True}, PERIOD],
            ),
            "/units/{code}/events": _get(
                "一个单位某月由事件计算的指标背后的事件(如12345工单)",
                [
                    {"name": "code", "in": "path", "required": True},
                    PERIOD,
                    {"name": "source", "in": "query", "required": True},
                    FORMAT,
                ],
            ),
            "/tasks": _get(
                "督办事项",
                [{"name": "status", "in": "query", "schema": {"type": "string"}}, FORMAT],
            ),
            "/briefing": _get(
                "月度简报的各张表",
                [
                    PERIOD,
                    {
                        "name": "table",
                        "in": "query",
                        "schema": {
                            "enum": [
                                "counts",
                                "summary",
                                "units",
                                "borderline",
                                "warning",
                                "overdue",
                            ]
                        },
                    },
                    FORMAT,
                ],
            ),
            "/uploads": {
                "post": {
                    "summary": "上传月度指标表(CSV/XLSX),检查与上传页相同",
                    "parameters": [PERIOD, FILENAME],
                    "requestBody": FILE_BODY,
                    "responses": {**UPLOADED, **ERRORS},
                }
            },
            "/events/{source}": {
                "post": {
                    "summary": "上传其他系统的导出(每行一个事件),按规则集计算指标",
                    "parameters": [
                        {"name": "source", "in": "path", "required": True},
                        PERIOD,
                        FILENAME,
                    ],
                    "requestBody": FILE_BODY,
                    "responses": {**UPLOADED, **ERRORS},
                }
            },
        },
    }
