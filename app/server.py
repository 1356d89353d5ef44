"""Run the service under uvicorn: one process, or ``workers`` processes on one port.

Each worker process listens on a socket of its own, bound to the same port with
``SO_REUSEPORT``, so the kernel spreads new connections over the workers. With one socket
shared by all workers (uvicorn's ``--workers``), the worker that happens to wake first accepts
every connection waiting at that moment: a burst of keep-alive connections (a load generator,
a proxy's upstream pool) can land on one worker while the other idles: one in three benchmark
runs here ran at half the throughput.

Sockets are created as TCP (``IPPROTO_TCP``): asyncio enables ``TCP_NODELAY`` only on such
sockets, and without it every keep-alive response waits on the client's delayed ACK (≈ 40 ms;
uvicorn issue #3149, measured here: 12 ms → 60 ms per request).

Where the platform has no ``SO_REUSEPORT``, the workers share one socket under uvicorn's own
``Multiprocess`` supervisor.

uvicorn believes ``X-Forwarded-For``/``X-Forwarded-Proto`` from 127.0.0.1 by default
(``proxy_headers=True``), which let any local client pick its own address, and so a fresh
rate-limit bucket per request. Forwarded headers are believed only when the setting
``trust_forwarded_for`` is on (then from ``FORWARDED_ALLOW_IPS``, by default 127.0.0.1).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import signal
import socket
import time
from collections import deque
from multiprocessing.process import BaseProcess

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.main import create_app
from app.settings import Settings
from spatial.errors import InputError

log = logging.getLogger("redline.server")

#: more restarts than this (per worker) within RESTART_WINDOW_S stop the service (a broken setup, e.g. an
#: unreadable data directory, would otherwise restart its workers for ever)
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0


def tcp_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to (host, port) whose ``proto`` is IPPROTO_TCP (so TCP_NODELAY
    applies); with ``reuse_port``, other processes may bind the same port too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted. Each worker builds its own app (and indexes the layers) from
    ``settings`` (passed to each worker process); GEOS work is serialised within a process, so
    workers, not threads, use the cores. Only where the platform lacks ``SO_REUSEPORT`` do the
    workers (uvicorn's ``Multiprocess``, which takes an import string) read their settings
    from the ``REDLINE_*`` environment instead."""
    proxy = settings.trust_forwarded_for
    if workers <= 1:
        uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=proxy)
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        config = uvicorn.Config("app.main:create_app", factory=True, host=host, port=port,
                                workers=workers, proxy_headers=proxy)
        Multiprocess(config, sockets=[tcp_socket(host, port)]).run()
        return
    # the port is checked and taken here first, so a port in use fails at once and not in
    # every worker; SO_REUSEPORT would let a second instance bind next to a running one
    if _answers(host, port):
        raise InputError(f"端口 {host}:{port} 已有服务在监听", f"{host}:{port} is already in use",
                         code="serve.port_in_use")
    try:
        probe = tcp_socket(host, port, reuse_port=True)
    except OSError as exc:
        raise InputError(f"无法监听 {host}:{port}：{exc.strerror or exc}",
                         f"Cannot listen on {host}:{port}: {exc.strerror or exc}",
                         code="serve.port_in_use") from exc
    try:
        _supervise(settings, host, probe.getsockname()[1], workers)  # port 0: the one it was given
    finally:
        probe.close()


def _answers(host: str, port: int) -> bool:
    """Whether something already accepts connections on (host, port)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


def _worker(settings: Settings, host: str, port: int) -> None:
    """One worker process: its own socket on the shared port, its own app."""
    sock = tcp_socket(host, port, reuse_port=True)
    config = uvicorn.Config(create_app(settings), proxy_headers=settings.trust_forwarded_for)
    uvicorn.Server(config).run(sockets=[sock])


def _supervise(settings: Settings, host: str, port: int, workers: int) -> None:
    """Start the workers, restart one that dies, stop them all on SIGINT/SIGTERM."""
    ctx = mp.get_context("spawn")
    stop = failed = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)

    def start() -> BaseProcess:
        proc = ctx.Process(target=_worker, args=(settings, host, port), name="redline-worker")
        proc.start()
        return proc

    procs = [start() for _ in range(workers)]
    restarts: deque[float] = deque()
    log.info("redline: %d worker processes on %s:%d (SO_REUSEPORT)", workers, host, port)
    try:
        while not stop:
            time.sleep(0.5)
            for k, proc in enumerate(procs):
                if proc.is_alive() or stop:
                    continue
                now = time.monotonic()
                while restarts and now - restarts[0] > RESTART_WINDOW_S:
                    restarts.popleft()
                if len(restarts) >= MAX_RESTARTS * workers:
                    log.error("workers keep exiting (last: %s with %s); stopping", proc.pid,
                              proc.exitcode)
                    stop = failed = True
                    break
                log.warning("worker %s exited with %s; starting a new one", proc.pid,
                            proc.exitcode)
                restarts.append(now)
                procs[k] = start()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # uvicorn finishes the requests in flight on SIGTERM
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    if failed:
        raise SystemExit("工作进程反复退出，服务已停止 / workers keep exiting; service stopped")
