"""The catalogue: one SQLite database (WAL) in the data directory that holds the layer versions,
activations, audit log, screenings, batch jobs, tokens and layer-file digests. Its schema, and
the one way connections to it are made: every connection has the same busy timeout and
synchronous commits (``connect``); work is done in a transaction (``transaction``); a
connection kept for reuse (a thread's reader, the group committer's writer) is a ``Kept``,
reopened when the catalogue file has been replaced by a restore.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spatial.errors import StoreBusyError

#: how long a connection waits for another's write lock before giving up (seconds)
BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS layer_versions (
    kind TEXT NOT NULL, version TEXT NOT NULL, sha256 TEXT NOT NULL,
    feature_count INTEGER NOT NULL, bbox TEXT NOT NULL, meta TEXT NOT NULL,
    validation TEXT NOT NULL, path TEXT NOT NULL, loaded_by TEXT, loaded_at TEXT NOT NULL,
    PRIMARY KEY (kind, version));
CREATE TABLE IF NOT EXISTS active (
    kind TEXT PRIMARY KEY, version TEXT NOT NULL, activated_at TEXT NOT NULL,
    activated_by TEXT);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT, action TEXT NOT NULL,
    kind TEXT, version TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS screenings (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, request TEXT NOT NULL,
    result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS batch_jobs (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, created_by TEXT, status TEXT NOT NULL,
    total INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0, counts TEXT NOT NULL,
    options TEXT NOT NULL, pinned TEXT NOT NULL, runner TEXT, started_at TEXT,
    started_epoch REAL, resumed_from INTEGER NOT NULL DEFAULT 0, finished_at TEXT,
    message TEXT, heartbeat REAL);
CREATE TABLE IF NOT EXISTS layer_files (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, version TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL, recorded_at TEXT NOT NULL, how TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS layer_files_by_version ON layer_files(kind, version, id);
""" + "".join(
    # INSERT OR REPLACE (and REPLACE, and an upsert) would delete the row it collides with
    # without firing a DELETE trigger: refuse an insert whose key or rowid is taken. Run on
    # every open, so catalogues made by older versions get these guards too. (An implicit
    # rowid reads as -1 in a BEFORE INSERT trigger, hence "> 0".)
    f"""CREATE TRIGGER IF NOT EXISTS {table}_{label}_i BEFORE INSERT ON {table}
    WHEN (NEW.rowid > 0 AND EXISTS (SELECT 1 FROM {table} WHERE rowid = NEW.rowid)){key}
    BEGIN SELECT RAISE(ABORT, '{what}'); END;
CREATE TRIGGER IF NOT EXISTS {table}_{label}_u BEFORE UPDATE{columns} ON {table}
    BEGIN SELECT RAISE(ABORT, '{what}'); END;
CREATE TRIGGER IF NOT EXISTS {table}_{label}_d BEFORE DELETE ON {table}
    BEGIN SELECT RAISE(ABORT, '{what}'); END;
""" for table, label, what, key, columns in (
        ("audit", "append_only", "audit log is append-only", "", ""),
        ("screenings", "append_only", "screenings are append-only",
         " OR EXISTS (SELECT 1 FROM screenings WHERE id = NEW.id)", ""),
        ("layer_files", "append_only", "layer file digests are append-only", "", ""),
        # a version is immutable; only its file's place (path, relative to the data
        # directory) may be moved: the file is checked against its digest wherever it is
        ("layer_versions", "immutable", "layer versions are immutable",
         " OR EXISTS (SELECT 1 FROM layer_versions WHERE kind = NEW.kind "
         "AND version = NEW.version)",
         " OF kind, version, sha256, feature_count, bbox, meta, validation, loaded_by, "
         "loaded_at"),
    ))


def connect(path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S,
            check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with synchronous commits."""
    con = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None,
                          check_same_thread=check_same_thread)
    con.execute("PRAGMA synchronous=FULL")
    return con


def create(path: Path) -> None:
    """Create or upgrade the catalogue at ``path`` (WAL mode, the schema and its guards)."""
    con = connect(path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(SCHEMA)  # executescript manages its own transaction
        cols = {r[1] for r in con.execute("PRAGMA table_info(batch_jobs)")}
        if "heartbeat" not in cols:  # data directories from before job heartbeats
            con.execute("ALTER TABLE batch_jobs ADD COLUMN heartbeat REAL")
    finally:
        con.close()


@contextmanager
def transaction(path: Path, *, write: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection in one transaction, committed on success and rolled back on failure.

    Writers take the write lock up front (IMMEDIATE); readers use a deferred transaction,
    which in WAL mode never waits for a writer and sees one consistent snapshot.
    """
    try:
        con = connect(path)
        con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    except sqlite3.OperationalError as exc:
        raise StoreBusyError("数据目录繁忙或不可写，请稍后重试", f"Data store unavailable: {exc}",
                             code="store.busy") from exc
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()


class Kept:
    """A connection kept for reuse by one thread (or one writer), reopened when the catalogue
    file at ``path`` is no longer the one it opened (a restore replaces it)."""

    def __init__(self, path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S,
                 check_same_thread: bool = True):
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self.check_same_thread = check_same_thread
        self._con: sqlite3.Connection | None = None
        self._ino: int | None = None

    def get(self) -> sqlite3.Connection:
        """The kept connection, opened (again) if needed."""
        ino = os.stat(self.path).st_ino
        if self._con is None or ino != self._ino:
            self.close()
            self._con = connect(self.path, busy_timeout_s=self.busy_timeout_s,
                                check_same_thread=self.check_same_thread)
            self._ino = ino
        return self._con

    def close(self) -> None:
        """Close it (the next ``get`` opens a new one)."""
        if self._con is not None:
            self._con.close()
        self._con = None
