"""Security headers, CORS (off unless configured) and per-client rate limiting of anonymous
screening. All responses from the limiter are RFC 9457 problems with a stable code.

Every page gets one Content-Security-Policy: scripts only from our own origin (no inline
script on any page: data reaches scripts as JSON), styles only from our own origin plus the
printable report's one ``<style>`` block, allowed by its hash (the report is also printed to
PDF from a file, where a stylesheet link would not resolve).

Only a *valid* bearer token skips the anonymous rate limit: the limiter checks the token
itself (a catalogue lookup on a worker thread) and remembers valid ones for ``TOKEN_TTL_S``
by their sha256, so the lookup is paid rarely; an empty, malformed, unknown or revoked token
counts as anonymous. The route still authenticates every request.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem
from app.settings import Settings
from spatial.render.report import STYLE_HASH
from spatial.tokens import TokenStore

#: how long a valid token is remembered by the limiter (revocation still stops it at once at
#: the route, which looks the token up on every request)
TOKEN_TTL_S = 30.0


def csp(settings: Settings) -> str:
    """The Content-Security-Policy of every response."""
    img_src = "'self' data:"
    if settings.tile_url:
        tiles = urlparse(settings.tile_url)
        img_src += f" {tiles.scheme!s}://{tiles.netloc!s}"
    return (f"default-src 'self'; img-src {img_src}; style-src 'self' '{STYLE_HASH}'; "
            "script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'")


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares configured in ``settings``."""
    limiter = RateLimiter(settings.anonymous_rate_per_minute)

    def token_ok(token: str) -> bool:
        return TokenStore(app.state.runtime.store).check(token) is not None

    app.add_middleware(SecurityHeaders, limiter=limiter, csp=csp(settings),
                       tokens=ValidTokens(token_ok), trust_forwarded=settings.trust_forwarded_for)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization",
                                                                         "Content-Type"])


class ValidTokens:
    """Whether an ``Authorization`` header carries a valid bearer token; valid tokens are
    remembered for ``ttl_s`` (keyed by the token's sha256, never the token itself)."""

    def __init__(self, check: Callable[[str], bool], *, ttl_s: float = TOKEN_TTL_S,
                 max_entries: int = 10_000):
        self.check = check
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._valid: dict[bytes, float] = {}  # sha256 → valid until (monotonic)

    async def valid(self, header: bytes | None) -> bool:
        """True only for ``Bearer <a valid token>``."""
        if not header:
            return False
        scheme, _, token = header.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        key = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        until = self._valid.get(key)
        if until is not None and until > now:
            return True
        try:
            ok = await anyio.to_thread.run_sync(self.check, token)
        except Exception:  # a busy catalogue: not known to be valid (the route will answer)
            ok = False
        if not ok:
            self._valid.pop(key, None)
            return False
        if len(self._valid) >= self.max_entries:  # bound memory
            self._valid.clear()
        self._valid[key] = now + self.ttl_s
        return True


class SecurityHeaders:
    """Security headers on every response, and the anonymous screening rate limit (a pure
    ASGI middleware: it runs on every request)."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, csp: str, tokens: ValidTokens,
                 trust_forwarded: bool):
        self.app = app
        self.limiter = limiter
        self.tokens = tokens
        self.trust_forwarded = trust_forwarded
        self.extra = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                      (b"referrer-policy", b"same-origin"),
                      (b"cross-origin-opener-policy", b"same-origin"),
                      (b"content-security-policy", csp.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = self.extra

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in extra if k not in have)]
            await send(message)

        if (scope["method"] == "POST" and path.rstrip("/") == "/api/v1/screenings"
                and self.limiter.enabled):
            headers = dict(scope["headers"])
            if (not await self.tokens.valid(headers.get(b"authorization"))
                    and not self.limiter.allow(_client(scope, headers, self.trust_forwarded))):
                response = problem(429, "rate_limited", "请求过于频繁，请稍后再试",
                                   "Too many requests; slow down", path)
                response.headers["Retry-After"] = "60"
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


def _client(scope: Scope, headers: dict[bytes, bytes], trust_forwarded: bool) -> str:
    if trust_forwarded and (fwd := headers.get(b"x-forwarded-for")):
        # the rightmost hop was added by our own proxy; the leftmost is the client's to forge
        return fwd.decode("latin-1").split(",")[-1].strip()
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RateLimiter:
    """Token bucket per client: ``per_minute`` requests, refilled continuously; 0 = off."""

    def __init__(self, per_minute: int):
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the limit is off (0 per minute)."""
        return self.rate > 0

    def allow(self, client: str) -> bool:
        """Take one token for ``client``; False when its bucket is empty."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if len(self._buckets) > 100_000:  # bound memory under a flood of addresses
                self._buckets.clear()
            if tokens < 1:
                self._buckets[client] = (tokens, now)
                return False
            self._buckets[client] = (tokens - 1, now)
            return True
