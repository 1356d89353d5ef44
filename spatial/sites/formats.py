"""One parser for every site format users bring (DESIGN §7).

Text: GeoJSON (geometry, Feature, FeatureCollection), WKT/EWKT, the 界址点 exchange TXT and
CSV/TXT coordinate lists. Files through GDAL: KML/KMZ, zipped shapefile (``.cpg`` honoured,
GBK assumed for Chinese ``.dbf`` files without one), GeoPackage, DXF. Every reader returns the raw
geometry, the CRS the input declares (if any), the format name and notes for the user.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError, TooLargeError
from spatial.sites.checks import check_vertices
from spatial.sites.jzd import looks_like_jzd, parse_jzd
from spatial.vectorfiles import VectorFile, open_vector

MAX_FILE_BYTES = 20 * 1024 * 1024
TEXT_SUFFIXES = {".geojson", ".json", ".wkt", ".ewkt", ".txt", ".csv"}
GDAL_SUFFIXES = {".kml", ".kmz", ".zip", ".gpkg", ".dxf"}
SUFFIXES = TEXT_SUFFIXES | GDAL_SUFFIXES
_NUM = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


@dataclass
class RawSite:
    """A site as read from its source, before CRS conversion and checks."""

    geometry: BaseGeometry
    crs: str | None
    format: str
    warnings: list[str] = field(default_factory=list)


def parse_text(text: str, crs: str | None = None) -> RawSite:
    """Parse site text of any supported text format (sniffed from the content)."""
    body = text.lstrip("\ufeff").strip()
    if not body:
        raise InputError("场址内容为空", "The site text is empty", code="site.empty")
    if body.startswith("{"):
        return _geojson(_json(body))
    if looks_like_jzd(body):
        parsed = parse_jzd(body, crs)
        return RawSite(parsed.geometry, crs or parsed.crs, "jzd_txt", parsed.warnings)
    if re.match(r"^SRID=\d+;", body, flags=re.I):
        return RawSite(*read_wkt(body), "ewkt")
    if re.match(r"^(MULTI)?(POINT|LINESTRING|POLYGON)|^GEOMETRYCOLLECTION", body, flags=re.I):
        return RawSite(*read_wkt(body), "wkt")
    return _coordinate_list(body)


def parse_object(obj: Any) -> RawSite:
    """Parse a site given in a JSON request: a GeoJSON object or any supported text."""
    if isinstance(obj, str):
        return parse_text(obj)
    return _geojson(obj)


def parse_file(path: Path, crs: str | None = None) -> RawSite:
    """Read a site file by its extension; archives are checked and unpacked in a temp dir."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        raise InputError("请将 .shp、.shx、.dbf、.prj(及 .cpg)打包为 zip 上传",
                         "Upload shapefiles as a zip of .shp/.shx/.dbf/.prj(/.cpg)",
                         code="upload.shapefile_not_zipped")
    if suffix not in SUFFIXES:
        raise InputError(f"不支持的文件类型：{suffix or '(无扩展名)'}；支持 {', '.join(sorted(SUFFIXES))}",
                         f"Unsupported file type: {suffix}", code="upload.unsupported_format")
    if not path.exists():
        raise InputError(f"文件不存在：{path}", f"File not found: {path}", code="file.not_found")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise TooLargeError(f"文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB 上限",
                            "The file exceeds the size limit", code="upload.too_large")
    if suffix in TEXT_SUFFIXES:
        return parse_text(_decode(path.read_bytes()), crs)
    with tempfile.TemporaryDirectory(prefix="redline-site-") as tmp:
        vf = open_vector(path, Path(tmp))
        ext = vf.path.suffix.lower()
        if ext in TEXT_SUFFIXES:  # a zipped GeoJSON, WKT or 界址点 text
            return parse_file(vf.path, crs)
        fmt = {".kml": "kmz" if suffix == ".kmz" else "kml", ".shp": "shapefile"}.get(
            ext, ext.lstrip("."))
        return _gdal(vf, fmt)


def _gdal(vf: VectorFile, fmt: str) -> RawSite:
    spatial = vf.layers
    if not spatial:
        raise InputError("文件中没有几何图层", "The file has no geometry layer", code="site.empty")
    df = vf.read(spatial[0])
    warnings = [*vf.notes]
    if len(spatial) > 1:
        warnings.append(f"文件含 {len(spatial)} 个图层，仅读取第一个：{spatial[0]}")
    geoms = [g for g in df.geometry if g is not None and not g.is_empty]
    if not geoms:
        raise InputError("文件中没有几何", "The file holds no geometry", code="site.empty")
    # KML may carry a Z coordinate; sites are 2-D
    geoms = [shapely.force_2d(g) for g in geoms]
    check_vertices(geoms)
    if len(geoms) > 1:
        warnings.append(f"文件含 {len(geoms)} 个要素，已合并为一个多部件场址")
    geom = shapely.GeometryCollection(geoms) if len(geoms) > 1 else geoms[0]
    crs = df.crs.to_string() if df.crs is not None else None
    return RawSite(geom, crs, fmt, warnings)


def _geojson(obj: Any) -> RawSite:
    warnings = []
    declared = None
    if isinstance(obj, dict):
        feats = obj.get("features")
        if obj.get("type") == "FeatureCollection" and isinstance(feats, list) and len(feats) > 1:
            warnings.append(f"要素集合含 {len(feats)} 个要素，已合并为一个多部件场址"
                            "(逐块筛查请使用批量筛查)")
        crs_member = obj.get("crs")
        if isinstance(crs_member, dict):
            declared = (crs_member.get("properties") or {}).get("name")
        _refuse_unclosed_rings(obj)
    geom, named = geojson_geometry(obj)
    if declared is not None and named is not None and not _same_crs(declared, named):
        raise InputError(f"GeoJSON 的 crs 成员({declared})与 EWKT 的 SRID({named})不一致",
                         f"The GeoJSON crs member ({declared}) and the EWKT SRID ({named}) differ",
                         code="site.crs_conflict")
    return RawSite(geom, declared or named, "geojson", warnings)


def _same_crs(a: str, b: str) -> bool:
    """Whether two CRS names mean the same CRS (a name PROJ cannot read is left to the CRS
    check later, which reports it)."""
    try:
        return bool(CRS.from_user_input(a).equals(CRS.from_user_input(b), ignore_axis_order=True))
    except CRSError:
        return True


def _refuse_unclosed_rings(obj: Any) -> None:
    """GeoJSON requires closed rings; shapely would close them silently."""
    if not isinstance(obj, dict):
        return
    kind = obj.get("type")
    if kind == "Feature":
        _refuse_unclosed_rings(obj.get("geometry"))
    elif kind == "FeatureCollection":
        feats = obj.get("features")
        for f in feats if isinstance(feats, list) else []:
            _refuse_unclosed_rings(f)
    elif kind == "GeometryCollection":
        members = obj.get("geometries")
        for g in members if isinstance(members, list) else []:
            _refuse_unclosed_rings(g)
    elif kind in ("Polygon", "MultiPolygon"):
        coords = obj.get("coordinates")
        polys = [coords] if kind == "Polygon" else coords
        # malformed nesting is left to the GeoJSON reader, which refuses it with its own code
        for poly in polys if isinstance(polys, list) else []:
            for ring in poly if isinstance(poly, list) else []:
                if isinstance(ring, list) and len(ring) >= 2 and ring[0] != ring[-1]:
                    raise InputError("多边形环未闭合：最后一个坐标应与第一个相同",
                                     "Polygon ring is not closed (last position must equal the first)",
                                     code="site.ring_unclosed")
                if isinstance(ring, list) and 0 < len(ring) < 4:
                    raise InputError("多边形环少于4个坐标(退化)", "Polygon ring has fewer than 4 positions",
                                     code="site.ring_degenerate")


def read_wkt(text: str) -> tuple[BaseGeometry, str | None]:
    """WKT, or EWKT with its ``SRID=…;`` prefix: the geometry and the CRS the prefix names."""
    m = re.match(r"^\s*SRID=(\d+);(.*)$", text, flags=re.S | re.I)
    body, crs = (m.group(2), f"EPSG:{m.group(1)}") if m else (text, None)
    try:
        return shapely.from_wkt(body.strip()), crs
    except shapely.errors.GEOSException as exc:
        raise InputError("无法解析WKT几何", f"Cannot parse WKT: {exc}", code="site.wkt_invalid") from exc


def geojson_geometry(obj: Any) -> tuple[BaseGeometry, str | None]:
    """A shapely geometry from a GeoJSON geometry, Feature or FeatureCollection (a member may
    be WKT/EWKT text), with the CRS an EWKT member names (None: none named)."""
    if isinstance(obj, str):
        text = obj.strip()
        if text.startswith("{"):
            return geojson_geometry(_json(text))
        return read_wkt(text)
    if obj is None:
        raise InputError("场址几何为空(geometry 为 null)", "The site geometry is null", code="site.empty")
    if not isinstance(obj, dict) or "type" not in obj:
        raise InputError("场址必须是GeoJSON几何、要素或要素集合",
                         "site must be a GeoJSON geometry, Feature or FeatureCollection",
                         code="site.not_geojson")
    kind = obj["type"]
    if kind == "Feature":
        geom = obj.get("geometry")
        if isinstance(geom, dict) and geom.get("type") in ("Feature", "FeatureCollection"):
            raise InputError("要素的 geometry 必须是几何对象", "A Feature's geometry must be a geometry",
                             code="site.geojson_invalid")
        return geojson_geometry(geom)
    if kind == "FeatureCollection":
        feats = obj.get("features") or []
        if not feats or not isinstance(feats, list):
            raise InputError("要素集合为空", "FeatureCollection has no features", code="site.empty")
        if any(not isinstance(f, dict) or f.get("type") != "Feature" for f in feats):
            raise InputError("要素集合中只能包含要素(Feature)", "FeatureCollection members must be Features",
                             code="site.geojson_invalid")
        read = [geojson_geometry(f) for f in feats]
        named = {c for _, c in read if c is not None}
        if len(named) > 1 or (named and any(c is None for _, c in read)):
            raise InputError("要素集合中各要素的坐标系(SRID)不一致",
                             "The features of the collection name different SRIDs",
                             code="site.crs_conflict")
        parts = [g for g, _ in read]
        check_vertices(parts)
        return (shapely.GeometryCollection(parts) if len(parts) > 1 else parts[0],
                next(iter(named), None))
    try:
        return shape(obj), None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError,
            shapely.errors.ShapelyError) as exc:
        raise InputError("GeoJSON几何无效", f"Invalid GeoJSON geometry: {exc}",
                         code="site.geojson_invalid") from exc


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # incl. integers of over 4 300 digits
        raise InputError("JSON格式错误", f"Malformed JSON: {exc}", code="site.json_invalid") from exc


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError("文本文件编码无法识别(应为 UTF-8 或 GBK)", "Text is neither UTF-8 nor GBK",
                     code="file.encoding")  # pragma: no cover - gb18030 decodes almost anything


def _coordinate_list(text: str) -> RawSite:
    """``x,y`` (or ``id,x,y``) per line; a header naming 纬度/lat first means lat,lon order."""
    rows: list[tuple[float, float]] = []
    warnings: list[str] = []
    lat_first = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c for c in re.split(r"[,;\t ]+", line) if c]
        nums = [c for c in cells if re.fullmatch(_NUM, c)]
        if not rows and len(nums) < 2:
            low = line.lower()
            lat_first = bool(re.match(r"^\W*(id\W+|点号\W+)?(纬度|lat)", low))
            continue  # header
        if len(nums) < 2 or len(cells) > 4:
            raise InputError(f"坐标列表第 {lineno} 行无法解析：应为“x,y”或“点号,x,y”",
                             f"Coordinate list line {lineno}: expected x,y or id,x,y",
                             code="coords.bad_line")
        a, b = float(nums[-2]), float(nums[-1])
        rows.append((b, a) if lat_first else (a, b))
    if not rows:
        raise InputError("没有可识别的坐标或几何", "No coordinates or geometry recognised",
                         code="site.unrecognised_format")
    if lat_first:
        warnings.append("表头表明纬度在前，已按 纬度,经度 读取")
    if len(rows) == 1:
        geom: BaseGeometry = Point(rows[0])
    elif len(rows) >= 4 and rows[0] == rows[-1]:
        geom = Polygon(rows)
    elif len(rows) == 2 or rows[0] != rows[-1]:
        geom = LineString(rows)
        warnings.append("坐标首尾不闭合，按线状工程处理；如为地块请使最后一点与第一点相同")
    else:
        raise InputError("闭合坐标少于3个不同的点", "A closed ring needs at least 3 distinct points",
                         code="site.ring_degenerate")
    return RawSite(geom, None, "coordinate_list", warnings)
