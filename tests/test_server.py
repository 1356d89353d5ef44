"""``redline serve --workers N``: several processes on one port, each with a socket of its own
(SO_REUSEPORT, so the kernel spreads connections), with TCP_NODELAY."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx
import psutil
import pytest

from app.server import tcp_socket
from tests.server import PROCESSES, free_port, listening_workers, running_service


def test_the_shared_socket_gives_connections_tcp_nodelay():
    """asyncio enables TCP_NODELAY only on sockets whose proto is TCP (uvicorn issue #3149)."""
    seen: list[int] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):  # type: ignore[no-untyped-def]
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def main() -> None:
        listener = tcp_socket("127.0.0.1", free_port())
        assert listener.proto == socket.IPPROTO_TCP
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.02)
        writer.close()
        server.close()

    asyncio.run(main())
    assert seen and seen[0] != 0


@pytest.mark.slow
def test_two_worker_processes_answer_on_one_port(demo_home):
    with running_service(demo_home, workers=2) as url:
        workers = psutil.Process(PROCESSES[url].pid).children()
        assert len([w for w in workers if "spawn" in " ".join(w.cmdline())]) == 2
        with httpx.Client() as client:
            for _ in range(20):
                r = client.post(f"{url}/api/v1/screenings", json={
                    "site": {"type": "Point", "coordinates": [106.45, 29.61]},
                    "project": {"industry": "C2614"}})
                assert r.status_code == 201


@pytest.mark.slow
def test_each_worker_listens_on_a_socket_of_its_own_and_gets_connections(demo_home):
    """With one shared socket, the worker that wakes first takes a whole burst of connections
    (seen: all 32 of a load generator's connections on one of two workers)."""
    with running_service(demo_home, workers=2) as url:
        port = int(url.rsplit(":", 1)[1])
        listeners = listening_workers(PROCESSES[url].pid, port)
        assert len(listeners) == 2
        a, b = listeners.values()
        assert not a & b  # different sockets, not one shared
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            deadline = 50
            per_worker: dict[int, int] = {}
            while deadline:
                per_worker = {pid: sum(1 for c in psutil.Process(pid).net_connections("tcp")
                                       if c.status == psutil.CONN_ESTABLISHED
                                       and c.laddr.port == port) for pid in listeners}
                if sum(per_worker.values()) == 32:
                    break
                deadline -= 1
                time.sleep(0.1)
            # random spreading: all 32 on one worker has probability 2 × 2⁻³² here
            assert sum(per_worker.values()) == 32 and min(per_worker.values()) > 0, per_worker
        finally:
            for s in socks:
                s.close()


@pytest.mark.slow
def test_a_worker_that_dies_is_replaced(demo_home):
    with running_service(demo_home, workers=2) as url:
        port = int(url.rsplit(":", 1)[1])
        parent = PROCESSES[url].pid
        victim = next(iter(listening_workers(parent, port)))
        psutil.Process(victim).kill()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            now = listening_workers(parent, port)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.5)
        assert len(now) == 2 and victim not in now, now
        r = httpx.get(f"{url}/readyz", timeout=10)
        assert r.status_code == 200


@pytest.mark.slow
def test_workers_that_keep_failing_stop_the_service(tmp_path):
    broken = tmp_path / "not-a-directory"
    broken.write_text("x")
    env = {**os.environ, "REDLINE_HOME": str(broken)}
    proc = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", str(free_port()),
                           "--workers", "2"], env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode != 0
    assert "workers keep exiting" in proc.stderr


@pytest.mark.slow
def test_a_port_in_use_is_refused_with_a_clear_error(demo_home):
    with running_service(demo_home, workers=2) as url:
        port = url.rsplit(":", 1)[1]
        env = {**os.environ, "REDLINE_HOME": str(demo_home)}
        proc = subprocess.run([sys.executable, "-m", "app.cli", "serve", "--port", port,
                               "--workers", "2"], env=env, capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 2
        assert "serve.port_in_use" in proc.stderr
        assert httpx.get(f"{url}/readyz").status_code == 200  # the running one is untouched


@pytest.mark.slow
def test_several_workers_run_with_the_settings_serve_was_given(demo_home, tmp_path):
    """``serve(settings, workers=2)`` hands its settings to every worker: here a 2 000-byte
    body limit that the environment (which names another, empty data directory) does not
    set; every worker refuses a 3 000-byte body with 413 and screens a small one."""
    port = free_port()
    code = ("import sys; from app.server import serve; from app.settings import Settings; "
            f"serve(Settings(home={str(demo_home)!r}, max_body_bytes=2000, "
            f"anonymous_rate_per_minute=0), '127.0.0.1', {port}, workers=2)")
    env = {**os.environ, "REDLINE_HOME": str(tmp_path / "other"), "REDLINE_SEED_DEMO": "false"}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while len(listening_workers(proc.pid, port)) < 2:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.3)
        small = {"site": {"type": "Point", "coordinates": [106.45, 29.61]},
                 "project": {"industry": "C2614", "nature": "new"}}
        big = {**small, "project": {**small["project"], "name": "x" * 150}}
        big["site"] = {"type": "Feature", "geometry": small["site"],
                       "properties": {"note": "y" * 3000}}
        for _ in range(12):  # a new connection each time: the kernel spreads them over both
            assert httpx.post(f"{url}/api/v1/screenings", json=big).status_code == 413
            assert httpx.post(f"{url}/api/v1/screenings", json=small).status_code == 201
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not (tmp_path / "other").exists()  # no worker opened the environment's directory
