"""Abuse protection: rate limits, security headers, CORS off by default, no internals leaked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

POINT = {"site": {"type": "Point", "coordinates": [106.332299, 29.557251]},
         "project": {"industry": "K7010", "nature": "new"}}


def test_anonymous_screening_is_rate_limited_per_client(demo_home):
    app = create_app(Settings(home=demo_home, anonymous_rate_per_minute=5))
    with TestClient(app) as c:
        codes = [c.post("/api/v1/screenings", json=POINT).status_code for _ in range(7)]
        assert codes[:5] == [201] * 5 and codes[5:] == [429, 429]
        r = c.post("/api/v1/screenings", json=POINT)
        assert r.json()["code"] == "rate_limited" and r.headers["Retry-After"] == "60"
        assert c.get("/api/v1/rules").status_code == 200  # reads are not limited


def test_security_headers_and_csp(client):
    r = client.get("/")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]


def test_cors_is_off_by_default_and_configurable(demo_home, client):
    r = client.options("/api/v1/screenings", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers
    app = create_app(Settings(home=demo_home, cors_origins=["https://gis.cq.gov.cn"]))
    with TestClient(app) as c:
        r = c.options("/api/v1/screenings", headers={"Origin": "https://gis.cq.gov.cn",
                                                     "Access-Control-Request-Method": "POST"})
        assert r.headers["access-control-allow-origin"] == "https://gis.cq.gov.cn"


def test_errors_carry_no_stack_traces_or_paths(client, demo_home):
    for r in (client.post("/api/v1/screenings", content=b"{", headers={"content-type":
                                                                        "application/json"}),
              client.get("/api/v1/screenings/x/report"),
              client.post("/api/v1/screenings", files={"file": ("a.gpkg", b"SQLite format 3\0x")})):
        assert "Traceback" not in r.text and str(demo_home) not in r.text and "/tmp" not in r.text


@pytest.mark.slow
def test_200mb_upload_is_refused_quickly_with_bounded_memory(demo_home):
    """Streamed without a Content-Length to a real server: refused at the 20 MB limit."""
    import time

    import httpx

    from tests.server import PROCESSES, running_service

    def vm_hwm_mb(pid: int) -> float:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM")

    def body():
        # a well-formed start, so the route reads on (chunked bodies stream through to it)
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.geojson"\r\n\r\n'
        chunk = b"\0" * (1 << 20)
        for _ in range(200):  # 200 MB
            yield chunk

    with running_service(demo_home) as url:
        pid = PROCESSES[url].pid
        before = vm_hwm_mb(pid)
        t0 = time.monotonic()
        try:
            r = httpx.post(f"{url}/api/v1/screenings", content=body(), timeout=60,
                           headers={"content-type": "multipart/form-data; boundary=x"})
            status, code = r.status_code, r.json()["code"]
        except httpx.HTTPError:  # the server may close the connection mid-upload
            status, code = 413, "request.too_large"
        elapsed = time.monotonic() - t0
        growth = vm_hwm_mb(pid) - before
    assert status == 413 and code == "request.too_large"
    assert elapsed < 15
    assert growth < 80, f"server peak memory grew by {growth:.0f} MB"
    print(f"200 MB upload refused in {elapsed:.2f} s; server peak RSS grew {growth:.0f} MB")


def test_a_bad_token_cannot_dodge_the_rate_limit(demo_home):
    app = create_app(Settings(home=demo_home, anonymous_rate_per_minute=2))
    with TestClient(app) as c:
        r = c.post("/api/v1/screenings", json=POINT, headers={"Authorization": "Bearer garbage"})
        assert r.status_code == 401 and r.json()["code"] == "auth.invalid"


def test_batch_needs_a_token(client):
    r = client.post("/api/v1/screenings/batch", json={"sites": {"type": "FeatureCollection",
                                                                "features": []}})
    assert r.status_code == 401


def test_large_uploads_without_a_token_are_refused_before_reading(client):
    r = client.post("/api/v1/layers/eco_redline/versions", content=iter([b"x" * 1024] * 10),
                    headers={"content-type": "multipart/form-data; boundary=x"})
    assert r.status_code == 401 and r.json()["code"] == "auth.required"


def test_forwarded_for_uses_the_proxy_hop(demo_home):
    app = create_app(Settings(home=demo_home, anonymous_rate_per_minute=2,
                              trust_forwarded_for=True))
    with TestClient(app) as c:
        codes = [c.post("/api/v1/screenings", json=POINT,
                        headers={"X-Forwarded-For": f"10.0.0.{i}, 192.168.1.5"}).status_code
                 for i in range(4)]
    assert codes == [201, 201, 429, 429]  # forging the leftmost address does not help


def test_layer_names_are_escaped_in_the_map_preview(fresh_home, tmp_path):
    import geopandas as gpd

    from spatial.layers.store import SourceMeta

    app = create_app(Settings(home=tmp_path / "home", anonymous_rate_per_minute=0))
    store = app.state.runtime.store
    rivers = store.read(store.active_versions()["river"])
    rivers.loc[rivers["name"] == "嘉陵江", "name"] = "嘉陵江<img src=x onerror=alert(1)>"
    rivers["class"] = rivers["class"].astype(str)
    store.import_frame("river", gpd.GeoDataFrame(rivers, crs="EPSG:4326"),
                       SourceMeta(title="river-xss", accuracy_m=1100), loaded_by="t",
                       activate=True)
    with TestClient(app) as c:
        doc = c.post("/api/v1/screenings", json={
            "site": {"type": "Point", "coordinates": [106.451142, 29.618444]}, "radius_m": 50,
            "project": {"industry": "K7010", "nature": "new"}}).json()
        html = c.get(doc["links"]["map"]).text
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html


def test_a_client_that_leaves_mid_body_reaches_no_handler():
    """A chunked body cut short by a disconnect is not handed on as if it were complete."""
    import asyncio

    from app.limits import BodyLimit

    called: list[bytes] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        called.append((await receive())["body"])

    messages = [{"type": "http.request", "body": b"{\"site\":", "more_body": True},
                {"type": "http.disconnect"}]

    async def receive():  # type: ignore[no-untyped-def]
        return messages.pop(0)

    async def send(message):  # type: ignore[no-untyped-def]
        raise AssertionError("nothing should be sent to a client that left")

    asyncio.run(BodyLimit(app, 1000)({"type": "http", "path": "/api/v1/screenings",
                                      "method": "POST", "headers": []}, receive, send))
    assert called == []
