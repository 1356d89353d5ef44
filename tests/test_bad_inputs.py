"""The malformed-input corpus (tests/corpus/bad): every file gets a 4xx with its stable code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

BAD = Path(__file__).resolve().parent / "corpus" / "bad"
EXPECTED: dict[str, dict[str, str]] = yaml.safe_load((BAD / "expected.yaml").read_text("utf-8"))


def test_corpus_is_large_enough():
    assert len(EXPECTED) >= 40
    assert all((BAD / name).exists() for name in EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_upload_is_refused_with_stable_code(client, name):
    case = EXPECTED[name]
    data = {"project": '{"industry": "K7010", "nature": "new"}'}
    if "crs" in case:
        data["crs"] = case["crs"]
    r = client.post("/api/v1/screenings", files={"file": (name, (BAD / name).read_bytes())},
                    data=data)
    assert 400 <= r.status_code < 500, r.text
    body = r.json()
    assert body["code"] == case["code"], body
    assert body["message_zh"] and body["message_en"]
    assert str(BAD) not in r.text and "Traceback" not in r.text


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if "." in n and not n.endswith(
    (".exe", ".shp", ".zip", ".kmz", ".gpkg", ".kml"))))
def test_text_inputs_are_refused_in_json_bodies_too(client, name):
    """The same text sent as the `site` string of a JSON request gets the same code."""
    case = EXPECTED[name]
    text = (BAD / name).read_text(encoding="utf-8")
    r = client.post("/api/v1/screenings", json={"site": text, "crs": case.get("crs"),
                                                "project": {"industry": "K7010"}})
    assert 400 <= r.status_code < 500 and r.json()["code"] == case["code"], r.text


def test_too_many_vertices_is_413(client):
    import math
    n = 100_001
    ring = [[106.33 + 0.001 * math.cos(2 * math.pi * i / n), 29.557 + 0.001 * math.sin(
        2 * math.pi * i / n)] for i in range(n)]
    ring.append(ring[0])
    r = client.post("/api/v1/screenings", json={"site": {"type": "Polygon", "coordinates": [ring]}})
    assert r.status_code == 413 and r.json()["code"] == "site.too_many_vertices"


@pytest.mark.parametrize("radius", [5e-324, 1e-9, 0.0, -1.0, 1e9])
def test_point_radius_out_of_range_is_a_4xx(client, radius):
    """A denormal radius made GEOS fail with NaN coordinates (a 500 found by schemathesis)."""
    r = client.post("/api/v1/screenings", json={"site": "POINT(106.45 29.61)", "radius_m": radius,
                                                "project": {"industry": "K7010", "nature": "new"}})
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("site.buffer_invalid", "request.invalid")


def test_media_types_are_matched_case_insensitively(client):
    """RFC 9110 §8.3.1: type and subtype are case-insensitive."""
    body = b'{"site": "POINT(106.45 29.61)", "project": {"industry": "K7010", "nature": "new"}}'
    r = client.post("/api/v1/screenings", content=body,
                    headers={"Content-Type": "Application/JSON; charset=UTF-8"})
    assert r.status_code == 201, r.text
    boundary = "xyz"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.wkt\"\r\n"
            f"\r\nPOINT (106.45 29.61)\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"project\"\r\n\r\n{{\"industry\": \"K7010\"}}\r\n--{boundary}--\r\n").encode()
    r = client.post("/api/v1/screenings", content=form,
                    headers={"Content-Type": f"MULTIPART/Form-Data; boundary={boundary}"})
    assert r.status_code == 201, r.text


NESTED_MIXED = {"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection",
                "geometries": [{"type": "Point", "coordinates": [106.45, 29.6]},
                               {"type": "Polygon", "coordinates": [[[106.40, 29.55], [106.42, 29.55],
                                                                    [106.42, 29.57], [106.40, 29.57],
                                                                    [106.40, 29.55]]]}]}]}
NESTED_UNCLOSED = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                   "geometry": {"type": "GeometryCollection", "geometries": [
                       {"type": "Polygon", "coordinates": [[[106.40, 29.55], [106.42, 29.55],
                                                            [106.42, 29.57], [106.40, 29.57]]]}]}}]}


@pytest.mark.parametrize(("site", "code"), [
    (NESTED_MIXED, "site.mixed_dimensions"), (NESTED_UNCLOSED, "site.ring_unclosed"),
    ('{"type": "Point", "coordinates": [106.45, 29.58, 1' + "0" * 5000 + "]}", "site.json_invalid")])
def test_nested_collections_and_huge_numbers_in_a_site_are_4xx(client, site, code):
    """Found by the long schemathesis run: a nested GeometryCollection escaped the dimension and
    ring checks (503 from the sandbox worker, or a 30 s timeout); a 5 000-digit number inside a
    site string was a 500."""
    r = client.post("/api/v1/screenings", json={"site": site, "project": {"industry": "K7010"}})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code


def test_a_batch_file_with_a_huge_number_is_4xx(client, reviewer_headers):
    data = b'{"type": "FeatureCollection", "features": [' + b"1" * 5000 + b"]}"
    r = client.post("/api/v1/screenings/batch", files={"file": ("sites.geojson", data)},
                    data={"project": '{"industry": "K7010"}'}, headers=reviewer_headers)
    assert 400 <= r.status_code < 500, r.text
