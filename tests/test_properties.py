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
def test_same_verdict_and_distances_in_every_crs(runtime, lon, lat, half):
    """WGS84, CGCS2000, its GK zone and GCJ-02 give the same verdict; distances within 1 m."""
    ring = _square(lon, lat, half)
    zone_epsg = f"EPSG:{GK[_zone(lon)][1]}"
    docs = {}
    for crs in ("EPSG:4326", "EPSG:4490", zone_epsg, "gcj02"):
        req = ScreeningRequest(site={"type": "Polygon", "coordinates": [_in_crs(ring, crs)]},
                               crs=crs, project={"industry": "C2614", "nature": "new"})
        docs[crs] = runtime.service.evaluate(req)
    ref = docs["EPSG:4326"]
    ref_d = {f["rule_id"]: f["measure"].get("distance_m") for f in ref["findings"]}
    for crs, doc in docs.items():
        assert doc["verdict"] == ref["verdict"], crs
        got = {f["rule_id"]: f["measure"].get("distance_m") for f in doc["findings"]}
        assert got.keys() == ref_d.keys(), crs
        for rid, d in ref_d.items():
            if d is not None:
                assert abs(got[rid] - d) <= 1.0, (crs, rid)


# --- invariance and robustness -----------------------------------------------------------

def _variants(ring: list[tuple[float, float]], k: int) -> list[list[tuple[float, float]]]:
    body = ring[:-1]
    rotated = body[k % len(body):] + body[:k % len(body)]
    dup = [p for q in body for p in (q, q)]
    return [ring, [*rotated, rotated[0]], list(reversed(ring)), [*dup, dup[0]]]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SITE_LON, SITE_LAT, st.floats(30, 600), st.integers(0, 3))
def test_verdict_ignores_vertex_order_orientation_and_duplicates(runtime, lon, lat, half, k):
    docs = [runtime.service.evaluate(ScreeningRequest(
        site={"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
        project={"industry": "C2614", "nature": "new"})) for ring in _variants(_square(lon, lat, half), k)]
    first = docs[0]
    for doc in docs[1:]:
        assert doc["verdict"] == first["verdict"]
        assert [(f["rule_id"], f["verdict"]) for f in doc["findings"]] == \
            [(f["rule_id"], f["verdict"]) for f in first["findings"]]
        assert abs(doc["site"]["area_m2"] - first["site"]["area_m2"]) <= 0.1


SCALARS = (st.none() | st.booleans() | st.integers()
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
JSON = st.recursive(SCALARS,
                    lambda inner: st.lists(inner, max_size=5)
                    | st.dictionaries(st.sampled_from(["type", "coordinates", "geometry",
                                                       "features", "geometries", "crs", "x"]),
                                      inner, max_size=4), max_leaves=30)
GEOM_TYPES = st.sampled_from(["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                              "MultiPolygon", "GeometryCollection", "Feature",
                              "FeatureCollection"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(GEOM_TYPES, JSON)
def test_random_geojson_never_crashes_the_service(client, gtype, coords):
    r = client.post("/api/v1/screenings", json={"site": {"type": gtype, "coordinates": coords,
                                                         "geometry": coords, "features": coords}})
    assert r.status_code < 500, r.text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.floats(105.5, 110.0), st.floats(28.3, 32.0)), min_size=1, max_size=12))
def test_random_rings_are_screened_or_refused_never_crash(runtime, pts):
    from spatial.errors import InputError

    ring = [list(p) for p in pts] + [list(pts[0])]
    try:
        doc = runtime.service.evaluate(ScreeningRequest(
            site={"type": "Polygon", "coordinates": [ring]},
            project={"industry": "K7010", "nature": "new"}))
    except InputError:
        return  # degenerate, self-intersecting beyond repair, too large: a 4xx
    assert doc["verdict"] in ("forbid", "restrict", "pass", "indeterminate")
