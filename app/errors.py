"""The one place mapping errors to HTTP: RFC 9457 problem details with a stable code."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from app.pdf import PdfUnavailable
from spatial.errors import (
    AuthError,
    ConflictError,
    DataError,
    ForbiddenError,
    InputError,
    NotFoundError,
    RedlineError,
    RequestTimeout,
    RuleFileError,
    SandboxError,
    StoreBusyError,
    TooLargeError,
)

log = logging.getLogger("redline")

#: Most specific class first.
STATUS: list[tuple[type[RedlineError], int]] = [
    (TooLargeError, 413),
    (InputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (DataError, 422),
    (RuleFileError, 500),
    (StoreBusyError, 503),
    (RequestTimeout, 503),
    (SandboxError, 503),
    (AuthError, 401),
    (PdfUnavailable, 503),
    (ForbiddenError, 403),
]

_HTTP_CODES = {404: ("not_found", "资源不存在", "Not found"),
               405: ("method_not_allowed", "不支持该请求方法", "Method not allowed"),
               413: ("too_large", "请求体过大", "Request body too large"),
               415: ("unsupported_media_type", "不支持的内容类型", "Unsupported media type")}


def problem(status: int, code: str, message_zh: str, message_en: str,
            instance: str | None = None, **extra: Any) -> JSONResponse:
    """An ``application/problem+json`` response."""
    body = {"type": f"/errors/{code}", "title": message_en, "status": status,
            "detail": message_zh, "code": code, "message_zh": message_zh,
            "message_en": message_en, **extra}
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at this path (starlette's 405 names only the methods of
    the first route matching the path: POST of /api/v1/screenings, not its GET). Mounts
    match any method and are left out."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return ", ".join(m for m in _METHODS
                     if any(r.matches({**request.scope, "method": m})[0] is Match.FULL
                            for r in routes))


def install(app: FastAPI) -> None:
    """Register the handlers on an app."""

    @app.exception_handler(RedlineError)
    async def _domain(request: Request, exc: RedlineError) -> JSONResponse:
        status = next((s for cls, s in STATUS if isinstance(exc, cls)), 400)
        return problem(status, exc.code, exc.message_zh, exc.message_en, request.url.path,
                       **({"details": exc.details} if exc.details else {}))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(x) for x in e.get("loc", ())], "msg": e.get("msg", "")}
                  for e in exc.errors()]
        where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
        return problem(422, "request.invalid", f"请求格式不正确：{where}",
                       f"Invalid request: {where}", request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, zh, en = _HTTP_CODES.get(exc.status_code, ("http_error", "请求错误", "HTTP error"))
        response = problem(exc.status_code, code, zh, en, request.url.path)
        if exc.headers:  # e.g. Allow on a 405 (RFC 9110 §15.5.6)
            response.headers.update(exc.headers)
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            response.headers["Allow"] = allowed
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "internal", "服务内部错误，请稍后重试", "Internal server error",
                       request.url.path)
