"""Run the service under uvicorn: one process, or ``workers`` processes sharing one socket.

With several workers uvicorn's supervisor binds the listening socket itself and leaves its
``proto`` at 0; accepted connections inherit that, and asyncio then skips ``TCP_NODELAY``, so
every keep-alive response waits on the client's delayed ACK (≈ 40 ms on Linux; uvicorn issue
#3149, measured here: 12 ms → 60 ms per request). We bind the socket as TCP and hand it to
uvicorn's own ``Multiprocess`` supervisor.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.main import create_app
from app.settings import Settings


def tcp_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket whose ``proto`` is IPPROTO_TCP (so TCP_NODELAY applies)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted. Each worker builds its own app (and indexes the layers) from
    the same ``REDLINE_*`` environment; GEOS work is serialised within a process, so workers,
    not threads, use the cores."""
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port)
        return
    config = uvicorn.Config("app.main:create_app", factory=True, host=host, port=port,
                            workers=workers)
    Multiprocess(config, sockets=[tcp_socket(host, port)]).run()
