"""Attacks on uploads and the data directory: anonymous memory use, edited layer files,
overwritten audit entries and a raster whose header promises gigabytes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import pytest
import rasterio
import yaml
from fastapi.testclient import TestClient
from rasterio.transform import from_origin
from rasterio.windows import Window
from shapely.geometry import box

from app.limits import BodyLimit
from app.main import create_app
from app.settings import REPO_ROOT, Settings
from spatial.backup import backup, restore
from spatial.layers.ingest import import_layer
from spatial.layers.store import LayerStore, SourceMeta
from tests.server import PROCESSES, running_service

LAYER_ROUTE = "/api/v1/layers/eco_redline/versions"
PROJECT = {"industry": "K7010", "nature": "new"}
MANIFEST = REPO_ROOT / "data" / "layers.yaml"


@pytest.fixture
def home(tmp_path: Path, demo_home: Path) -> Path:
    """A private copy of the seeded demo data directory."""
    backup(LayerStore(demo_home), tmp_path / "bk")
    restore(tmp_path / "bk", tmp_path / "home")
    return tmp_path / "home"


# -- 6. no anonymous body is read; uploads stream -------------------------------------------

def _through_limit(runtime: Any, headers: list[tuple[bytes, bytes]], chunks: list[bytes], *,
                   limit: int, app: Any = None) -> dict[str, Any]:
    """Run one POST through BodyLimit; what was sent and how much of the body was pulled."""
    out: dict[str, Any] = {"pulled": 0, "sent": [], "app_first_seen_at": None, "app_body": b""}

    async def receive() -> dict[str, Any]:
        if out["pulled"] < len(chunks):
            out["pulled"] += 1
            return {"type": "http.request", "body": chunks[out["pulled"] - 1],
                    "more_body": out["pulled"] < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        out["sent"].append(message)

    async def reading_app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if out["app_first_seen_at"] is None:
                out["app_first_seen_at"] = out["pulled"]
            out["app_body"] += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"stored"})

    scope = {"type": "http", "path": LAYER_ROUTE, "method": "POST", "headers": headers,
             "app": SimpleNamespace(state=SimpleNamespace(runtime=runtime))}
    middleware = BodyLimit(app or reading_app, 1000, {"/api/v1/layers/": limit})
    asyncio.run(middleware(scope, receive, send))
    start = next((m for m in out["sent"] if m["type"] == "http.response.start"), None)
    out["status"] = start["status"] if start else None
    bodies = b"".join(m.get("body", b"") for m in out["sent"] if m["type"] == "http.response.body")
    out["json"] = json.loads(bodies) if bodies.startswith(b"{") else None
    return out


@pytest.mark.parametrize(("value", "code"), [(b"", "auth.required"), (b"Bearer", "auth.invalid"),
                                              (b"Bearer rl_forged", "auth.invalid"),
                                              (b"Basic YWRtaW46YWRtaW4=", "auth.invalid")])
def test_a_large_upload_with_an_empty_or_bad_token_is_refused_before_its_body(runtime, value,
                                                                              code):
    chunks = [b"x" * 65536] * 64
    out = _through_limit(runtime, [(b"authorization", value),
                                  (b"content-type", b"multipart/form-data; boundary=x")],
                         chunks, limit=200 << 20)
    assert out["status"] == 401 and out["json"]["code"] == code
    assert out["pulled"] == 0  # not one byte of the body was read
    assert out["app_first_seen_at"] is None  # nor did the route run


def import_file(store, kind, path, meta, **kw):
    """A layer file imported as a new version (``import_layer``), the version only."""
    return import_layer(store, kind, path, meta, **kw)[0]


def test_a_chunked_upload_streams_through_counted(runtime, admin_headers):
    chunks = [bytes([i]) * 65536 for i in range(64)]  # 4 MiB
    headers = [(b"authorization", admin_headers["Authorization"].encode())]
    out = _through_limit(runtime, headers, chunks, limit=200 << 20)
    assert out["status"] == 201 and out["app_body"] == b"".join(chunks)
    # the route saw the body while it arrived, not after all of it was buffered
    assert out["app_first_seen_at"] <= 2


def test_a_chunked_upload_over_the_limit_gets_413_while_streaming(runtime, admin_headers):
    chunks = [b"x" * 65536] * 64  # 4 MiB against a 1 MiB limit
    headers = [(b"authorization", admin_headers["Authorization"].encode())]
    out = _through_limit(runtime, headers, chunks, limit=1 << 20)
    assert out["status"] == 413 and out["json"]["code"] == "request.too_large"
    assert [m.get("status") for m in out["sent"] if m["type"] == "http.response.start"] == [413]
    assert len(out["app_body"]) <= 1 << 20  # the route never got more than the limit
    assert out["pulled"] <= 17  # and reading stopped there


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1])
    raise AssertionError(key)


@pytest.mark.slow
def test_150mb_uploads_do_not_grow_the_server(demo_home, admin_headers):
    """A real server: 150 MiB chunked with an empty Authorization header is refused before it
    is read; 150 MiB from an administrator streams to disk (refused as unreadable)."""
    mib = 150

    def anonymous():  # type: ignore[no-untyped-def]
        for _ in range(mib):
            yield b"\0" * (1 << 20)

    def multipart():  # type: ignore[no-untyped-def]
        yield (b"--x\r\nContent-Disposition: form-data; name=\"accuracy_m\"\r\n\r\n10\r\n"
               b"--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nbig\r\n"
               b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.gpkg\"\r\n"
               b"Content-Type: application/octet-stream\r\n\r\n")
        for _ in range(mib):
            yield b"\1" * (1 << 20)
        yield b"\r\n--x--\r\n"

    ctype = {"content-type": "multipart/form-data; boundary=x"}
    with running_service(demo_home) as url:
        pid = PROCESSES[url].pid
        hwm = _status_kb(pid, "VmHWM:")
        try:
            r = httpx.post(url + LAYER_ROUTE, content=anonymous(), timeout=120,
                           headers={**ctype, "Authorization": ""})
            status = r.status_code
        except httpx.HTTPError:  # the server may answer and close before the body is sent
            status = 401
        anonymous_growth = (_status_kb(pid, "VmHWM:") - hwm) / 1024
        hwm = _status_kb(pid, "VmHWM:")
        t0 = time.monotonic()
        r2 = httpx.post(url + LAYER_ROUTE, content=multipart(), timeout=120,
                        headers={**ctype, **admin_headers})
        elapsed = time.monotonic() - t0
        admin_growth = (_status_kb(pid, "VmHWM:") - hwm) / 1024
    print(f"150 MiB anonymous: peak RSS +{anonymous_growth:.0f} MB; "
          f"150 MiB admin upload: +{admin_growth:.0f} MB in {elapsed:.1f} s")
    assert status == 401
    assert anonymous_growth < 30, f"anonymous upload grew the server by {anonymous_growth:.0f} MB"
    assert r2.status_code == 422, r2.text  # stored to disk, then found not to be a GeoPackage
    assert admin_growth < 60, f"an upload was held in memory (+{admin_growth:.0f} MB)"


# -- 7. an edited layer file is refused, never screened --------------------------------------

def _grid_redline(n_x: int = 60, n_y: int = 50) -> gpd.GeoDataFrame:
    """3 000 small red-line squares around a spot that otherwise passes (106.30, 29.60)."""
    squares = [box(106.27 + i * 1e-3, 29.575 + j * 1e-3, 106.27 + i * 1e-3 + 4e-4,
                   29.575 + j * 1e-3 + 4e-4) for j in range(n_y) for i in range(n_x)]
    return gpd.GeoDataFrame({"name": [f"红线{k}" for k in range(len(squares))],
                             "code": [f"HX{k}" for k in range(len(squares))]},
                            geometry=squares, crs="EPSG:4326")


def _delete_features(path: Path, table: str, keep: int) -> None:
    """What the attacker did: delete rows inside the GeoPackage (the file stays valid)."""
    with sqlite3.connect(path) as con:
        con.execute(f'DELETE FROM "{table}" WHERE fid > ?', (keep,))


def _flip_a_coordinate_byte(path: Path, table: str) -> None:
    """A same-size, in-place edit of one coordinate, with the file's mtime put back."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        blob = con.execute(f'SELECT geom FROM "{table}" WHERE fid = 1').fetchone()[0]
    st = path.stat()
    data = bytearray(path.read_bytes())
    needle = bytes(blob[-40:-24])  # the middle of the last coordinates of the ring
    at = data.find(needle)
    assert at > 0 and data.find(needle, at + 1) == -1
    data[at + 1] ^= 0x01  # a low-order mantissa byte: the point moves a hair
    with open(path, "r+b") as fh:
        fh.write(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_deleting_features_in_the_active_layer_file_never_gives_a_pass(home):
    store = LayerStore(home)
    lv = store.import_frame("eco_redline", _grid_redline(), SourceMeta(
        title="红线(3000块)", accuracy_m=5), loaded_by="tests", activate=True)
    assert lv.feature_count == 3000
    site = {"site": {"type": "Point", "coordinates": [106.3002, 29.6002]}, "radius_m": 10,
            "project": PROJECT}
    settings = Settings(home=home, anonymous_rate_per_minute=0)
    with TestClient(create_app(settings)) as c:
        before = c.post("/api/v1/screenings", json=site).json()
    assert before["verdict"] == "forbid"
    assert "redline-no-development" in [f["rule_id"] for f in before["findings"]]

    _delete_features(lv.path, "eco_redline", keep=10)  # 2 990 of 3 000 features gone
    with TestClient(create_app(settings)) as c:  # a restart on the edited file
        doc = c.post("/api/v1/screenings", json=site).json()
        ready = c.get("/readyz").json()
        rerun = c.post(f"/api/v1/screenings/{before['id']}/rerun",
                       headers=_reviewer(home))
    assert doc["verdict"] == "indeterminate"  # never the false pass the edit would give
    assert "eco_redline" not in [lay["kind"] for lay in doc["layers"]]
    gaps = [g for g in doc["not_evaluated"] if g["code"] == "layer_tampered"]
    assert gaps and all(lv.version in g["reason"] for g in gaps)
    assert ready["refused_layers"][0]["kind"] == "eco_redline"
    assert ready["refused_layers"][0]["version"] == lv.version
    # a re-run pinned to the edited version is refused outright
    assert rerun.status_code == 422 and rerun.json()["code"] == "layer.tampered"
    with pytest.raises(Exception) as exc:
        LayerStore(home).read(lv)
    assert getattr(exc.value, "code", None) == "layer.tampered"
    assert "eco_redline" in exc.value.message_zh and lv.version in exc.value.message_zh
    assert lv.version in exc.value.message_en


def _reviewer(home: Path) -> dict[str, str]:
    from spatial.tokens import TokenStore

    token, _ = TokenStore(LayerStore(home)).create("审批员", "reviewer", actor="tests")
    return {"Authorization": f"Bearer {token}"}


def test_a_same_size_in_place_edit_is_caught(home):
    store = LayerStore(home)
    lv = store.active_versions()["eco_redline"]
    store.read(lv)  # fine before
    _flip_a_coordinate_byte(lv.path, "eco_redline")
    with pytest.raises(Exception) as exc:
        LayerStore(home).read(lv)
    assert getattr(exc.value, "code", None) == "layer.tampered"


def test_an_edited_raster_is_refused_and_its_kind_not_evaluated(home):
    store = LayerStore(home)
    lv = store.active_versions()["slope_deg"]
    data = bytearray(lv.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    lv.path.write_bytes(bytes(data))
    from spatial.layers.layerset import LayerSetCache

    layers = LayerSetCache(store).active()
    assert "slope_deg" not in layers.rasters and "slope_deg" in layers.refused
    with pytest.raises(Exception) as exc:
        LayerSetCache(store).get(store.active_versions())  # pinned: refused outright
    assert getattr(exc.value, "code", None) == "layer.tampered"


def test_a_catalogue_from_before_file_digests_is_checked_when_upgraded(home):
    store = LayerStore(home)
    active = store.active_versions()
    with sqlite3.connect(home / "catalog.sqlite") as con:  # as an older version left it
        con.execute("DROP TABLE IF EXISTS layer_files")
    _delete_features(active["eco_redline"].path, "eco_redline", keep=1)  # edited before
    upgraded = LayerStore(home)
    assert len(upgraded.read(active["river"])) == active["river"].feature_count
    with pytest.raises(Exception) as exc:
        upgraded.read(active["eco_redline"])
    assert getattr(exc.value, "code", None) == "layer.tampered"
    assert [e["action"] for e in upgraded.audit_log("eco_redline", 1)] == ["file_refused"]
    _flip_a_coordinate_byte(active["river"].path, "river")  # and edits after are caught
    with pytest.raises(Exception) as exc:
        LayerStore(home).read(active["river"])
    assert getattr(exc.value, "code", None) == "layer.tampered"


# -- 8. append-only tables refuse INSERT OR REPLACE ----------------------------------------

_REPLACES = [
    ("audit", "INSERT OR REPLACE INTO audit(id, at, actor, action) VALUES (1, 'x', 'x', 'x')"),
    ("audit", "REPLACE INTO audit(id, at, actor, action) VALUES (1, 'x', 'x', 'x')"),
    ("audit", "INSERT INTO audit(id, at, actor, action) VALUES (1, 'x', 'x', 'x') "
              "ON CONFLICT(id) DO UPDATE SET actor = 'x'"),
    ("screenings", "INSERT OR REPLACE INTO screenings(id, created_at, request, result) "
                   "SELECT id, 'x', '{}', '{}' FROM screenings LIMIT 1"),
    ("screenings", "INSERT OR REPLACE INTO screenings(rowid, id, created_at, request, result) "
                   "SELECT rowid, 'other', 'x', '{}', '{}' FROM screenings LIMIT 1"),
    ("screenings", "UPDATE screenings SET result = '{}'"),
    ("screenings", "DELETE FROM screenings"),
    ("layer_versions", "INSERT OR REPLACE INTO layer_versions SELECT kind, version, 'forged', "
                       "feature_count, bbox, meta, validation, path, loaded_by, loaded_at "
                       "FROM layer_versions LIMIT 1"),
    ("layer_versions", "UPDATE layer_versions SET sha256 = 'forged'"),
    ("layer_versions", "DELETE FROM layer_versions"),
    ("layer_files", "INSERT OR REPLACE INTO layer_files SELECT id, kind, version, 'forged', size,"
                    " recorded_at, how FROM layer_files LIMIT 1"),
    ("layer_files", "UPDATE layer_files SET sha256 = 'forged'"),
    ("layer_files", "DELETE FROM layer_files"),
]


def _snapshot(con: sqlite3.Connection) -> dict[str, list[Any]]:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {t: con.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall()
            for t in ("audit", "screenings", "layer_versions", "layer_files") if t in tables}


def _assert_refused(home: Path) -> None:
    with sqlite3.connect(home / "catalog.sqlite") as con:
        con.execute("INSERT INTO screenings VALUES (?, 'x', '{}', '{}')", (os.urandom(8).hex(),))
        con.commit()
        before = _snapshot(con)
        for table, sql in _REPLACES:
            with pytest.raises(sqlite3.IntegrityError, match=r"append-only|immutable"):
                con.execute(sql)
            assert _snapshot(con) == before, (table, sql)


def test_append_only_tables_refuse_replace_update_and_delete(home):
    _assert_refused(home)


def test_a_catalogue_from_an_older_version_gets_the_guards_when_opened(home):
    with sqlite3.connect(home / "catalog.sqlite") as con:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:  # an older catalogue had only the audit UPDATE/DELETE triggers
            if name not in ("audit_append_only_u", "audit_append_only_d"):
                con.execute(f"DROP TRIGGER {name}")
    LayerStore(home)  # opening it migrates
    _assert_refused(home)
    LayerStore(home).audit_log()  # and the store still appends as before
    from spatial.tokens import TokenStore

    TokenStore(LayerStore(home)).create("迁移后", "reviewer", actor="tests")


# -- 9. a raster is judged by its header before any pixel is read ---------------------------

def _sparse_tiff(path: Path, width: int, height: int, dtype: str) -> Path:
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1, "dtype": dtype,
               "crs": "EPSG:4326", "transform": from_origin(106.0, 30.0, 1e-6, 1e-6),
               "tiled": True, "blockxsize": 1024, "blockysize": 1024, "compress": "deflate",
               "sparse_ok": True, "BIGTIFF": "YES", "nodata": 0}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.full((1024, 1024), 7, dtype=dtype), 1, window=Window(0, 0, 1024, 1024))
    assert path.stat().st_size < 2 << 20  # a small file that decodes to gigabytes
    return path


@pytest.fixture
def no_pixel_reads(monkeypatch):
    """Fail the test if anything reads pixels (the pre-check must not need them)."""
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("pixels were read before the size check")

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", refuse)


def _layer_files(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "layers").rglob("*") if p.is_file())


@pytest.mark.parametrize(("width", "height", "dtype"), [(200_000, 200_000, "uint8"),
                                                         (20_000, 20_000, "float32")])
def test_a_sparse_tiff_with_huge_dimensions_is_refused_from_its_header(
        home, tmp_path, no_pixel_reads, width, height, dtype):
    from spatial.errors import TooLargeError
    from spatial.layers.raster import import_raster

    tif = _sparse_tiff(tmp_path / "huge.tif", width, height, dtype)
    store = LayerStore(home)
    files, versions = _layer_files(home), len(store.versions("slope_deg"))
    with pytest.raises(TooLargeError) as exc:
        import_raster(store, "slope_deg", tif, SourceMeta(title="巨大", accuracy_m=1),
                      loaded_by="tests")
    assert exc.value.code == "layer.raster_too_large"
    assert _layer_files(home) == files and len(store.versions("slope_deg")) == versions


def test_a_huge_raster_upload_gets_413_and_stores_nothing(home, tmp_path, no_pixel_reads):
    from spatial.tokens import TokenStore

    tif = _sparse_tiff(tmp_path / "huge.tif", 20_000, 20_000, "float32")
    store = LayerStore(home)
    token, _ = TokenStore(store).create("管理员", "gis_admin", actor="tests")
    files, versions = _layer_files(home), len(store.versions("slope_deg"))
    audit = store.audit_log()
    with TestClient(create_app(Settings(home=home)), raise_server_exceptions=False) as c:
        r = c.post("/api/v1/layers/slope_deg/versions",
                   headers={"Authorization": f"Bearer {token}"},
                   data={"accuracy_m": "30", "title": "巨大坡度"},
                   files={"file": ("huge.tif", tif.read_bytes(), "image/tiff")})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "layer.raster_too_large"
    assert _layer_files(home) == files and len(store.versions("slope_deg")) == versions
    assert [e for e in store.audit_log() if e["action"] != "token_create"] == \
        [e for e in audit if e["action"] != "token_create"]


def test_an_edited_version_is_repaired_by_importing_its_content_again(home):
    store = LayerStore(home)
    lv = store.active_versions()["eco_redline"]
    original = store.read(lv)
    _delete_features(lv.path, "eco_redline", keep=1)
    with pytest.raises(Exception) as exc:
        store.activate("eco_redline", lv.version, actor="tests")  # nor can it be activated
    assert getattr(exc.value, "code", None) == "layer.tampered"
    source = next(e["file"] for e in yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))[
        "layers"] if e["kind"] == "eco_redline")
    again = import_file(store, "eco_redline", MANIFEST.parent / source, lv.meta, loaded_by="tests")
    assert again.version == lv.version
    assert len(store.read(lv)) == lv.feature_count  # the file was written anew, and verifies
    assert store.audit_log("eco_redline", 1)[0]["action"] == "file_rewritten"
    # and a different version can be imported while the active one is still broken
    _delete_features(lv.path, "eco_redline", keep=1)
    other = store.import_frame("eco_redline", original.iloc[:2], SourceMeta(
        title="两块", accuracy_m=10), loaded_by="tests")
    assert any("未与启用版本" in w for w in other.validation["warnings"])
