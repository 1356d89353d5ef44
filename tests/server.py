"""Start the real service (uvicorn in a subprocess) for tests that need a network peer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

#: url → server process, for tests that inspect the server (e.g. its memory).
PROCESSES: dict[str, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_workers(pid: int, port: int) -> dict[int, set[int]]:
    """Child processes of ``pid`` that listen on ``port``: pid → inodes of those sockets."""
    out: dict[int, set[int]] = {}
    for child in psutil.Process(pid).children(recursive=True):
        try:
            fds = {c.fd for c in child.net_connections(kind="tcp")
                   if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port}
            inodes = {os.stat(f"/proc/{child.pid}/fd/{fd}").st_ino for fd in fds}
        except (psutil.Error, OSError):
            continue
        if inodes:
            out[child.pid] = inodes
    return out


@contextmanager
def running_service(home: Path, extra_env: dict[str, str] | None = None, *,
                    workers: int = 1) -> Iterator[str]:
    """``redline serve`` on a free port with REDLINE_HOME=home; yields the base URL."""
    port = free_port()
    env = {**os.environ, "REDLINE_HOME": str(home), "REDLINE_ANONYMOUS_RATE_PER_MINUTE": "0",
           **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port),
                             "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"service did not start: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.3)
        while workers > 1 and len(listening_workers(proc.pid, port)) < workers:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("not every worker started")
            time.sleep(0.3)
        PROCESSES[url] = proc
        yield url
    finally:
        PROCESSES.pop(url, None)
        proc.terminate()
        proc.wait(timeout=10)
