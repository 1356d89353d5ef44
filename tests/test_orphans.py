"""Batch worker processes die with the service: after ``kill -9`` of ``redline serve`` running
a batch job, none of its pool workers is left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest

from spatial.backup import backup, restore
from spatial.layers.store import LayerStore
from spatial.tokens import TokenStore
from tests.server import PROCESSES, running_service

T = TypeVar("T")


def _workers(pid: int) -> list[psutil.Process]:
    """The multiprocessing children (pool workers, resource tracker) of ``pid``."""
    out = []
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "multiprocessing" in " ".join(child.cmdline()):
                out.append(child)
    return out


def _alive(proc: psutil.Process) -> bool:
    """Running, and not a zombie waiting to be reaped (in a container pid 1 may never reap)."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_for(predicate: Callable[[], T], timeout: float, what: str) -> T:
    """Poll ``predicate`` until it returns something true, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_batch_workers_die_with_a_killed_service(tmp_path: Path, demo_home: Path) -> None:
    backup(LayerStore(demo_home), tmp_path / "bk")
    home = tmp_path / "home"
    restore(tmp_path / "bk", home)
    token, _ = TokenStore(LayerStore(home)).create("孤儿测试", "reviewer", actor="tests")
    # enough sites that the job is still running when it is killed (≈ 2 000 sites/s)
    sites = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": i},
         "geometry": {"type": "Point", "coordinates": [106.30 + (i % 300) * 1e-4,
                                                       29.60 + (i // 300) * 1e-4]}}
        for i in range(120_000)]}
    orphans: list[psutil.Process] = []
    with running_service(home, {"REDLINE_BATCH_WORKERS": "2"}) as url:
        server = PROCESSES[url]
        r = httpx.post(f"{url}/api/v1/screenings/batch?mode=job", timeout=120,
                       json={"sites": sites, "project": {"industry": "K7010", "nature": "new"},
                             "radius_m": 20},
                       headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 202, r.text
        job = r.json()["links"]["self"]

        def screening() -> dict[str, Any] | None:
            st: dict[str, Any] = httpx.get(f"{url}{job}", timeout=10, headers={
                "Authorization": f"Bearer {token}"}).json()
            return st if st["done"] > 0 else None  # the pool's workers are at work

        status = _wait_for(screening, 120, "the job's first chunk")
        assert status["status"] == "running", status
        pool = _workers(server.pid)  # the pool's workers (and any other worker process)
        assert len(pool) >= 2, pool
        try:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(timeout=10)

            def all_gone() -> bool:
                return not any(_alive(p) for p in pool)

            try:
                _wait_for(all_gone, 5, "the workers to exit")
            except AssertionError:
                orphans = [p for p in pool if _alive(p)]
        finally:
            for p in pool:  # never leave them behind, whatever the outcome
                with contextlib.suppress(psutil.Error):
                    if p.is_running():
                        p.kill()
    if orphans:
        pytest.fail(f"{len(orphans)} batch worker processes outlived the killed service: "
                    f"{[p.pid for p in orphans]}")


def test_the_pool_outlives_the_thread_that_first_drove_it(runtime: Any) -> None:
    """Workers are killed when the thread that spawned them exits (PR_SET_PDEATHSIG follows
    the thread): a batch started on a short-lived thread and finished on another still
    completes, with the same rows as in process."""
    from spatial.batch import chunks as batch

    opts = batch.BatchOptions({"industry": "K7010", "nature": "new"}, radius_m=20)
    sites = [{"type": "Feature", "properties": {"id": i},
              "geometry": {"type": "Point", "coordinates": [106.30 + i * 1e-3, 29.60]}}
             for i in range(60)]
    source = batch.data_source(runtime.service, runtime.settings.rules_dir)
    chunks = batch.run(source, sites, opts, workers=2, chunk=10)
    first: list[list[dict[str, Any]]] = []
    starter = threading.Thread(target=lambda: first.append(next(chunks)))
    starter.start()
    starter.join()  # the thread that started the pool has exited
    pids = [p.pid for p in psutil.Process().children() if "multiprocessing.spawn" in
            " ".join(p.cmdline())]
    assert len(pids) >= 2
    rest = [row for chunk in chunks for row in chunk]
    assert [*first[0], *rest] == batch.screen_chunk(runtime.service, sites, opts)
