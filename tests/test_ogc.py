"""OGC API – Features, read by clients nobody here wrote: GDAL's OAPIF driver (ogrinfo)."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest

from tests.server import running_service

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None,
                                reason="needs Debian gdal-bin (installed by .ci/run)")


@pytest.fixture(scope="module")
def service(demo_home):
    with running_service(demo_home) as url:
        yield url


def _ogrinfo(*args: str) -> str:
    out = subprocess.run(["ogrinfo", "-ro", *args], capture_output=True, text=True, timeout=120,
                         env={"GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF", "PATH": "/usr/bin"})
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_gdal_lists_the_collections(service):
    out = _ogrinfo(f"OAPIF:{service}/ogc")
    for kind in ("admin_district", "river", "eco_redline", "protected_area", "water_source"):
        assert kind in out


def test_gdal_reads_features_with_attributes(service):
    out = _ogrinfo("-al", "-so", f"OAPIF:{service}/ogc", "admin_district")
    assert "Feature Count: 38" in out
    rivers = _ogrinfo("-al", "-q", f"OAPIF:{service}/ogc", "river")
    assert "嘉陵江" in rivers and "LINESTRING" in rivers


def test_gdal_applies_a_spatial_filter(service):
    # 沙坪坝 and its neighbours only
    out = _ogrinfo("-al", "-so", "-spat", "106.40", "29.55", "106.45", "29.60",
                   f"OAPIF:{service}/ogc", "admin_district")
    count = int(out.split("Feature Count: ")[1].split()[0])
    assert 1 <= count < 38


def test_items_paging_and_item_by_id(service):
    page = httpx.get(f"{service}/ogc/collections/admin_district/items",
                     params={"limit": 10, "offset": 30}).json()
    assert page["numberMatched"] == 38 and page["numberReturned"] == 8
    assert not any(link["rel"] == "next" for link in page["links"])
    first = httpx.get(f"{service}/ogc/collections/admin_district/items", params={"limit": 5}).json()
    assert any(link["rel"] == "next" for link in first["links"])
    one = httpx.get(f"{service}/ogc/collections/admin_district/items/1")
    assert one.headers["content-type"].startswith("application/geo+json")
    assert one.json()["id"] == 1 and one.json()["properties"]["adcode"].startswith("50")
    assert httpx.get(f"{service}/ogc/collections/admin_district/items/999").status_code == 404
    assert httpx.get(f"{service}/ogc/collections/nope/items").status_code == 404
    assert httpx.get(f"{service}/ogc/collections/river/items",
                     params={"bbox": "a,b"}).json()["code"] == "ogc.bbox_invalid"


def test_features_are_documented_as_the_geojson_they_are_sent_as(service):
    """The OpenAPI schema names the media type the items endpoints send (clients generated
    from it, and schema checks, would otherwise refuse application/geo+json)."""
    paths = httpx.get(f"{service}/openapi.json").json()["paths"]
    for path in ("/ogc/collections/{collection_id}/items",
                 "/ogc/collections/{collection_id}/items/{feature_id}"):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == ["application/geo+json"]
    sent = httpx.get(f"{service}/ogc/collections/admin_district/items", params={"limit": 1})
    assert sent.headers["content-type"].startswith("application/geo+json")
