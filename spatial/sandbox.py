"""Untrusted screening work in worker processes that can be stopped.

Parsing, repairing and screening a hostile site can take unbounded time and memory: a random
1 500-vertex polygon ran ``make_valid`` for 16 minutes and reached 19.6 GB, and a thread cannot
be stopped from outside. So every screening the service cannot prove cheap
(``ScreeningService.prepare_cheap``) and every uploaded site file runs here instead:

* in a worker process of its own (spawned, never forked from the threaded service), which is
  killed when its time is up: the caller gets ``RequestTimeout`` and the work really stops;
* under an address-space limit (``RLIMIT_AS``), so a runaway computation fails with
  ``MemoryError`` (or the worker dies) instead of taking the machine's memory;
* with GDAL's network access off, reading uploads with the allowed driver only
  (``spatial.vectorfiles``): whatever an upload makes GDAL do happens outside the service
  process, which alone holds the catalogue's write connection.

Workers die with the service (``spatial.childproc``). Each holds its own indexed layer set
(read-only store access), so a worker costs about the memory of one service process; it is
started on first use or by ``warm`` and replaced at once after it is killed.

The worker returns verdict documents without ids; the service stamps and stores them, so a
screening id still exists only once its row is committed.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from spatial import errors as errors_mod
from spatial.errors import RedlineError, RequestTimeout, SandboxError, TooLargeError

log = logging.getLogger(__name__)

#: how long a worker may take to start (imports and indexing the active layers)
START_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class _Task:
    name: str
    args: tuple[Any, ...]
    deadline: float
    future: Future[Any]


class Sandbox:
    """A few worker processes that run named tasks (``TASKS``) with a time limit each."""

    def __init__(self, home: Path, rules_dir: Path, *, workers: int = 1,
                 memory_bytes: int = 4 << 30):
        self.home = Path(home)
        self.rules_dir = Path(rules_dir)
        self.workers = workers
        self.memory_bytes = memory_bytes
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        #: worker processes killed for running out of time (for tests and the log)
        self.killed = 0
        self._pids: set[int] = set()
        self._closing = False

    def submit(self, name: str, *args: Any, timeout_s: float) -> Future[Any]:
        """Queue a task; the future holds its result, or the error it raised, or
        ``RequestTimeout`` when ``timeout_s`` (queueing included) ran out."""
        if name not in TASKS:
            raise ValueError(f"unknown sandbox task {name!r}")
        fut: Future[Any] = Future()
        self._ensure_started()
        self._tasks.put(_Task(name, args, time.monotonic() + timeout_s, fut))
        return fut

    def run(self, name: str, *args: Any, timeout_s: float) -> Any:
        """``submit`` and wait for the result (raises what the task raised)."""
        return self.submit(name, *args, timeout_s=timeout_s).result()

    def warm(self) -> None:
        """Start the workers now (and index the layers there), not on the first request."""
        self._ensure_started()
        for _ in range(self.workers):
            self._tasks.put(_Task("ping", (), time.monotonic() + START_TIMEOUT_S, Future()))

    def pids(self) -> set[int]:
        """Process ids of the live workers."""
        return set(self._pids)

    def close(self) -> None:
        """Stop the workers (they also die on their own when this process exits)."""
        self._closing = True
        for _ in self._threads:
            self._tasks.put(None)

    def _ensure_started(self) -> None:
        if self._threads:
            return
        with self._lock:
            if not self._threads:
                # before multiprocessing's own exit hook terminates the workers (atexit runs
                # hooks last-registered first), so that is not taken for a crash and replaced
                atexit.register(self.close)
                # each dispatcher thread lives as long as the sandbox and starts its worker:
                # a worker's death signal follows the thread that started it
                self._threads = [threading.Thread(target=self._dispatch, daemon=True,
                                                  name=f"redline-sandbox-{k}")
                                 for k in range(self.workers)]
                for t in self._threads:
                    t.start()

    def _dispatch(self) -> None:
        worker: _Worker | None = None
        while True:
            task = self._tasks.get()
            if task is None:
                if worker is not None:
                    worker.stop()
                return
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                if worker is None or not worker.alive():
                    worker = _Worker.start(self)
                    self._pids.add(worker.pid)
                result = worker.call(task)
            except _Killed as exc:
                assert worker is not None
                self._pids.discard(worker.pid)
                started, worker = worker.ready, None
                _fail(task.future, exc.error)
                if self._closing:
                    continue
                if exc.timed_out:
                    self.killed += 1
                else:
                    log.warning("sandbox worker died in task %s: %s", task.name, exc)
                # replace it at once, so the next request finds a warm worker; a worker that
                # died before it was ready is not (the next request tries again, no busy loop)
                if started:
                    self._tasks.put(_Task("ping", (), time.monotonic() + START_TIMEOUT_S,
                                          Future()))
            except BaseException as exc:  # a task's own error: the worker lives on
                _fail(task.future, exc)
            else:
                task.future.set_result(result)


class _Killed(Exception):
    """The worker process is gone (killed for time, or died); ``error`` is for the caller."""

    def __init__(self, error: BaseException, *, timed_out: bool):
        super().__init__(str(error))
        self.error = error
        self.timed_out = timed_out


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, proc: mp.process.BaseProcess, conn: Connection):
        self.proc = proc
        self.conn = conn
        self.ready = False  # the worker says so once its layers are indexed

    @property
    def pid(self) -> int:
        return int(self.proc.pid or 0)

    @classmethod
    def start(cls, box: Sandbox) -> _Worker:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, name="redline-sandbox", daemon=True,
                           args=(child, str(box.home), str(box.rules_dir), box.memory_bytes,
                                 os.getpid()))
        proc.start()
        child.close()
        return cls(proc, parent)

    def alive(self) -> bool:
        return self.proc.is_alive()

    def call(self, task: _Task) -> Any:
        timeout = task.deadline - time.monotonic()
        if task.name == "ping":
            timeout = max(timeout, START_TIMEOUT_S)
        if timeout <= 0:
            raise _timeout()
        try:
            if not self.ready:  # still starting: a caller that runs out of time meanwhile
                # gets a timeout, but the worker is not killed for its own start-up
                if not self.conn.poll(timeout):
                    raise _timeout()
                self.conn.recv()  # "ready"
                self.ready = True
                timeout = task.deadline - time.monotonic()
                if task.name == "ping":
                    return True
                if timeout <= 0:
                    raise _timeout()
            self.conn.send((task.name, task.args))
            ready = self.conn.poll(timeout)
            if ready:
                status, payload = self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            ready, status, payload = True, "died", None
        if not ready:
            self.kill()
            raise _Killed(_timeout(), timed_out=True)
        if status == "died":
            self.kill()
            raise _Killed(SandboxError("筛查进程异常退出(场址可能过于复杂)，请简化场址后重试",
                                       "The screening process died (the site may be too complex)",
                                       code="screening.worker_failed"), timed_out=False)
        if status == "error":
            raise _rebuild(payload)
        return payload

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join(timeout=10)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            self.proc.join(timeout=5)
            if self.proc.is_alive():
                self.kill()


def _timeout() -> RequestTimeout:
    return RequestTimeout("筛查超时，请简化场址或稍后重试", "The screening timed out",
                          code="request.timeout")


def _fail(fut: Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _describe(exc: RedlineError) -> tuple[str, str, str, str, dict[str, Any]]:
    return type(exc).__name__, exc.message_zh, exc.message_en, exc.code, exc.details


def _rebuild(payload: tuple[str, str, str, str, dict[str, Any]]) -> RedlineError:
    name, zh, en, code, details = payload
    cls = getattr(errors_mod, name, None)
    if not (isinstance(cls, type) and issubclass(cls, RedlineError)):
        cls = RedlineError
    return cls(zh, en, code=code, details=details)


# -- the worker process ---------------------------------------------------------------------

def _limit_memory(nbytes: int) -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (nbytes, nbytes))
    except (ValueError, OSError):  # pragma: no cover - a lower hard limit is already set
        log.warning("sandbox: could not limit the address space to %d bytes", nbytes)


def _serve(conn: Connection, home: str, rules_dir: str, memory_bytes: int,
           parent_pid: int) -> None:
    """The worker's loop: receive a task, run it, send ``(status, payload)``."""
    from spatial.childproc import die_with_parent

    die_with_parent(parent_pid)
    from spatial.vectorfiles import OFFLINE

    os.environ.update(OFFLINE)  # GDAL reads its config from the environment too
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # thread pools reserve address space per thread
    _limit_memory(memory_bytes)

    from spatial.layers.layerset import settle_long_lived
    from spatial.layers.store import LayerStore
    from spatial.ruleset import load_ruleset
    from spatial.service import ScreeningService

    service = ScreeningService(LayerStore(Path(home)), load_ruleset(Path(rules_dir)))
    service.cache.active()  # index the active layers before the first task
    settle_long_lived()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            name, args = conn.recv()
        except (EOFError, OSError):
            return  # the service closed the pipe or died
        try:
            reply: tuple[str, Any] = ("ok", TASKS[name](service, *args))
        except RedlineError as exc:
            reply = ("error", _describe(exc))
        except (MemoryError, RecursionError):
            reply = ("error", _describe(TooLargeError(
                "场址几何过于复杂，超出计算资源上限，请简化后重试",
                "The site is too complex for the resource limits", code="site.too_complex")))
        except Exception as exc:  # a bug: logged here, reported as a worker failure
            log.exception("sandbox task %s failed", name)
            reply = ("error", _describe(SandboxError(
                "筛查进程内部错误，请稍后重试", f"Screening failed: {type(exc).__name__}",
                code="screening.worker_failed")))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


def _ping(service: Any) -> bool:
    service.cache.active()
    return True


def _screen(service: Any, req: Any, versions: dict[str, str] | None = None) -> dict[str, Any]:
    return dict(service.evaluate(req, versions))


def _screen_file(service: Any, path: str, project: dict[str, Any],
                 options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    from spatial.service import request_from_file

    req = request_from_file(Path(path), project, **options)
    return req, dict(service.evaluate(req))


def _batch_rows(service: Any, features: list[Any], opts: Any) -> list[dict[str, Any]]:
    from spatial.batch import chunks as batch

    return list(batch.rows(service, features, opts))


def _sleep(service: Any, seconds: float) -> float:  # for tests: a task that overruns
    time.sleep(seconds)
    return seconds


def _allocate(service: Any, nbytes: int) -> int:  # for tests: a task that runs out of memory
    return len(bytearray(nbytes))


TASKS: dict[str, Callable[..., Any]] = {
    "ping": _ping, "screen": _screen, "screen_file": _screen_file, "batch_rows": _batch_rows,
    "sleep": _sleep, "allocate": _allocate,
}
