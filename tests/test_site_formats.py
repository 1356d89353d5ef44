"""The same parcel in every supported format and CRS gets the same verdict and measures."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import prcoords
import pytest
from pyproj import Transformer
from shapely.geometry import Polygon

from spatial.service import ScreeningRequest, request_from_file

# A 300 m × 220 m parcel in 沙坪坝 about 450 m from the Jialing centreline.
LL = [(106.4495, 29.6175), (106.4525, 29.6175), (106.4525, 29.6195), (106.4495, 29.6195),
      (106.4495, 29.6175)]
PROJECT = {"industry": "C2614", "nature": "new"}


def _proj(epsg: int) -> list[tuple[float, float]]:
    t = Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    return [t.transform(x, y) for x, y in LL]


def _jzd(points_en: list[tuple[float, float]], zone_line: str) -> str:
    rows = "\n".join(f"J{i + 1},1,{n:.4f},{e:.4f}" for i, (e, n) in enumerate(points_en))
    return ("[属性描述]\n格式版本号=1.01版本\n坐标系=2000国家大地坐标系\n几度分带=3\n投影类型=高斯克吕格\n"
            f"计量单位=米\n{zone_line}[地块坐标]\n5,0.0660,1,测试地块,面,,工业用地,,@\n{rows}\n")


def _gdf(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"名称": ["测试地块"]}, geometry=[Polygon(LL)], crs="EPSG:4326").to_crs(crs)


def make(fmt: str, tmp: Path) -> tuple[Path, str | None]:
    """Write the parcel in ``fmt``; returns the file and the CRS to state (if any)."""
    if fmt == "geojson":
        p = tmp / "s.geojson"
        p.write_text(json.dumps({"type": "Feature", "properties": {"名称": "地块"},
                                 "geometry": {"type": "Polygon", "coordinates": [LL]}}))
        return p, None
    if fmt == "wkt":
        p = tmp / "s.wkt"
        p.write_text(Polygon(LL).wkt)
        return p, None
    if fmt == "ewkt_4490":
        p = tmp / "s.ewkt"
        p.write_text("SRID=4490;" + Polygon(LL).wkt)
        return p, None
    if fmt == "jzd_prefixed":
        p = tmp / "s.txt"
        pts = [(e + 35_000_000, n) for e, n in _proj(4544)]
        p.write_text(_jzd(pts, "带号=35\n"), encoding="gbk")
        return p, None
    if fmt == "jzd_plain":
        p = tmp / "s.txt"
        p.write_text(_jzd(_proj(4544), "带号=35\n"), encoding="utf-8")
        return p, None
    if fmt == "csv_lonlat":
        p = tmp / "s.csv"
        p.write_text("lon,lat\n" + "\n".join(f"{x},{y}" for x, y in LL))
        return p, None
    if fmt == "csv_latlon":
        p = tmp / "s.csv"
        p.write_text("纬度,经度\n" + "\n".join(f"{y},{x}" for x, y in LL))
        return p, None
    if fmt == "csv_gk_4544":
        p = tmp / "s.csv"
        p.write_text("点号,x,y\n" + "\n".join(f"J{i},{e},{n}" for i, (e, n) in enumerate(_proj(4544))))
        return p, "EPSG:4544"
    if fmt == "csv_utm48":
        p = tmp / "s.csv"
        p.write_text("\n".join(f"{e},{n}" for e, n in _proj(32648)))
        return p, "EPSG:32648"
    if fmt in ("gcj02", "bd09"):
        fn = prcoords.wgs_gcj if fmt == "gcj02" else prcoords.wgs_bd
        pts = [fn(prcoords.Coords(y, x), check_china=False) for x, y in LL]
        p = tmp / "s.geojson"
        p.write_text(json.dumps({"type": "Polygon", "coordinates": [[[c.lon, c.lat] for c in pts]]}))
        return p, fmt
    if fmt in ("kml", "kmz"):
        p = tmp / "s.kml"
        _gdf().to_file(p, driver="KML")
        if fmt == "kml":
            return p, None
        z = tmp / "s.kmz"
        with zipfile.ZipFile(z, "w") as zf:
            zf.write(p, "doc.kml")
        return z, None
    if fmt in ("shapefile_gbk", "shapefile_cpg"):
        d = tmp / "shp"
        d.mkdir()
        enc = "GBK" if fmt == "shapefile_gbk" else "UTF-8"
        _gdf("EPSG:4545").to_file(d / "地块.shp", encoding=enc)
        if fmt == "shapefile_gbk":
            (d / "地块.cpg").unlink(missing_ok=True)
        z = tmp / "s.zip"
        with zipfile.ZipFile(z, "w") as zf:
            for f in d.iterdir():
                zf.write(f, f.name)
        return z, None
    if fmt == "gpkg":
        p = tmp / "s.gpkg"
        _gdf("EPSG:4490").to_file(p, driver="GPKG")
        return p, None
    if fmt == "dxf":
        p = tmp / "s.dxf"
        _gdf("EPSG:4545").geometry.to_file(p, driver="DXF")
        return p, "EPSG:4545"
    raise AssertionError(fmt)


FORMATS = ["geojson", "wkt", "ewkt_4490", "jzd_prefixed", "jzd_plain", "csv_lonlat", "csv_latlon",
           "csv_gk_4544", "csv_utm48", "gcj02", "bd09", "kml", "kmz", "shapefile_gbk",
           "shapefile_cpg", "gpkg", "dxf"]


@pytest.fixture(scope="module")
def reference(runtime):
    return runtime.service.evaluate(ScreeningRequest(site={"type": "Polygon", "coordinates": [LL]},
                                                    project=PROJECT))


def _jialing(doc):
    return next(f for f in doc["findings"] if f["rule_id"] == "jialing-1km-chemical-risk-ban")


@pytest.mark.parametrize("fmt", FORMATS)
def test_format_gives_the_same_verdict_and_measures(runtime, reference, tmp_path, fmt):
    path, crs = make(fmt, tmp_path)
    req = request_from_file(path, PROJECT, crs=crs)
    doc = runtime.service.evaluate(req)
    assert doc["verdict"] == reference["verdict"] == "forbid"
    assert {f["rule_id"] for f in doc["findings"]} == {f["rule_id"] for f in reference["findings"]}
    # GCJ-02/BD-09 round trips are exact to centimetres; the DXF/shapefile paths keep all digits
    assert doc["site"]["area_m2"] == pytest.approx(reference["site"]["area_m2"], rel=1e-3)
    assert _jialing(doc)["measure"]["distance_m"] == pytest.approx(
        _jialing(reference)["measure"]["distance_m"], abs=1.0)
    assert doc["site"]["geometry_type"] == "Polygon"


@pytest.mark.parametrize(("fmt", "crs", "fragment"), [
    ("jzd_prefixed", "EPSG:4523", "第 35 带"),
    ("shapefile_gbk", "EPSG:4545", "GBK"),
    ("csv_latlon", "EPSG:4326", "纬度在前"),
    ("gcj02", "gcj02", None),
])
def test_detected_crs_and_notes_are_reported(runtime, tmp_path, fmt, crs, fragment):
    path, stated = make(fmt, tmp_path)
    doc = runtime.service.evaluate(request_from_file(path, PROJECT, crs=stated))
    assert doc["site"]["input_crs"] == crs
    if fragment:
        assert any(fragment in w for w in doc["site"]["warnings"]), doc["site"]["warnings"]


def test_zone_prefixed_easting_without_crs_is_inferred_and_said(runtime):
    pts = [[e + 35_000_000, n] for e, n in _proj(4544)]
    doc = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Polygon", "coordinates": [pts]}, project=PROJECT))
    assert doc["site"]["input_crs"] == "EPSG:4523"
    assert any("推断" in w for w in doc["site"]["warnings"])


def test_old_datum_is_accepted_with_a_warning(runtime):
    pts = [list(p) for p in _proj(2380)]  # Xian 1980 / 3-degree GK CM 105E
    doc = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Polygon", "coordinates": [pts]}, crs="EPSG:2380", project=PROJECT))
    assert any("七参数" in w for w in doc["site"]["warnings"])


def test_point_and_line_defaults_are_reported(runtime):
    pt = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Point", "coordinates": [106.45, 29.618]}, project=PROJECT))
    assert pt["site"]["radius_m"] is None and any("默认半径" in w for w in pt["site"]["warnings"])
    line = runtime.service.evaluate(ScreeningRequest(
        site={"type": "LineString", "coordinates": [[106.44, 29.6], [106.45, 29.61]]},
        corridor_width_m=40, project=PROJECT))
    assert line["site"]["corridor_width_m"] == 40 and line["site"]["length_m"] > 1000


def test_multi_feature_collection_becomes_a_multipart_site(runtime):
    a = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [LL]}}
    shifted = [[x + 0.01, y] for x, y in LL]
    b = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                             "coordinates": [shifted]}}
    doc = runtime.service.evaluate(ScreeningRequest(
        site={"type": "FeatureCollection", "features": [a, b]}, project=PROJECT))
    assert doc["site"]["geometry"]["type"] == "MultiPolygon"
    assert any("多部件" in w for w in doc["site"]["warnings"])


def test_heights_given_with_the_site_are_kept_in_the_verdict(runtime):
    ring = [[x, y, 250.0] for x, y in LL]
    doc = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Polygon", "coordinates": [ring]}, project=PROJECT))
    assert doc["site"]["geometry"]["coordinates"][0][0][2] == 250.0
    flat = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Polygon", "coordinates": [LL]}, project=PROJECT))
    assert len(flat["site"]["geometry"]["coordinates"][0][0]) == 2
    assert doc["verdict"] == flat["verdict"]


def test_ewkt_as_a_features_geometry_keeps_its_srid(runtime):
    """One WKT reader: EWKT given as a Feature's geometry is read in the CRS its SRID names,
    as EWKT text on its own is (the site lands in the same place, not off Chongqing)."""
    x, y = Transformer.from_crs("EPSG:4490", "EPSG:4545", always_xy=True).transform(106.45, 29.61)
    ewkt = f"SRID=4545;POINT({x:.2f} {y:.2f})"
    project = {"industry": "C2614", "nature": "new"}
    alone = runtime.service.evaluate(ScreeningRequest(site=ewkt, project=project))
    feature = runtime.service.evaluate(ScreeningRequest(
        site={"type": "Feature", "geometry": ewkt, "properties": {}}, project=project))
    assert feature["site"]["input_crs"] == alone["site"]["input_crs"] == "EPSG:4545"
    assert feature["site"]["centroid"] == alone["site"]["centroid"]
    assert abs(alone["site"]["centroid"][0] - 106.45) < 1e-4
    assert feature["verdict"] == alone["verdict"]


def test_collection_members_with_different_srids_are_refused():
    from spatial.errors import InputError
    from spatial.sites.formats import parse_object

    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": "SRID=4545;POINT(500000 3280000)"},
        {"type": "Feature", "geometry": "SRID=4326;POINT(106.45 29.61)"}]}
    with pytest.raises(InputError) as exc:
        parse_object(fc)
    assert exc.value.code == "site.crs_conflict"


def test_a_crs_member_and_an_srid_naming_the_same_lon_lat_are_no_conflict():
    """CRS84 (lon/lat) and EPSG:4326 differ only in axis order: the same coordinates."""
    from spatial.sites.formats import parse_object

    fc = {"type": "FeatureCollection",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
          "features": [{"type": "Feature", "geometry": "SRID=4326;POINT(106.45 29.61)"}]}
    assert parse_object(fc).geometry.x == 106.45
