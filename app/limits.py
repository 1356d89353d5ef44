"""Request size limits and, on the large-limit routes, authentication, both enforced before a
body is read (a pure ASGI middleware: it runs on every request, so it must cost next to nothing).

No body is buffered here. A declared ``Content-Length`` over the limit is refused at once; a
chunked body streams through to the route, its bytes counted as they pass, and is cut off
with a 413 as soon as it passes the limit. Only its first ``HOLD_BYTES`` are held back until
they are complete, so a small request whose client leaves mid-body reaches no route.
"""

from __future__ import annotations

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import STATUS, problem
from spatial.errors import RedlineError
from spatial.tokens import TokenStore

_WITH_BODY = ("POST", "PUT", "PATCH")
#: the start of a chunked body that is read before the route is called
HOLD_BYTES = 64 * 1024


class _BodyTooLarge(Exception):
    """Raised into the route when its streamed body passes the limit."""


class BodyLimit:
    """Refuse requests whose declared or streamed body exceeds the limit with a 413.

    ``larger`` maps path prefixes (layer uploads, batches) to their own, larger limits; those
    routes all need a token, and a request to one with a body is let in only with a valid
    bearer token (401 otherwise), checked before a byte of its body is read.
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
        if max_bytes > self.default_bytes and method in _WITH_BODY:
            refusal = await _authenticate(scope, headers.get(b"authorization", b""))
            if refusal is not None:
                await refusal(scope, receive, send)
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
        await self._stream(scope, receive, send, max_bytes, too_big)

    async def _stream(self, scope: Scope, receive: Receive, send: Send, max_bytes: int,
                      too_big: Response) -> None:
        """Hand a chunked body on as it arrives, counted; a 413 once it passes ``max_bytes``."""
        held: list[bytes] = []
        seen, more = 0, True
        while more and seen < HOLD_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: nothing to answer
            body = message.get("body", b"")
            seen += len(body)
            if seen > max_bytes:
                await too_big(scope, receive, send)
                return
            held.append(body)
            more = message.get("more_body", False)
        first: list[Message] = [{"type": "http.request", "body": b"".join(held),
                                 "more_body": more}]
        held.clear()
        over = started = False

        async def counted() -> Message:
            nonlocal seen, over
            if first:
                return first.pop()
            if over:
                raise _BodyTooLarge
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    over = True
                    raise _BodyTooLarge  # the route stops reading; the 413 is sent below
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return  # whatever the route makes of a body cut off, the answer is the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            await too_big(scope, receive, send)


async def _authenticate(scope: Scope, header: bytes) -> Response | None:
    """None when ``header`` holds a valid, unrevoked bearer token; else the 401 to send.

    The same rules as ``app.security.caller`` (which checks the role later): an empty header
    is no token at all, anything but a known ``Bearer`` token is an invalid one.
    """
    path = scope["path"]
    scheme, _, token = header.decode("latin-1").strip().partition(" ")
    if not scheme:
        return problem(401, "auth.required", "此操作需要授权令牌(Authorization: Bearer …)",
                       "This operation needs a bearer token", path)
    if scheme.lower() == "bearer" and token.strip():
        store = scope["app"].state.runtime.store
        try:
            info = await anyio.to_thread.run_sync(TokenStore(store).check, token.strip())
        except RedlineError as exc:  # e.g. the catalogue is busy
            status = next((s for cls, s in STATUS if isinstance(exc, cls)), 400)
            return problem(status, exc.code, exc.message_zh, exc.message_en, path)
        if info is not None:
            return None
    return problem(401, "auth.invalid", "令牌无效或已撤销", "Invalid or revoked token", path)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """Request headers by lower-case name (ASGI already lower-cases them)."""
    return dict(scope["headers"])
