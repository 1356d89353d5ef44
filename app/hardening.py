"""Security headers, CORS (off unless configured) and per-client rate limiting of anonymous
screening. All responses from the limiter are RFC 9457 problems with a stable code."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import problem
from app.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares configured in ``settings``."""
    img_src = "'self' data:"
    if settings.tile_url:
        tiles = urlparse(settings.tile_url)
        img_src += f" {tiles.scheme!s}://{tiles.netloc!s}"
    csp_page = (f"default-src 'self'; img-src {img_src}; style-src 'self' 'unsafe-inline'; "
                "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
    # the folium map preview inlines its scripts
    csp_map = csp_page.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
    limiter = RateLimiter(settings.anonymous_rate_per_minute)

    app.add_middleware(SecurityHeaders, limiter=limiter, csp_page=csp_page, csp_map=csp_map,
                       trust_forwarded=settings.trust_forwarded_for)

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization",
                                                                         "Content-Type"])


class SecurityHeaders:
    """Security headers on every response, and the anonymous screening rate limit (a pure
    ASGI middleware: it runs on every request)."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, csp_page: str, csp_map: str,
                 trust_forwarded: bool):
        self.app = app
        self.limiter = limiter
        self.trust_forwarded = trust_forwarded
        base = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin")]
        csp = b"content-security-policy"
        self.extra = {"page": [*base, (csp, csp_page.encode())],
                      "map": [*base, (csp, csp_map.encode())], "docs": base}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        extra = self.extra["docs" if path in ("/docs", "/redoc")  # Swagger UI loads its assets
                           else "map" if path.endswith("/map") else "page"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in extra if k not in have)]
            await send(message)

        headers = dict(scope["headers"])
        if (scope["method"] == "POST" and path.rstrip("/") == "/api/v1/screenings"
                and b"authorization" not in headers
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
