"""Property-based tests (hypothesis): CRS round trips and verdict invariance across CRSs."""

from __future__ import annotations

import math

import prcoords
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from spatial.service import ScreeningRequest

GEOD = Geod(ellps="GRS80")
# Chongqing's extent
LON = st.floats(105.3, 110.1)
LAT = st.floats(28.2, 32.1)
GK = {35: (4523, 4544), 36: (4524, 4545), 37: (4525, 4546)}


def _zone(lon: float) -> int:
    return int((lon + 1.5) // 3)


@given(LON, LAT)
def test_gauss_kruger_round_trip_within_1mm(lon, lat):
    for epsg in GK[_zone(lon)]:
        fwd = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True)
        inv = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4490", always_xy=True)
        x, y = fwd.transform(lon, lat)
        lon2, lat2 = inv.transform(x, y)
        assert GEOD.inv(lon, lat, lon2, lat2)[2] <= 0.001


@given(LON, LAT)
def test_gcj02_round_trip_within_half_a_metre(lon, lat):
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon), check_china=False)
    back = prcoords.gcj_wgs_bored(gcj, check_china=False)
    assert GEOD.inv(lon, lat, back.lon, back.lat)[2] <= 0.5
    wgs = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon), check_china=False)
    again = prcoords.wgs_gcj(wgs, check_china=False)
    assert GEOD.inv(lon, lat, again.lon, again.lat)[2] <= 0.5


def _square(lon: float, lat: float, half_m: float) -> list[tuple[float, float]]:
    pts = []
    for az in (225, 135, 45, 315):
        x, y, _ = GEOD.fwd(lon, lat, az, half_m * math.sqrt(2))
        pts.append((x, y))
    return [*pts, pts[0]]


def _in_crs(ring: list[tuple[float, float]], crs: str) -> list[list[float]]:
    if crs == "gcj02":
        return [[c.lon, c.lat] for c in (prcoords.wgs_gcj(prcoords.Coords(y, x), check_china=False)
                                          for x, y in ring)]
    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return [list(t.transform(x, y)) for x, y in ring]


# Around the Jialing in 沙坪坝 and the 缙云山 ridge, where rules are dense.
SITE_LON = st.floats(106.30, 106.48)
SITE_LAT = st.floats(29.52, 29.75)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SITE_LON, SITE_LAT, st.floats(30, 400))
def test_same_verdict_and_distances_in_every_crs(engine, lon, lat, half):
    """WGS84, CGCS2000, its GK zone and GCJ-02 give the same verdict; distances within 1 m."""
    ring = _square(lon, lat, half)
    zone_epsg = f"EPSG:{GK[_zone(lon)][1]}"
    docs = {}
    for crs in ("EPSG:4326", "EPSG:4490", zone_epsg, "gcj02"):
        req = ScreeningRequest(site={"type": "Polygon", "coordinates": [_in_crs(ring, crs)]},
                               crs=crs, project={"industry": "C2614", "nature": "new"})
        docs[crs] = engine.service.evaluate(req)
    ref = docs["EPSG:4326"]
    ref_d = {f["rule_id"]: f["measure"].get("distance_m") for f in ref["findings"]}
    for crs, doc in docs.items():
        assert doc["verdict"] == ref["verdict"], crs
        got = {f["rule_id"]: f["measure"].get("distance_m") for f in doc["findings"]}
        assert got.keys() == ref_d.keys(), crs
        for rid, d in ref_d.items():
            if d is not None:
                assert abs(got[rid] - d) <= 1.0, (crs, rid)
