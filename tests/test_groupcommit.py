"""Group commit of screenings: durable before the caller goes on, shared transactions under
concurrency, and one bad row never costs the others theirs."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from spatial import groupcommit
from spatial.errors import StoreBusyError
from spatial.groupcommit import GroupCommitter


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "t.sqlite"
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (id TEXT PRIMARY KEY, v TEXT)")
    con.close()
    return path


def _gated(gc: GroupCommitter) -> threading.Event:
    """Hold every commit of ``gc`` until the returned event is set (rows queue up meanwhile)."""
    gate = threading.Event()
    real = gc._commit

    def commit(rows):  # type: ignore[no-untyped-def]
        gate.wait(5)
        real(rows)

    gc._commit = commit  # type: ignore[method-assign]
    return gate


def _rows(path: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(path)
    try:
        return sorted(con.execute("SELECT id, v FROM t").fetchall())
    finally:
        con.close()


def test_a_written_row_is_committed_when_write_returns(tmp_path):
    path = _db(tmp_path)
    gc = GroupCommitter(path, "INSERT INTO t VALUES (?, ?)")
    gc.write(("a", "1"))
    assert _rows(path) == [("a", "1")]  # read by another connection: committed


def test_concurrent_writers_share_transactions(tmp_path, monkeypatch):
    path = _db(tmp_path)
    gc = GroupCommitter(path, "INSERT INTO t VALUES (?, ?)")
    slow = threading.Event()
    real = gc._commit

    def commit(rows):
        if not slow.is_set():  # hold the first commit until every writer has queued
            slow.wait(5)
        real(rows)

    monkeypatch.setattr(gc, "_commit", commit)
    futures = [gc.submit((f"r{i:02d}", str(i))) for i in range(40)]
    slow.set()
    for f in futures:
        f.result(timeout=10)
    assert _rows(path) == sorted((f"r{i:02d}", str(i)) for i in range(40))
    assert gc.rows == 40
    assert gc.commits < 40  # the rows queued behind the first commit shared one


def test_a_bad_row_fails_alone(tmp_path):
    path = _db(tmp_path)
    gc = GroupCommitter(path, "INSERT INTO t VALUES (?, ?)")
    gc.write(("dup", "0"))
    hold = threading.Lock()
    hold.acquire()
    real = gc._commit
    first: list[int] = []

    def commit(rows):
        if not first:
            first.append(1)
            with hold:  # the next rows queue up meanwhile and form one group
                pass
        real(rows)

    gc._commit = commit  # type: ignore[method-assign]
    blocker = gc.submit(("b0", "x"))
    good = [gc.submit((f"g{i}", "ok")) for i in range(5)]
    bad = gc.submit(("dup", "again"))  # primary key taken: this row cannot be stored
    hold.release()
    blocker.result(timeout=10)
    for f in good:
        f.result(timeout=10)
    with pytest.raises(StoreBusyError):
        bad.result(timeout=10)
    assert [r for r in _rows(path) if r[1] == "ok"] == [(f"g{i}", "ok") for i in range(5)]
    assert ("dup", "0") in _rows(path)


def test_a_waiter_that_gives_up_does_not_stop_the_writer(tmp_path):
    path = _db(tmp_path)
    gc = GroupCommitter(path, "INSERT INTO t VALUES (?, ?)")
    gate = _gated(gc)
    first = gc.submit(("a", "1"))
    abandoned = gc.submit(("b", "2"))
    assert abandoned.cancel()  # e.g. its request was cancelled while it waited
    gate.set()
    first.result(timeout=10)
    gc.write(("c", "3"), timeout=10)  # the writer lives on
    assert ("a", "1") in _rows(path) and ("c", "3") in _rows(path)


def test_a_locked_store_fails_the_group_at_once_not_row_by_row(tmp_path):
    import time

    path = _db(tmp_path)
    gc = GroupCommitter(path, "INSERT INTO t VALUES (?, ?)", busy_timeout_s=0.5)
    gc.write(("warm", "0"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        gate = _gated(gc)
        futures = [gc.submit((f"r{i}", "v")) for i in range(6)]
        t0 = time.monotonic()
        gate.set()
        for f in futures:
            with pytest.raises(StoreBusyError):
                f.result(timeout=20)
        assert time.monotonic() - t0 < 2.5  # one busy timeout, not one per row
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    gc.write(("after", "1"), timeout=10)  # and it recovers once the lock is gone
    assert ("after", "1") in _rows(path)


def test_a_request_json_number_beyond_64_bits_is_still_stored():
    from spatial.service import to_json

    assert json.loads(to_json({"properties": {"id": 2**70}})) == {"properties": {"id": 2**70}}


def test_groups_are_bounded(tmp_path):
    path = _db(tmp_path)
    gc = GroupCommitter(path, "INSERT INTO t VALUES (?, ?)")
    sizes: list[int] = []
    real = gc._commit

    def counted(rows):  # type: ignore[no-untyped-def]
        sizes.append(len(rows))
        real(rows)

    gc._commit = counted  # type: ignore[method-assign]
    gate = _gated(gc)
    futures = [gc.submit((f"r{i:04d}", "v")) for i in range(groupcommit.MAX_GROUP * 2 + 3)]
    gate.set()
    for f in futures:
        f.result(timeout=20)
    assert max(sizes) <= groupcommit.MAX_GROUP
    assert sum(sizes) == len(futures)


# -- screenings on the event loop (ScreeningService.screen_now) -----------------------------

def _req(geometry):
    from spatial.service import ScreeningRequest

    return ScreeningRequest(site=geometry, project={"industry": "C2614", "nature": "new"})


def _now(runtime, geometry):
    req = _req(geometry)
    return runtime.service.screen_now(req, *runtime.service.prepare(req))


PARCEL = {"type": "Point", "coordinates": [106.451142, 29.618444]}


def test_screen_now_gives_the_same_verdict_as_a_thread(runtime):
    runtime.service.cache.active()  # create_app indexes the active layers before serving
    now = _now(runtime, PARCEL)
    assert now is not None
    later = runtime.service.new_screening(_req(PARCEL))
    strip = ("id", "created_at", "links")
    assert {k: v for k, v in now.doc.items() if k not in strip} == \
        {k: v for k, v in later.doc.items() if k not in strip}
    assert now.doc["verdict"] == "forbid"


def test_screen_now_declines_large_sites_and_a_busy_engine(runtime):
    runtime.service.cache.active()
    wide = {"type": "LineString", "coordinates": [[106.40, 29.60], [106.45, 29.62]]}  # ~5 km
    assert _now(runtime, wide) is None
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        runtime.service.geos(lambda: (held.set(), release.wait(5)))

    t = threading.Thread(target=hold)
    t.start()
    try:
        held.wait(5)
        assert _now(runtime, PARCEL) is None  # never waits for the geometry lock
    finally:
        release.set()
        t.join()
    assert _now(runtime, PARCEL) is not None


def test_an_inline_screening_is_stored_before_its_id_is_returned(client, runtime):
    r = client.post("/api/v1/screenings", json={"site": PARCEL,
                                                 "project": {"industry": "C2614", "nature": "new"}})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    with runtime.store.connect(write=False) as con:
        row = con.execute("SELECT result FROM screenings WHERE id = ?", (sid,)).fetchone()
    assert row is not None and json.loads(row[0])["verdict"] == "forbid"
    assert client.get(f"/api/v1/screenings/{sid}").json()["verdict"] == "forbid"
