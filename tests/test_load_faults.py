"""Load with faults: 32 concurrent HTTP clients screen while a layer version is activated and
rolled back; every request must succeed and name one consistent version set."""

from __future__ import annotations

import asyncio
import time

import geopandas as gpd
import httpx
import pandas as pd
import pytest
from shapely.geometry import box

from app.settings import Settings
from app.state import open_runtime
from spatial.layers.store import SourceMeta
from spatial.tokens import TokenStore
from tests.server import running_service

SITE = (106.332299, 29.557251)
CLIENTS = 32
SECONDS = 8.0


@pytest.mark.slow
def test_32_clients_during_activation_and_rollback(fresh_home, tmp_path):
    home = fresh_home
    runtime = open_runtime(Settings(home=home))
    store = runtime.store
    v1 = store.active_versions()["eco_redline"]
    extra = gpd.GeoDataFrame({"name": ["新增"], "code": ["N"]}, crs="EPSG:4326", geometry=[
        box(SITE[0] - 0.003, SITE[1] - 0.003, SITE[0] + 0.003, SITE[1] + 0.003)])
    v2 = store.import_frame("eco_redline", gpd.GeoDataFrame(
        pd.concat([store.read(v1), extra]), crs="EPSG:4326"),
        SourceMeta(title="v2", accuracy_m=10), loaded_by="test")
    token, _ = TokenStore(store).create("负载测试", "gis_admin")
    expected = {v1.version: "pass", v2.version: "forbid"}
    body = {"site": {"type": "Point", "coordinates": list(SITE)}, "radius_m": 50,
            "project": {"industry": "K7010", "nature": "new"}}

    async def run(url: str) -> tuple[list[tuple[int, str | None, str | None]], int, float]:
        results: list[tuple[int, str | None, str | None]] = []
        flips = 0
        deadline = time.monotonic() + SECONDS
        limits = httpx.Limits(max_connections=CLIENTS + 2)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            async def client() -> None:
                while time.monotonic() < deadline:
                    r = await http.post("/api/v1/screenings", json=body)
                    doc = r.json()
                    red = next((lay["version"] for lay in doc.get("layers", [])
                                if lay["kind"] == "eco_redline"), None)
                    results.append((r.status_code, red, doc.get("verdict")))

            async def admin() -> None:
                nonlocal flips
                h = {"Authorization": f"Bearer {token}"}
                while time.monotonic() < deadline:
                    target = v2 if flips % 2 == 0 else v1
                    r = await http.post("/api/v1/layers/eco_redline/activate",
                                        json={"version": target.version}, headers=h)
                    assert r.status_code == 200, r.text
                    flips += 1
                    await asyncio.sleep(0.2)

            t0 = time.monotonic()
            await asyncio.gather(admin(), *(client() for _ in range(CLIENTS)))
            return results, flips, time.monotonic() - t0

    with running_service(home) as url:
        results, flips, elapsed = asyncio.run(run(url))
    assert flips >= 10
    assert len(results) >= CLIENTS * 5
    assert all(code == 201 for code, _, _ in results), {c for c, _, _ in results}
    assert {v for _, v, _ in results} == {v1.version, v2.version}
    assert all(expected[v] == verdict for _, v, verdict in results)
    print(f"{len(results)} screenings in {elapsed:.1f} s ({len(results) / elapsed:.0f}/s) "
          f"across {flips} activations")
