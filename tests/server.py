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

#: url → server process, for tests that inspect the server (e.g. its memory).
PROCESSES: dict[str, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        PROCESSES[url] = proc
        yield url
    finally:
        PROCESSES.pop(url, None)
        proc.terminate()
        proc.wait(timeout=10)
