"""``redline serve --workers N``: several processes on one socket, with TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket

import httpx
import psutil

from app.server import tcp_socket
from tests.server import PROCESSES, free_port, running_service


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
