"""Client values that used to end in a 500 (found by an attack on the service): each is now a
4xx problem (RFC 9457) with a stable code."""

from __future__ import annotations

import pytest

ITEMS = "/ogc/collections/admin_district/items"


def _problem(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


@pytest.mark.parametrize("bbox", [
    "nan,nan,nan,nan", "0,nan,1,1",                      # GEOS refused the ring: was a 500
    "inf,0,inf,1", "-inf,-inf,inf,inf", "1e400,0,1,1",    # not finite
    "106,30,107,29",                                      # south above north
    "200,0,300,10", "0,-100,10,100", "-181,29,107,30",    # outside lon/lat
    "106,29,107", "106,29,107,30,1", "a,b,c,d", ",,,",   # not 4 (or 6) numbers
    "106,29,100,107,30,0",                                # 6 numbers, bottom above top
])
def test_an_ogc_bbox_that_is_not_a_box_is_a_400(client, bbox):
    # OGC API - Features /req/core/query-param-invalid: 400
    _problem(client.get(ITEMS, params={"bbox": bbox}), 400, "ogc.bbox_invalid")


def _ids(client, bbox: str) -> set[int]:
    r = client.get(ITEMS, params={"bbox": bbox, "limit": 1000})
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


def test_an_ogc_bbox_west_of_its_east_edge_spans_the_antimeridian(client):
    # OGC API - Features 1 §7.15.3: west > east is a box across the antimeridian, not a
    # reversed box (which shapely's box() would silently normalise to 107..179)
    west_of_107 = _ids(client, "-180,28,107,33")
    assert 0 < len(west_of_107) < 38
    assert _ids(client, "179,28,107,33") == west_of_107
    assert _ids(client, "107,28,-179,33") == _ids(client, "107,28,180,33")


def test_an_ogc_bbox_with_heights_is_read_as_its_lon_lat_box(client):
    # the 6-number form (minLon,minLat,minH,maxLon,maxLat,maxH) of the bbox parameter
    shapingba = _ids(client, "106.40,29.55,106.45,29.60")
    assert 1 <= len(shapingba) < 38
    assert _ids(client, "106.40,29.55,-100,106.45,29.60,3000") == shapingba


def test_the_next_link_of_a_bbox_query_can_be_followed(client):
    first = client.get(ITEMS, params={"bbox": "105,28,111,33", "limit": 5}).json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    page = client.get(nxt)
    assert page.status_code == 200 and page.json()["numberReturned"] == 5
    assert page.json()["numberMatched"] == first["numberMatched"]


@pytest.mark.parametrize("feature_id", [
    "%C2%B2",     # '²': str.isdigit() accepts it, int() does not
    "1" * 5000,   # beyond int()'s 4 300-digit limit
    "%D9%A3",     # Arabic-Indic three: int() reads it as 3, but no feature has that id
])
def test_an_ogc_feature_id_that_is_not_an_ascii_number_is_a_404(client, feature_id):
    _problem(client.get(f"{ITEMS}/{feature_id}"), 404, "ogc.feature_not_found")
    assert client.get(f"{ITEMS}/3").json()["id"] == 3


@pytest.mark.parametrize("params", [{"offset": 2**63}, {"offset": 10**30}, {"limit": 2**63}])
def test_listing_screenings_beyond_sqlite_integers_is_a_422(client, reviewer_headers, params):
    # an offset past SQLite's 64-bit INTEGER was an OverflowError (500)
    _problem(client.get("/api/v1/screenings", params=params, headers=reviewer_headers), 422,
             "request.invalid")
    assert client.get("/api/v1/screenings", params={"offset": 10**6},
                      headers=reviewer_headers).json() == {"items": []}


POINT = b'{"type": "Point", "coordinates": [106.451142, 29.618444]}'
#: json.loads raises ValueError (not JSONDecodeError) past 4 300 digits, RecursionError when deep
BAD_JSON = {"big_int": '{"industry": 1' + "0" * 5000 + "}", "deep": "[" * 100_000}


@pytest.mark.parametrize("text", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_a_project_field_json_beyond_the_parser_limits_is_a_422(client, reviewer_headers, text):
    files = {"file": ("site.geojson", POINT)}
    _problem(client.post("/api/v1/screenings", files=files, data={"project": text}), 422,
             "request.json_invalid")
    _problem(client.post("/api/v1/screenings/batch", headers=reviewer_headers, files=files,
                         data={"project": text}), 422, "request.json_invalid")


@pytest.mark.parametrize("text", BAD_JSON.values(), ids=BAD_JSON.keys())
def test_a_layer_field_map_beyond_the_parser_limits_is_a_422(client, admin_headers, text):
    r = client.post("/api/v1/layers/eco_redline/versions", headers=admin_headers,
                    files={"file": ("layer.geojson", b"{}")},
                    data={"accuracy_m": "10", "title": "测试", "field_map": text})
    _problem(r, 422, "layer.field_map_invalid")
