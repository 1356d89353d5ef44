"""Request size limits, enforced before a body is read into memory (a pure ASGI middleware:
it runs on every request, so it must cost next to nothing)."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem

_WITH_BODY = ("POST", "PUT", "PATCH")


class BodyLimit:
    """Refuse requests whose declared or streamed body exceeds the limit with a 413.

    ``larger`` maps path prefixes (layer uploads) to their own, larger limits.
    """

    def __init__(self, app: ASGIApp, default_bytes: int, larger: dict[str, int] | None = None):
        self.app = app
        self.default_bytes = default_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        headers = _headers(scope)
        max_bytes = next((n for prefix, n in self.larger.items() if path.startswith(prefix)),
                         self.default_bytes)
        if max_bytes > self.default_bytes and method in _WITH_BODY \
                and b"authorization" not in headers:
            # the large-limit routes all need a token: refuse before buffering anything
            await problem(401, "auth.required", "此操作需要授权令牌(Authorization: Bearer …)",
                          "This operation needs a bearer token", path)(scope, receive, send)
            return
        too_big = problem(413, "request.too_large", f"请求体超过 {max_bytes // 1024 // 1024} MB 上限",
                          "Request body exceeds the size limit", path)
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem(400, "request.bad_length", "Content-Length 无效",
                              "Invalid Content-Length", path)(scope, receive, send)
            elif int(declared) > max_bytes:
                await too_big(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if method not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        # chunked upload without a length: read it here, bounded, and refuse when over
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: nothing to answer
            body.extend(message.get("body", b""))
            if len(body) > max_bytes:
                await too_big(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """Request headers by lower-case name (ASGI already lower-cases them)."""
    return dict(scope["headers"])


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body downstream once, then waits as before."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: Any = await receive()
        return message  # http.disconnect

    return again
