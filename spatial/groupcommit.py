"""Group commit: concurrent screenings are stored by one writer thread, many per transaction.

A screening's id is returned only after its row is durably committed (synchronous=FULL), as
before; but under load the rows that arrived while the previous transaction was being synced
share the next one, so the fsync and the write lock are paid once per group instead of once
per request. One kept connection replaces a connection per request; it is reopened when the
catalogue file is replaced (a restore).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future, InvalidStateError
from pathlib import Path
from typing import Any

from spatial import catalogue
from spatial.errors import StoreBusyError

log = logging.getLogger(__name__)

#: at most this many rows share a transaction
MAX_GROUP = 256


class GroupCommitter:
    """Runs ``INSERT`` statements of one SQL text in groups; ``write`` returns once durable."""

    def __init__(self, db_path: Path, sql: str, busy_timeout_s: float = 30.0):
        self.db_path = Path(db_path)
        self.sql = sql
        self.busy_timeout_s = busy_timeout_s
        self._queue: queue.SimpleQueue[tuple[tuple[Any, ...], Future[None]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        #: the writer's connection (reopened after a restore replaced the catalogue)
        self._kept = catalogue.Kept(self.db_path, busy_timeout_s=busy_timeout_s,
                                    check_same_thread=False)
        #: transactions committed and rows written (for tests and the benchmark report)
        self.commits = 0
        self.rows = 0

    def submit(self, row: tuple[Any, ...]) -> Future[None]:
        """Queue one row; the future completes when its transaction is committed (or failed).

        Waiting on it holds no lock and no thread of the caller's (``asyncio.wrap_future``).
        """
        fut: Future[None] = Future()
        self._ensure_thread()
        self._queue.put((row, fut))
        return fut

    def write(self, row: tuple[Any, ...], timeout: float = 60.0) -> None:
        """Store one row; returns when its transaction is committed, raises if it failed."""
        self.submit(row).result(timeout=timeout)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="redline-group-commit",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._store(group)
            except BaseException as exc:  # never leave a waiter hanging, never die
                log.exception("group commit failed")
                for _, fut in group:
                    _settle(fut, exc)

    def _store(self, group: list[tuple[tuple[Any, ...], Future[None]]]) -> None:
        try:
            self._commit([row for row, _ in group])
        except sqlite3.OperationalError as exc:
            # locked, busy or unwritable: the same for every row, and each retry would wait
            # out the busy timeout again; the whole group fails at once
            self._close()
            err = _busy(exc)
            for _, fut in group:
                _settle(fut, err)
            return
        except Exception:
            # a row of its own making (e.g. a duplicate id) must not cost the others theirs
            self._close()
            for row, fut in group:
                self._one(row, fut)
            return
        for _, fut in group:
            _settle(fut, None)

    def _one(self, row: tuple[Any, ...], fut: Future[None]) -> None:
        try:
            self._commit([row])
        except Exception as exc:  # the waiter learns that its row was not stored
            self._close()
            log.warning("screening not stored: %s", exc)
            _settle(fut, _busy(exc))
        else:
            _settle(fut, None)

    def _connection(self) -> sqlite3.Connection:
        return self._kept.get()

    def _commit(self, rows: list[tuple[Any, ...]]) -> None:
        con = self._connection()
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany(self.sql, rows)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        self.commits += 1
        self.rows += len(rows)

    def _close(self) -> None:
        try:
            self._kept.close()
        except sqlite3.Error:  # pragma: no cover - closing a broken connection
            log.exception("closing the group-commit connection")


def _busy(exc: BaseException) -> StoreBusyError:
    return StoreBusyError("数据目录繁忙或不可写，筛查结果未能保存，请稍后重试",
                          f"Could not store the screening: {exc}", code="store.busy")


def _settle(fut: Future[None], exc: BaseException | None) -> None:
    """Complete a waiter's future unless it is done already (its caller may have given up)."""
    if fut.done():
        return
    try:
        if exc is None:
            fut.set_result(None)
        else:
            fut.set_exception(exc)
    except InvalidStateError:  # cancelled meanwhile
        pass
