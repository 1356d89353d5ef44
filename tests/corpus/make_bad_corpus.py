"""Writes tests/corpus/bad/: malformed site inputs, each with the error code it must produce.

Run from the repository root: ``python tests/corpus/make_bad_corpus.py``. The files are
committed; this script documents how each was made and can rebuild them.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import zipfile
from pathlib import Path

import geopandas as gpd
import yaml
from shapely.geometry import Polygon

OUT = Path(__file__).resolve().parent / "bad"
SQ = [[106.33, 29.557], [106.332, 29.557], [106.332, 29.559], [106.33, 29.559], [106.33, 29.557]]
JZD_HEAD = ("[属性描述]\n格式版本号=1.01版本\n坐标系=2000国家大地坐标系\n几度分带=3\n"
            "投影类型=高斯克吕格\n计量单位=米\n")
# 沙坪坝 parcel in CGCS2000 3° zone 35 (CM 105°E), northing / easting with zone prefix
JZD_PTS = [(3271500.0, 35632000.0), (3271500.0, 35632200.0), (3271700.0, 35632200.0),
           (3271700.0, 35632000.0), (3271500.0, 35632000.0)]

cases: dict[str, dict[str, object]] = {}


def text(name: str, content: str, code: str, crs: str | None = None) -> None:
    (OUT / name).write_text(content, encoding="utf-8")
    cases[name] = {"code": code, **({"crs": crs} if crs else {})}


def raw(name: str, content: bytes, code: str) -> None:
    (OUT / name).write_bytes(content)
    cases[name] = {"code": code}


def gj(name: str, obj: object, code: str, crs: str | None = None) -> None:
    text(name, json.dumps(obj), code, crs)


def jzd(name: str, head: str, points: list[tuple[float, float]], code: str) -> None:
    rows = [f"J{i + 1},1,{x},{y}" for i, (x, y) in enumerate(points)]
    text(name, head + "[地块坐标]\n" + f"{len(points)},0.06,1,测试地块,面,,工业用地,,@\n"
         + "\n".join(rows) + "\n", code)


def zipped(name: str, members: dict[str, bytes], code: str, *, symlink: str | None = None) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    raw(name, buf.getvalue(), code)


def shapefile_bytes(crs: str | None, coords_scale: float = 1.0) -> dict[str, bytes]:
    tmp = OUT / "_tmp_shp"
    tmp.mkdir(exist_ok=True)
    poly = Polygon([(x * coords_scale, y * coords_scale) for x, y in SQ]) if coords_scale == 1 \
        else Polygon([(y - 35_000_000, x) for x, y in JZD_PTS])
    gpd.GeoDataFrame({"名称": ["地块"]}, geometry=[poly], crs=crs).to_file(
        tmp / "site.shp", encoding="UTF-8")
    out = {p.name: p.read_bytes() for p in tmp.iterdir()}
    shutil.rmtree(tmp)
    return out


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    text("empty.geojson", "", "site.empty")
    text("whitespace.txt", "  \n\t\n", "site.empty")
    text("bad_json.geojson", "{nope", "site.json_invalid")
    gj("not_geojson.json", {"foo": 1}, "site.not_geojson")
    gj("polygon_no_coords.geojson", {"type": "Polygon", "coordinates": []}, "site.empty")
    gj("polygon_string_coords.geojson", {"type": "Polygon", "coordinates": "x"},
       "site.geojson_invalid")
    gj("unknown_type.geojson", {"type": "Circle", "coordinates": [106.3, 29.5]},
       "site.geojson_invalid")
    gj("unclosed_ring.geojson", {"type": "Polygon", "coordinates": [SQ[:-1]]}, "site.ring_unclosed")
    gj("degenerate_ring.geojson", {"type": "Polygon", "coordinates": [[SQ[0], SQ[1], SQ[0]]]},
       "site.ring_degenerate")
    gj("swapped_point.geojson", {"type": "Point", "coordinates": [29.557, 106.33]},
       "site.axis_swapped")
    gj("swapped_polygon.geojson", {"type": "Polygon", "coordinates": [[[y, x] for x, y in SQ]]},
       "site.axis_swapped")
    gj("beijing_point.geojson", {"type": "Point", "coordinates": [116.4, 39.9]},
       "site.outside_region")
    gj("projected_without_crs.geojson", {"type": "Point", "coordinates": [632000, 3271500]},
       "crs.required")
    text("nan_coordinates.geojson", '{"type": "Point", "coordinates": [NaN, 29.5]}',
         "site.coordinates_invalid")
    gj("mixed_dimensions.geojson", {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [106.33, 29.557]},
        {"type": "LineString", "coordinates": SQ[:2]}]}, "site.mixed_dimensions")
    gj("empty_feature_collection.geojson", {"type": "FeatureCollection", "features": []},
       "site.empty")
    gj("feature_null_geometry.geojson", {"type": "Feature", "geometry": None, "properties": {}},
       "site.empty")
    gj("bowtie_lopsided.geojson", {"type": "Polygon", "coordinates": [[
        [106.33, 29.55], [106.36, 29.58], [106.36, 29.55], [106.33, 29.56], [106.33, 29.55]]]},
       "site.invalid_geometry")
    text("zero_area.wkt", "POLYGON ((106.3 29.5, 106.31 29.5, 106.32 29.5, 106.3 29.5))",
         "site.invalid_geometry")
    text("truncated.wkt", "POLYGON ((106.3 29.55, 106.31", "site.wkt_invalid")
    text("unknown_srid.ewkt", "SRID=999999;POINT (106.33 29.557)", "crs.unknown")
    text("gk_wrong_zone.csv", "x,y\n200000,3271500\n200100,3271500\n200100,3271600\n200000,3271600\n"
         "200000,3271500\n", "crs.outside_zone", crs="EPSG:4545")
    gj("huge_area.geojson", {"type": "Polygon", "coordinates": [[
        [105.5, 28.5], [109.5, 28.5], [109.5, 31.5], [105.5, 31.5], [105.5, 28.5]]]},
       "site.too_large_area")
    gj("point_in_sea.geojson", {"type": "Point", "coordinates": [0, 0]}, "site.outside_region")
    jzd("jzd_zone_mismatch.txt", JZD_HEAD + "带号=36\n", JZD_PTS, "jzd.zone_mismatch")
    jzd("jzd_unclosed.txt", JZD_HEAD + "带号=35\n", JZD_PTS[:-1], "site.ring_unclosed")
    text("jzd_no_coordinates.txt", JZD_HEAD + "带号=35\n", "jzd.no_coordinates")
    text("jzd_bad_line.txt", JZD_HEAD + "带号=35\n[地块坐标]\n5,0.06,1,地块,面,,,,@\nJ1,1,abc,def\n",
         "jzd.bad_line")
    jzd("jzd_unknown_datum.txt", JZD_HEAD.replace("2000国家大地坐标系", "火星坐标系") + "带号=35\n",
        JZD_PTS, "jzd.crs_unknown")
    jzd("jzd_no_zone.txt", JZD_HEAD, [(x, y - 35_000_000) for x, y in JZD_PTS], "jzd.zone_missing")
    jzd("jzd_bad_zone_width.txt", JZD_HEAD.replace("几度分带=3", "几度分带=4") + "带号=35\n",
        JZD_PTS, "jzd.zone_invalid")
    jzd("jzd_degenerate.txt", JZD_HEAD + "带号=35\n", [JZD_PTS[0], JZD_PTS[1], JZD_PTS[0]],
        "site.ring_degenerate")
    jzd("jzd_empty_parcel.txt", JZD_HEAD + "带号=35\n", [], "jzd.empty")
    text("coords_bad_line.csv", "106.33,29.557\n106.332,29.557\nabc\n", "coords.bad_line")
    text("coords_header_only.csv", "lon,lat\n", "site.unrecognised_format")
    text("coords_too_many_columns.csv", "1,2,106.33,29.557,9\n", "coords.bad_line")
    text("garbage.txt", "hello world", "site.unrecognised_format")
    raw("program.exe", b"MZ\x90\x00", "upload.unsupported_format")
    raw("no_extension", b"{}", "upload.unsupported_format")
    raw("lone.shp", b"\x00\x00\x27\x0a", "upload.shapefile_not_zipped")
    raw("corrupt.zip", b"PK\x03\x04 this is not a zip", "archive.corrupt")
    zipped("zip_slip.zip", {"../../evil.shp": b"x", "a.shx": b"x", "a.dbf": b"x"},
           "archive.path_traversal")
    zipped("zip_absolute.zip", {"/etc/site.shp": b"x"}, "archive.path_traversal")
    zipped("zip_symlink.zip", {"a.txt": b"x"}, "archive.symlink", symlink="site.shp")
    zipped("zip_bomb.zip", {"site.dbf": b"\0" * (50 * 1024 * 1024)}, "archive.too_large")
    zipped("zip_too_many_entries.zip", {f"f{i}.txt": b"x" for i in range(201)},
           "archive.too_many_entries")
    zipped("zip_no_shapefile.zip", {"readme.txt": b"hello"}, "archive.no_shapefile")
    zipped("zip_shapefile_without_dbf.zip",
           {k: v for k, v in shapefile_bytes("EPSG:4326").items() if not k.endswith(".dbf")},
           "archive.shapefile_incomplete")
    zipped("zip_shapefile_projected_without_prj.zip",
           {k: v for k, v in shapefile_bytes(None, coords_scale=0).items() if not k.endswith(".prj")},
           "crs.required")
    zipped("kmz_without_kml.kmz", {"doc.txt": b"x"}, "archive.no_kml")
    text("corrupt.kml", "<kml><Document><Placemark><Polygon>", "file.unreadable")
    # an SQLite header without a GeoPackage application_id is no GeoPackage
    raw("corrupt.gpkg", b"SQLite format 3\x00garbage" * 10, "upload.format_mismatch")
    (OUT / "expected.yaml").write_text(
        "# file → the stable error code it must produce (crs: the CRS stated with it)\n"
        + yaml.safe_dump(cases, allow_unicode=True, sort_keys=True), encoding="utf-8")
    print(f"{len(cases)} malformed inputs written to {OUT}")


if __name__ == "__main__":
    main()
