"""HTTP API: status codes, problem+json errors with stable codes, verdict documents, map."""

from __future__ import annotations

import json

import pytest

PROBLEM = "application/problem+json"
# A small square in western 沙坪坝 (see tests/test_scenarios.py for the scenario points).
SQUARE = {"type": "Polygon", "coordinates": [[[106.30, 29.55], [106.302, 29.55], [106.302, 29.552],
                                               [106.30, 29.552], [106.30, 29.55]]]}


def _post(client, body):
    return client.post("/api/v1/screenings", json=body)


def test_create_fetch_and_map(client):
    r = _post(client, {"site": SQUARE, "project": {"industry": "K7010", "nature": "new"}})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["verdict"] in ("forbid", "restrict", "pass", "indeterminate")
    for key in ("id", "summary_zh", "site", "project", "findings", "not_evaluated", "layers",
                "rules_version", "engine_version", "created_at", "links"):
        assert key in doc
    assert doc["site"]["districts"][0]["adcode"] == "500106"
    assert all(len(lay["sha256"]) == 64 for lay in doc["layers"])
    again = client.get(doc["links"]["self"])
    assert again.status_code == 200 and again.json()["verdict"] == doc["verdict"]
    page = client.get(doc["links"]["map"])
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    html = page.text
    assert "/static/vendor/leaflet/leaflet.js" in html and "图例" in html
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200


def test_rerun_reproduces_the_recorded_verdict(client, reviewer_headers):
    doc = _post(client, {"site": SQUARE, "project": {"industry": "C2614", "nature": "new"}}).json()
    assert client.post(f"/api/v1/screenings/{doc['id']}/rerun").status_code == 401
    r = client.post(f"/api/v1/screenings/{doc['id']}/rerun", headers=reviewer_headers)
    assert r.status_code == 200
    out = r.json()
    assert out["same_verdict"] and out["changes"] == []
    assert out["rerun"]["findings"] == doc["findings"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"site": SQUARE, "project": {"industry": "C9999"}}, 422, "industry.unknown"),
    ({"site": SQUARE, "project": {"nature": "maybe"}}, 422, "request.invalid"),
    ({"site": SQUARE, "project": {"colour": "red"}}, 422, "request.invalid"),
    ({"project": {}}, 422, "request.invalid"),
    ({"site": {"type": "Polygon", "coordinates": []}}, 422, "site.empty"),
    ({"site": {"type": "Polygon", "coordinates": "x"}}, 422, "site.geojson_invalid"),
    ({"site": {"type": "Point", "coordinates": [29.55, 106.3]}}, 422, "site.axis_swapped"),
    ({"site": {"type": "Point", "coordinates": [3_500_000, 500]}}, 422, "crs.required"),
    ({"site": SQUARE, "crs": "EPSG:999999"}, 422, "crs.unknown"),
    ({"site": "POLYGON ((106.3 29.55, 106.31 29.55"}, 422, "site.wkt_invalid"),
    ({"site": {"type": "Point", "coordinates": [106.3, 29.55]}, "radius_m": -5}, 422,
     "request.invalid"),
    ({"site": {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [106.3, 29.55]},
        {"type": "LineString", "coordinates": [[106.3, 29.55], [106.31, 29.56]]}]}}, 422,
     "site.mixed_dimensions"),
])
def test_bad_input_is_a_4xx_problem_with_stable_code(client, body, status, code):
    r = _post(client, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    p = r.json()
    assert p["code"] == code and p["message_zh"] and p["message_en"] and p["status"] == status
    assert "Traceback" not in r.text


def test_unknown_industry_suggests_codes(client):
    p = _post(client, {"site": SQUARE, "project": {"industry": "C2641x"}}).json()
    assert p["code"] == "industry.unknown" and p["details"]["suggestions"]


def test_malformed_json_and_wrong_content_type(client):
    r = client.post("/api/v1/screenings", content=b"{nope",
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "request.json_invalid"
    r = client.post("/api/v1/screenings", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 422 and r.json()["code"] == "request.content_type"


def test_unknown_screening_and_route(client):
    r = client.get("/api/v1/screenings/doesnotexist")
    assert r.status_code == 404 and r.json()["code"] == "screening.not_found"
    assert client.get("/api/v1/nothing").json()["code"] == "not_found"
    assert client.get("/api/v1/screenings/doesnotexist/map").status_code == 404


def test_multipart_upload_of_a_geojson_file(client):
    files = {"file": ("site.geojson", json.dumps({"type": "Feature", "geometry": SQUARE,
                                                   "properties": {}}), "application/geo+json")}
    r = client.post("/api/v1/screenings", files=files,
                    data={"project": json.dumps({"industry": "K7010", "nature": "new"})})
    assert r.status_code == 201, r.text
    assert r.json()["project"]["industry"]["code"] == "K7010"


def test_multipart_refuses_unsupported_file(client):
    r = client.post("/api/v1/screenings", files={"file": ("site.exe", b"MZ", "application/x")})
    assert r.status_code == 422 and r.json()["code"] == "upload.unsupported_format"


def test_rules_industries_layers_health(client):
    rules = client.get("/api/v1/rules").json()
    assert len(rules["rules"]) >= 30 and len(rules["rules_version"]) == 64
    inds = client.get("/api/v1/industries", params={"q": "水泥"}).json()["items"]
    assert any(i["code"] == "C3011" for i in inds)
    assert client.get("/api/v1/industries", params={"q": "C26"}).json()["items"][0]["code"] == "C26"
    layers = client.get("/api/v1/layers").json()["layers"]
    assert {lay["kind"] for lay in layers if lay["active"]} >= {"admin_district", "river"}
    assert client.get("/api/v1/layers/river").json()["active"]
    assert client.get("/api/v1/layers/nope").status_code == 404
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    assert client.get("/openapi.json").status_code == 200


def test_oversized_body_is_refused_with_413(client):
    limit = client.app.state.runtime.settings.max_body_bytes
    r = client.post("/api/v1/screenings", content=b"x" * (limit + 1),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "request.too_large"


def test_map_shows_the_distance_rings_that_were_tested(client):
    doc = _post(client, {"site": {"type": "Point", "coordinates": [106.451142, 29.618444]},
                         "radius_m": 50, "project": {"industry": "C2614", "nature": "new"}}).json()
    html = client.get(doc["links"]["map"]).text
    assert "嘉陵江 1000 米" in html and "嘉陵江 5000 米" in html
    assert "距离控制线" in html and "示意数据" in html


def test_chunked_body_without_length_is_accepted_and_bounded(client):
    body = json.dumps({"site": SQUARE, "project": {"industry": "K7010", "nature": "new"}}).encode()
    r = client.post("/api/v1/screenings", content=iter([body[:20], body[20:]]),
                    headers={"content-type": "application/json"})
    assert r.status_code == 201
    limit = client.app.state.runtime.settings.max_body_bytes
    r = client.post("/api/v1/screenings", content=iter([b"x" * limit, b"y"]),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize(("body", "code"), [
    ('{"site": {"type": "Point", "coordinates": [1' + "0" * 400 + ', 1]}}', "site.geojson_invalid"),
    ('{"site": {"type": "Point", "coordinates": [35440000, 3275000]}, "crs": "bd09"}',
     "site.out_of_range"),
    ('{"site": {"type": "Point", "coordinates": [106.3, 29.5]}, "crs": "IAU_2015:30100"}', None),
    ('{"site": ' + '{"type": "Feature", "geometry": ' * 600 + "null" + "}" * 600 + "}", None),
    ('{"site": ' + "[" * 5000 + "]" * 5000 + "}", "request.json_invalid"),
    ('{"site": {"type": "Feature", "geometry": {"type": "Feature", "geometry": null}}}',
     "site.geojson_invalid"),
])
def test_hostile_inputs_get_4xx_not_500(client, body, code):
    r = client.post("/api/v1/screenings", content=body.encode(),
                    headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    if code:
        assert r.json()["code"] == code


def test_multipart_project_must_be_text(client):
    files = {"file": ("s.geojson", json.dumps(SQUARE)), "project": ("p.json", b"{}")}
    r = client.post("/api/v1/screenings", files=files)
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"


def test_overlapping_parts_are_counted_once(client):
    a = [[106.30, 29.55], [106.31, 29.55], [106.31, 29.56], [106.30, 29.56], [106.30, 29.55]]
    b = [[x + 0.005, y] for x, y in a]
    gc = {"type": "GeometryCollection", "geometries": [{"type": "Polygon", "coordinates": [a]},
                                                       {"type": "Polygon", "coordinates": [b]}]}
    one = _post(client, {"site": {"type": "Polygon", "coordinates": [a]}}).json()["site"]["area_m2"]
    both = _post(client, {"site": gc}).json()["site"]
    assert both["area_m2"] == pytest.approx(one * 1.5, rel=1e-3)
    assert any("重叠" in w for w in both["warnings"])


def test_printable_report(client):
    doc = _post(client, {"site": {"type": "Point", "coordinates": [106.451142, 29.618444]},
                         "radius_m": 50, "project": {"industry": "C2614", "nature": "new"}}).json()
    r = client.get(doc["links"]["report"])
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    html = r.text
    assert doc["id"] in html and "禁止" in html and "@media print" in html
    assert "嘉陵江岸线一公里" in html and doc["rules_version"] in html
    assert all(lay["sha256"] in html for lay in doc["layers"])
    assert "示意数据" in html and "<script" not in html


def test_malformed_geojson_matrix_never_500(client):
    """Every geometry type × member × odd value (448 combinations) gets a 4xx or 201."""
    odd = [True, 1, "x", [True], [[True]], {"type": "x"}, None, [[[1]]], [[[[1, 2]]]], [], [[]],
           {"type": "Feature"}, [{"type": "Feature", "geometry": True}],
           [{"type": "Point", "coordinates": [1, 2]}]]
    types = ["FeatureCollection", "Feature", "GeometryCollection", "Polygon", "MultiPolygon",
             "Point", "LineString", "MultiPoint"]
    bad = []
    for t in types:
        for v in odd:
            for key in ("coordinates", "geometry", "features", "geometries"):
                r = client.post("/api/v1/screenings", json={"site": {"type": t, key: v}})
                if r.status_code >= 500:
                    bad.append((t, key, v))
    assert bad == []
