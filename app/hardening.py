"""Security headers, CORS (off unless configured) and per-client rate limiting of anonymous
screening. All responses from the limiter are RFC 9457 problems with a stable code."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from app.errors import problem
from app.settings import Settings

Handler = Callable[[Request], Awaitable[Response]]


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

    @app.middleware("http")
    async def _headers(request: Request, call_next: Handler) -> Response:
        path = request.url.path
        if (request.method == "POST" and path.rstrip("/") == "/api/v1/screenings"
                and "authorization" not in request.headers
                and not limiter.allow(_client(request, settings.trust_forwarded_for))):
            response: Response = problem(
                429, "rate_limited", "请求过于频繁，请稍后再试", "Too many requests; slow down", path)
            response.headers["Retry-After"] = "60"
        else:
            response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if path not in ("/docs", "/redoc"):  # Swagger UI loads its own assets
            response.headers.setdefault("Content-Security-Policy",
                                        csp_map if path.endswith("/map") else csp_page)
        return response

    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization",
                                                                         "Content-Type"])


def _client(request: Request, trust_forwarded: bool) -> str:
    if trust_forwarded and (fwd := request.headers.get("x-forwarded-for")):
        # the rightmost hop was added by our own proxy; the leftmost is the client's to forge
        return fwd.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"


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
