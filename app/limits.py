"""Request size limits, enforced before a body is read into memory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from app.errors import problem


def limit_body(app: FastAPI, default_bytes: int, larger: dict[str, int] | None = None) -> None:
    """Refuse requests whose declared or streamed body exceeds the limit with a 413.

    ``larger`` maps path prefixes (layer uploads) to their own, larger limits.
    """

    @app.middleware("http")
    async def _limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                     ) -> Response:
        path = request.url.path
        max_bytes = next((n for prefix, n in (larger or {}).items() if path.startswith(prefix)),
                         default_bytes)
        if (max_bytes > default_bytes and request.method in ("POST", "PUT", "PATCH")
                and "authorization" not in request.headers):
            # the large-limit routes all need a token: refuse before buffering anything
            return problem(401, "auth.required", "此操作需要授权令牌(Authorization: Bearer …)",
                           "This operation needs a bearer token", path)
        declared = request.headers.get("content-length")
        too_big = problem(413, "request.too_large", f"请求体超过 {max_bytes // 1024 // 1024} MB 上限",
                          "Request body exceeds the size limit", request.url.path)
        if declared is not None:
            if not declared.isdigit():
                return problem(400, "request.bad_length", "Content-Length 无效",
                               "Invalid Content-Length", request.url.path)
            if int(declared) > max_bytes:
                return too_big
        elif request.method in ("POST", "PUT", "PATCH"):
            # chunked upload without a length: read it here, bounded, and refuse when over
            body = bytearray()
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > max_bytes:
                    return too_big
            request._body = bytes(body)  # starlette re-serves the cached body downstream
        return await call_next(request)
