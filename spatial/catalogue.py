"""The catalogue: one SQLite database (WAL) in the data directory that holds the layer versions,
activations, audit log, screenings, batch jobs, tokens and layer-file digests. Its schema, every
statement run on it (below, by table; callers pass the connection of their transaction), and
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
from typing import Any

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


# -- the catalogue's statements, by table: each runs inside the caller's transaction ---------

Row = tuple[Any, ...]


# layer versions, activation, audit log, file digests

def active_pairs(con: sqlite3.Connection) -> list[tuple[str, str]]:
    """(kind, version) of every active version."""
    return con.execute("SELECT kind, version FROM active").fetchall()


def active_version_rows(con: sqlite3.Connection) -> list[Row]:
    """The ``layer_versions`` rows of the active versions."""
    return con.execute("SELECT v.* FROM active a JOIN layer_versions v "
                       "ON v.kind = a.kind AND v.version = a.version").fetchall()


def version_row(con: sqlite3.Connection, kind: str, version: str) -> Row | None:
    """One version's ``layer_versions`` row."""
    return con.execute("SELECT * FROM layer_versions WHERE kind = ? AND version = ?",
                       (kind, version)).fetchone()


def version_rows(con: sqlite3.Connection, kind: str) -> list[Row]:
    """A kind's versions, oldest first."""
    return con.execute("SELECT * FROM layer_versions WHERE kind = ? ORDER BY loaded_at, version",
                       (kind,)).fetchall()


def versions_without_digest(con: sqlite3.Connection) -> list[Row]:
    """Versions whose file digest was never recorded (catalogues from older versions)."""
    return con.execute("SELECT v.* FROM layer_versions v WHERE NOT EXISTS (SELECT 1 FROM "
                       "layer_files f WHERE f.kind = v.kind AND f.version = v.version)").fetchall()


def version_count(con: sqlite3.Connection) -> int:
    """How many layer versions are stored."""
    return int(con.execute("SELECT COUNT(*) FROM layer_versions").fetchone()[0])


def version_meta(con: sqlite3.Connection, kind: str, version: str) -> str | None:
    """A stored version's metadata (JSON), or None."""
    row = con.execute("SELECT meta FROM layer_versions WHERE kind=? AND version=?",
                      (kind, version)).fetchone()
    return row[0] if row else None


def insert_version(con: sqlite3.Connection, row: Row) -> None:
    """Enter a version (kind, version, sha256, feature_count, bbox, meta, validation, path,
    loaded_by, loaded_at)."""
    con.execute("INSERT INTO layer_versions VALUES (?,?,?,?,?,?,?,?,?,?)", row)


def set_active(con: sqlite3.Connection, kind: str, version: str, at: str,
               actor: str | None) -> None:
    """Make ``version`` the active one of ``kind``."""
    con.execute("INSERT INTO active(kind, version, activated_at, activated_by) VALUES (?,?,?,?) "
                "ON CONFLICT(kind) DO UPDATE SET version=excluded.version, "
                "activated_at=excluded.activated_at, activated_by=excluded.activated_by",
                (kind, version, at, actor))


def activation_history(con: sqlite3.Connection, kind: str) -> list[str]:
    """The versions of ``kind`` activated, most recent first (from the audit log)."""
    return [r[0] for r in con.execute("SELECT version FROM audit WHERE kind = ? AND "
                                      "action = 'activate' ORDER BY id DESC", (kind,))]


def insert_audit(con: sqlite3.Connection, at: str, actor: str | None, action: str,
                 kind: str | None, version: str | None, detail: str | None) -> None:
    """Append one audit entry (``detail``: JSON or None)."""
    con.execute("INSERT INTO audit(at, actor, action, kind, version, detail) VALUES (?,?,?,?,?,?)",
                (at, actor, action, kind, version, detail))


def audit_rows(con: sqlite3.Connection, kind: str | None, limit: int) -> list[Row]:
    """Audit entries (id, at, actor, action, kind, version, detail), newest first."""
    sql = "SELECT id, at, actor, action, kind, version, detail FROM audit"
    args: tuple[Any, ...] = ()
    if kind:
        sql += " WHERE kind = ?"
        args = (kind,)
    return con.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()


def latest_digest(con: sqlite3.Connection, kind: str, version: str) -> str | None:
    """The sha256 last recorded for a version's file (empty: refused), or None."""
    row = con.execute("SELECT sha256 FROM layer_files WHERE kind = ? AND version = ? "
                      "ORDER BY id DESC LIMIT 1", (kind, version)).fetchone()
    return row[0] if row else None


def insert_file(con: sqlite3.Connection, kind: str, version: str, sha256: str, size: int,
                at: str, how: str) -> None:
    """Record a version's file digest."""
    con.execute("INSERT INTO layer_files(kind, version, sha256, size, recorded_at, how) "
                "VALUES (?,?,?,?,?,?)", (kind, version, sha256, size, at, how))


def layer_paths(con: sqlite3.Connection, *, refused: bool = False) -> list[str]:
    """The file path of every version (``refused``: only of versions refused by validation)."""
    if refused:
        return [r[0] for r in con.execute(
            "SELECT path FROM layer_versions WHERE json_array_length(json_extract(validation,"
            " '$.errors')) > 0")]
    return [r[0] for r in con.execute("SELECT path FROM layer_versions")]


# screenings

#: one stored screening: (id, created_at, request JSON, result JSON), for the group committer
INSERT_SCREENING = "INSERT INTO screenings VALUES (?,?,?,?)"


def screening_row(con: sqlite3.Connection, screening_id: str) -> tuple[str, str] | None:
    """A screening's (request, result) JSON, or None."""
    return con.execute("SELECT request, result FROM screenings WHERE id = ?",
                       (screening_id,)).fetchone()


def screening_page(con: sqlite3.Connection, limit: int, offset: int) -> list[Row]:
    """(id, created_at, result) of stored screenings, newest first."""
    return con.execute("SELECT id, created_at, result FROM screenings "
                       "ORDER BY created_at DESC, id LIMIT ? OFFSET ?", (limit, offset)).fetchall()


def recent_screenings(con: sqlite3.Connection, limit: int) -> list[Row]:
    """(id, request, result) of the most recent screenings."""
    return con.execute("SELECT id, request, result FROM screenings "
                       "ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()


def screening_count(con: sqlite3.Connection) -> int:
    """How many screenings are stored."""
    return int(con.execute("SELECT COUNT(*) FROM screenings").fetchone()[0])


# tokens

_TOKEN = "SELECT id, name, role, created_at, revoked_at FROM tokens"


def insert_token(con: sqlite3.Connection, token_id: str, name: str, role: str, digest: str,
                 created_at: str) -> None:
    """Store a token (its hash only)."""
    con.execute("INSERT INTO tokens(id, name, role, hash, created_at) VALUES (?,?,?,?,?)",
                (token_id, name, role, digest, created_at))


def token_by_hash(con: sqlite3.Connection, digest: str) -> Row | None:
    """(id, name, role, created_at, revoked_at) of the token with this hash."""
    return con.execute(_TOKEN + " WHERE hash = ?", (digest,)).fetchone()


def token_by_id(con: sqlite3.Connection, token_id: str) -> Row | None:
    """(id, name, role, created_at, revoked_at) of one token."""
    return con.execute(_TOKEN + " WHERE id = ?", (token_id,)).fetchone()


def token_rows(con: sqlite3.Connection) -> list[Row]:
    """Every token, newest first."""
    return con.execute(_TOKEN + " ORDER BY created_at DESC").fetchall()


def revoke_token(con: sqlite3.Connection, token_id: str, at: str) -> bool:
    """Revoke an active token; False when there is none with that id."""
    return con.execute("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                       (at, token_id)).rowcount > 0


# batch jobs

def insert_job(con: sqlite3.Connection, row: Row) -> None:
    """A new job: (id, created_at, created_by, status, total, counts, options, pinned, runner)."""
    con.execute("INSERT INTO batch_jobs (id, created_at, created_by, status, total, counts, "
                "options, pinned, runner) VALUES (?,?,?,?,?,?,?,?,?)", row)


def job_row(con: sqlite3.Connection, job_id: str) -> dict[str, Any] | None:
    """A job's row by column name, or None."""
    cur = con.execute("SELECT * FROM batch_jobs WHERE id = ?", (job_id,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row, strict=True)) if row else None


def job_ids(con: sqlite3.Connection, limit: int) -> list[str]:
    """The most recent jobs' ids."""
    return [r[0] for r in con.execute(
        "SELECT id FROM batch_jobs ORDER BY created_at DESC, id LIMIT ?", (limit,))]


def job_status(con: sqlite3.Connection, job_id: str) -> str | None:
    """A job's status, or None."""
    row = con.execute("SELECT status FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
    return row[0] if row else None


def unfinished_jobs(con: sqlite3.Connection) -> list[Row]:
    """(id, runner, status, heartbeat) of the jobs not ended, oldest first."""
    return con.execute("SELECT id, runner, status, heartbeat FROM batch_jobs WHERE "
                       "status IN ('queued','running','cancelling') "
                       "ORDER BY created_at").fetchall()


def set_job_status(con: sqlite3.Connection, job_id: str, status: str) -> None:
    """Set a job's status (e.g. cancelling)."""
    con.execute("UPDATE batch_jobs SET status = ? WHERE id = ?", (status, job_id))


def claim_job(con: sqlite3.Connection, job_id: str, runner: str, heartbeat: float) -> None:
    """Queue a job again under ``runner``."""
    con.execute("UPDATE batch_jobs SET runner=?, status='queued', heartbeat=? WHERE id=?",
                (runner, heartbeat, job_id))


def start_job(con: sqlite3.Connection, job_id: str, at: str, epoch: float, done: int,
              counts: str) -> bool:
    """Mark a job running (from ``done`` rows); False when it is no longer queued or running."""
    return con.execute(
        "UPDATE batch_jobs SET status='running', started_at=COALESCE(started_at, ?), "
        "started_epoch=?, resumed_from=?, done=?, counts=?, heartbeat=? "
        "WHERE id=? AND status IN ('queued','running')",
        (at, epoch, done, done, counts, epoch, job_id)).rowcount > 0


def job_progress(con: sqlite3.Connection, job_id: str, rows: int, counts: str,
                 heartbeat: float) -> None:
    """Count ``rows`` more finished rows of a job."""
    con.execute("UPDATE batch_jobs SET done = done + ?, counts = ?, heartbeat = ? WHERE id = ?",
                (rows, counts, heartbeat, job_id))


def finish_job(con: sqlite3.Connection, job_id: str, status: str, at: str,
               message: str | None) -> None:
    """End a job with ``status``."""
    con.execute("UPDATE batch_jobs SET status=?, finished_at=?, message=? WHERE id=?",
                (status, at, message, job_id))
