"""Batch jobs: submitted inventories screened in the background, with progress, cancel and
results, surviving a restart.

A job's input and options are written to ``REDLINE_HOME/jobs/<id>/`` before its id is returned;
finished rows are appended chunk by chunk to ``rows.jsonl`` (flushed and fsynced) and the
catalogue row keeps status and counts, so any service process can report progress and a job
interrupted by a crash resumes after the last complete chunk. The layer versions active at
submission are pinned for the whole job. One job runs at a time per process (it already uses
every core through worker processes); others wait in order.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spatial import catalogue
from spatial.batch import chunks as batch
from spatial.errors import ConflictError, NotFoundError
from spatial.layers.store import LayerStore, now_iso
from spatial.service import ScreeningService, to_json

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running", "cancelling")
STATUS_ZH = {"queued": "排队中", "running": "进行中", "cancelling": "正在取消", "done": "已完成",
             "cancelled": "已取消", "failed": "失败"}


#: this process incarnation: host, pid and a nonce (a restarted container often reuses pid 1)
_ME = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
#: a job whose runner elsewhere has not reported for this long is taken over
STALE_S = 600.0


def _me() -> str:
    return _ME


def _alive(runner: str | None, heartbeat: float | None) -> bool:
    """Whether the process that claimed a job may still be running it."""
    if not runner:
        return False
    host, pid = [*runner.split(":"), "", ""][:2]
    if host != socket.gethostname():
        # another machine (or this container before it was recreated): judged by heartbeat
        return heartbeat is not None and time.time() - heartbeat < STALE_S
    if pid == str(os.getpid()):
        return runner == _ME  # same pid, other nonce: an earlier incarnation
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


class JobManager:
    """Creates, runs, reports and cancels batch jobs for one service process."""

    def __init__(self, service: ScreeningService, rules_dir: Path, *, workers: int = 2):
        self.service = service
        self.store: LayerStore = service.store
        self.rules_dir = Path(rules_dir)
        self.workers = workers
        self.root = self.store.home / "jobs"
        self.root.mkdir(exist_ok=True)
        self._queue: list[str] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- submitting and reading ---------------------------------------------------------

    def submit(self, features: list[Any], opts: batch.BatchOptions, *, created_by: str | None
               ) -> dict[str, Any]:
        """Store the job (input, options, pinned versions) and queue it; returns its status."""
        job_id = secrets.token_urlsafe(12)
        source = batch.data_source(self.service, self.rules_dir)
        folder = self.root / job_id
        folder.mkdir()
        tmp = folder / "sites.json.part"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(features, fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(folder / "sites.json")
        with self.store.connect() as con:
            catalogue.insert_job(
                con, (job_id, now_iso(), created_by, "queued", len(features),
                 json.dumps(batch.counts([])), json.dumps(asdict(opts), ensure_ascii=False),
                 json.dumps(asdict(source)), _me()))
        self._enqueue(job_id)
        return self.status(job_id)

    def status(self, job_id: str) -> dict[str, Any]:
        """Progress of a job: done/total, rate, ETA and counts per verdict."""
        row = self._row(job_id)
        done, total = row["done"], row["total"]
        rate = eta = None
        if row["status"] in ("running", "cancelling") and row["started_epoch"] is not None:
            elapsed = time.time() - row["started_epoch"]
            if elapsed > 0 and done > row["resumed_from"]:
                rate = (done - row["resumed_from"]) / elapsed
                eta = (total - done) / rate
        return {
            "id": job_id, "status": row["status"], "status_zh": STATUS_ZH[row["status"]],
            "total": total, "done": done,
            "progress": round(done / total, 4) if total else 1.0,
            "rate_per_s": None if rate is None else round(rate, 1),
            "eta_s": None if eta is None else round(eta, 1),
            "counts": json.loads(row["counts"]),
            "created_at": row["created_at"], "started_at": row["started_at"],
            "finished_at": row["finished_at"], "message": row["message"],
            "layers": json.loads(row["pinned"])["versions"],
        }

    def list(self, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """Most recent jobs first."""
        with self.store.connect(write=False) as con:
            ids = catalogue.job_ids(con, limit)
        return [self.status(i) for i in ids]

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Ask a queued or running job to stop; finished rows are kept."""
        with self.store.connect() as con:
            status = catalogue.job_status(con, job_id)
            if status is None:
                raise self._not_found(job_id)
            if status not in ACTIVE:
                raise ConflictError(f"任务已结束({STATUS_ZH[status]})，无法取消",
                                    f"The job has already ended ({status})",
                                    code="batch.job_finished")
            catalogue.set_job_status(con, job_id, "cancelling")
        with self._wake:
            self._wake.notify_all()
        return self.status(job_id)

    def rows(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The finished rows of a job, in site order."""
        self._row(job_id)
        path = self.root / job_id / "rows.jsonl"
        if not path.exists():
            return
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.endswith("\n"):
                    yield json.loads(line)

    def wait(self, job_id: str, timeout: float = 600.0) -> dict[str, Any]:
        """Block until the job ends or ``timeout`` passes (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status(job_id)
            if st["status"] not in ACTIVE or time.monotonic() > deadline:
                return st
            time.sleep(0.1)

    # -- running ------------------------------------------------------------------------

    def resume_interrupted(self) -> builtins.list[str]:
        """Claim jobs whose process died (crash, restart) and queue them again."""
        claimed = []
        with self.store.connect() as con:
            rows = catalogue.unfinished_jobs(con)
            for job_id, runner, status, heartbeat in rows:
                if runner == _me() or _alive(runner, heartbeat):
                    continue
                if status == "cancelling":
                    catalogue.finish_job(con, job_id, "cancelled", now_iso(), None)
                    continue
                catalogue.claim_job(con, job_id, _me(), time.time())
                claimed.append(job_id)
        for job_id in claimed:
            self._enqueue(job_id)
        return claimed

    def _enqueue(self, job_id: str) -> None:
        with self._wake:
            self._queue.append(job_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="batch-jobs", daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._queue:
                    self._thread = None
                    return
                job_id = self._queue.pop(0)
            try:
                self._run(job_id)
            except Exception as exc:  # a job's failure is recorded, never kills the runner
                log.exception("batch job %s failed", job_id)
                self._finish(job_id, "failed", f"{type(exc).__name__}: {exc}"[:500])

    def _run(self, job_id: str) -> None:
        row = self._row(job_id)
        if row["status"] == "cancelling":
            self._finish(job_id, "cancelled", None)
            return
        folder = self.root / job_id
        with open(folder / "sites.json", encoding="utf-8") as fh:
            features = json.load(fh)
        opts = batch.BatchOptions(**json.loads(row["options"]))
        source = batch.DataSource(**json.loads(row["pinned"]))
        done_rows, counts = _complete_rows(folder / "rows.jsonl")
        with self.store.connect() as con:
            # only a job still queued starts: a cancel that came in meanwhile is kept
            started = catalogue.start_job(con, job_id, now_iso(), time.time(), done_rows,
                                          json.dumps(counts))
        if not started:
            self._finish(job_id, "cancelled", None)
            return
        cancel = threading.Event()
        out = open(folder / "rows.jsonl", "ab")  # noqa: SIM115
        try:
            for chunk in batch.run(source, features, opts, workers=self.workers, cancel=cancel,
                                   skip=done_rows):
                out.write(b"".join(to_json(r) + b"\n" for r in chunk))
                out.flush()
                os.fsync(out.fileno())
                for r in chunk:
                    counts[r["verdict"]] += 1
                with self.store.connect() as con:
                    catalogue.job_progress(con, job_id, len(chunk), json.dumps(counts),
                                           time.time())
                    status = catalogue.job_status(con, job_id)
                if status == "cancelling":
                    cancel.set()
        finally:
            out.close()
        self._finish(job_id, "cancelled" if cancel.is_set() else "done", None)

    def _finish(self, job_id: str, status: str, message: str | None) -> None:
        # "done" even over a late cancel: every row is finished, the cancel is moot
        with self.store.connect() as con:
            catalogue.finish_job(con, job_id, status, now_iso(), message)

    def _row(self, job_id: str) -> dict[str, Any]:
        with self.store.connect(write=False) as con:
            row = catalogue.job_row(con, job_id)
        if row is None:
            raise self._not_found(job_id)
        return row

    @staticmethod
    def _not_found(job_id: str) -> NotFoundError:
        return NotFoundError(f"批量任务不存在：{job_id}", f"No batch job {job_id}",
                             code="batch.job_not_found")


def _complete_rows(path: Path) -> tuple[int, dict[str, int]]:
    """Rows already written (a torn last line from a crash is cut off) and their counts."""
    counts = batch.counts([])
    if not path.exists():
        return 0, counts
    good = 0
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            counts[json.loads(line)["verdict"]] += 1
            good += len(line)
            n += 1
    with open(path, "r+b") as fh:
        fh.truncate(good)
    return n, counts
