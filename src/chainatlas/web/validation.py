"""Invalid requests answered in Chinese, in one shape: {"detail": "参数 … 无效：…"} with status 422.

FastAPI answers a request its parameters reject with pydantic's English list of errors, while every other
refusal of this API is a Chinese string in `detail`; clients (and the OpenAPI schema) then had two shapes for
422. This handler gives the first error in Chinese, naming the parameter and the range it must be in, and the
schema's HTTPValidationError says what is really sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError

# A year the reports can compute (the date type ends at 9999; targets and ledgers are kept from 2000 on)
YEAR = Query(None, ge=2000, le=2100, description="年份（2000–2100），默认今年或最近有目标的年份")
PDF = {200: {"content": {"application/pdf": {}}, "description": "PDF 文件"}}
XLSX_FILE = {200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}},
                   "description": "Excel 文件"}}

_WHERE = {"query": "查询参数", "path": "路径参数", "body": "请求内容", "header": "请求头", "cookie": "Cookie"}


def _reason(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "缺少必填项"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "应为整数"
    if kind in ("float_parsing", "float_type"):
        return "应为数字"
    if kind in ("bool_parsing", "bool_type"):
        return "应为 true 或 false"
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return "应为日期（如 2024-10-31）"
    if kind in ("greater_than_equal", "greater_than"):
        return f"应不小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"应不大于 {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_too_long":
        return f"最长 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short":
        return f"至少 {ctx.get('min_length')} 个字符"
    if kind in ("literal_error", "enum"):
        return f"应为以下之一：{ctx.get('expected', '')}"
    if kind == "string_pattern_mismatch":
        return "格式不正确"
    if kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type"):
        return "应为 JSON 对象"
    if kind in ("list_type", "too_long", "too_short"):
        return "列表长度或格式不正确"
    return "格式不正确"


def message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "请求无效。"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    where = _WHERE.get(loc[0], "参数") if loc else "参数"
    name = ".".join(loc[1:]) or where
    more = f"（另有 {len(errors) - 1} 处问题）" if len(errors) > 1 else ""
    return f"{where}“{name}”无效：{_reason(first)}。{more}"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": message(exc)}, status_code=422)

    # A number no column can hold (an id above 2^63): SQLite's driver raises OverflowError, PostgreSQL's a
    # DataError. Either way the request asked for something out of range, and nothing was written.
    # SQLite's one writer is busy (an import's transaction) past CHAINATLAS_SQLITE_BUSY_SECONDS: nothing was
    # written; say so and when to retry, instead of a 500 "database is locked"
    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        if "database is locked" not in str(exc.orig):
            raise exc
        return JSONResponse({"detail": "数据库正忙（可能正在导入大批数据），本次修改未保存，请稍后重试。"},
                            status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "参数超出范围（编号或数值过大），请检查后重试。"}, status_code=422)

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schemas = schema.get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                schemas["HTTPValidationError"] = {
                    "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                    "properties": {"detail": {"title": "Detail", "type": "string", "description": "中文说明"}},
                }
                schemas.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
