"""The land-survey 界址点 coordinate exchange TXT (国土资源部 勘测定界 坐标交换格式).

``[属性描述]`` carries 坐标系 / 几度分带 / 带号; ``[地块坐标]`` holds parcels: a header line
``点数,面积,地块编号,地块名称,几何类型,图幅号,用途,地类编码,@`` followed by points
``J1,圈号,X,Y`` where X is the northing and Y the easting (with or without the zone prefix).
Ring 1 is the outer boundary; further ring numbers are holes. Each ring repeats its first point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError

_DATUMS = {"2000": "CGCS2000", "西安": "Xian 1980", "80": "Xian 1980", "北京": "Beijing 1954",
           "54": "Beijing 1954", "WGS": "WGS84"}


@dataclass
class JzdFile:
    """A parsed 界址点 file: one (multi)polygon, the CRS it declares, notes for the user."""

    geometry: BaseGeometry
    crs: str
    parcels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def looks_like_jzd(text: str) -> bool:
    """True when the text carries the format's section headers."""
    return "[地块坐标]" in text or "[属性描述]" in text


def parse_jzd(text: str, crs_override: str | None = None) -> JzdFile:
    """Parse the exchange format; raise InputError naming the line at fault."""
    attrs, body = _sections(text)
    crs, warnings = (crs_override, []) if crs_override else _crs_from_attrs(attrs, body)
    parcels: list[tuple[str, dict[int, list[tuple[float, float]]]]] = []
    for lineno, line in body:
        cells = [c.strip() for c in line.split(",")]
        if cells[-1] == "@" or (len(cells) >= 5 and not re.match(r"^[A-Za-z]*\d+$", cells[0])):
            parcels.append((cells[3] if len(cells) > 3 and cells[3] else f"地块{len(parcels) + 1}",
                            {}))
            continue
        if cells[-1] == "@" or len(cells) < 4:
            raise _err(lineno, "点行应为 点号,圈号,X,Y", "point rows are id,ring,X,Y")
        if not parcels:
            parcels.append(("地块1", {}))
        try:
            ring, x_north, y_east = int(cells[1]), float(cells[2]), float(cells[3])
        except ValueError as exc:
            raise _err(lineno, "圈号或坐标不是数值", "ring or coordinate is not a number") from exc
        if not (math.isfinite(x_north) and math.isfinite(y_east)):
            raise _err(lineno, "坐标不是有限数值", "coordinate is not finite")
        parcels[-1][1].setdefault(ring, []).append((y_east, x_north))
    if not parcels or not any(rings for _, rings in parcels):
        raise InputError("界址点文件中没有坐标", "The 界址点 file has no coordinates",
                         code="jzd.empty")
    polys = [_polygon(name, rings) for name, rings in parcels if rings]
    geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    if len(polys) > 1:
        warnings.append(f"文件含 {len(polys)} 个地块，已合并为一个多部件场址")
    return JzdFile(geom, crs, [n for n, _ in parcels], warnings)


def _sections(text: str) -> tuple[dict[str, str], list[tuple[int, str]]]:
    attrs: dict[str, str] = {}
    body: list[tuple[int, str]] = []
    section = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line
            continue
        if section == "[属性描述]" and "=" in line:
            key, _, value = line.partition("=")
            attrs[key.strip()] = value.strip()
        elif section == "[地块坐标]":
            body.append((lineno, line))
    if not body:
        raise InputError("缺少 [地块坐标] 节", "Missing the [地块坐标] section", code="jzd.no_coordinates")
    return attrs, body


def _crs_from_attrs(attrs: dict[str, str], body: list[tuple[int, str]]) -> tuple[str, list[str]]:
    datum_text = attrs.get("坐标系", "")
    datum = next((d for key, d in _DATUMS.items() if key in datum_text), None)
    if datum is None:
        raise InputError(f"无法识别[属性描述]中的坐标系：{datum_text or '(空)'}，请注明或通过 crs 参数指定",
                         f"Unrecognised 坐标系 {datum_text!r}; state the CRS", code="jzd.crs_unknown")
    width = attrs.get("几度分带", "3").strip()
    if width not in ("3", "6"):
        raise InputError(f"几度分带取值无效：{width}", f"Invalid 几度分带: {width}", code="jzd.zone_invalid")
    zone_text = attrs.get("带号", "").strip()
    first_y = _first_easting(body)
    prefixed = first_y is not None and first_y >= 1_000_000
    if zone_text.isdigit():
        zone = int(zone_text)
    elif prefixed and first_y is not None:
        zone = int(first_y // 1_000_000)
    else:
        raise InputError("缺少带号且坐标无带号前缀，无法确定投影带", "No zone number given",
                         code="jzd.zone_missing")
    if prefixed and first_y is not None and int(first_y // 1_000_000) != zone:
        raise InputError(f"坐标的带号前缀 {int(first_y // 1_000_000)} 与[属性描述]带号 {zone} 不一致",
                         "Zone prefix of the eastings does not match 带号", code="jzd.zone_mismatch")
    cm = zone * 3 if width == "3" else zone * 6 - 3
    proj = _epsg_3deg(datum, zone, prefixed) if width == "3" else None
    if proj is None:
        ellps = {"CGCS2000": "GRS80", "WGS84": "WGS84", "Xian 1980": "IAU76",
                 "Beijing 1954": "krass"}[datum]
        x0 = zone * 1_000_000 + 500_000 if prefixed else 500_000
        proj = (f"+proj=tmerc +lat_0=0 +lon_0={cm} +k=1 +x_0={x0} +y_0=0 +ellps={ellps} "
                "+units=m +no_defs")
    warnings = [f"按[属性描述]解析坐标系：{datum}，{width}度分带，第 {zone} 带(中央经线 {cm}°)"
                f"{'，坐标含带号前缀' if prefixed else ''}"]
    if datum in ("Xian 1980", "Beijing 1954"):
        warnings.append(f"{datum} 坐标转换为 CGCS2000 需要当地七参数，此处未做基准转换，误差可达数十米至百米")
    return proj, warnings


#: First EPSG code of each datum's 3° Gauss–Krüger series (zone 25 / CM 75°E), by prefix use.
_EPSG_3DEG = {("CGCS2000", True): 4513, ("CGCS2000", False): 4534,
              ("Xian 1980", True): 2349, ("Xian 1980", False): 2370,
              ("Beijing 1954", True): 2401, ("Beijing 1954", False): 2422}


def _epsg_3deg(datum: str, zone: int, prefixed: bool) -> str | None:
    first = _EPSG_3DEG.get((datum, prefixed))
    if first is None or not 25 <= zone <= 45:
        return None
    return f"EPSG:{first + zone - 25}"


def _first_easting(body: list[tuple[int, str]]) -> float | None:
    for _, line in body:
        cells = [c.strip() for c in line.split(",")]
        if len(cells) >= 4 and cells[-1] != "@":
            try:
                return float(cells[3])
            except ValueError:
                continue
    return None


def _polygon(name: str, rings: dict[int, list[tuple[float, float]]]) -> Polygon:
    ordered = [rings[k] for k in sorted(rings)]
    for pts in ordered:
        if len(pts) < 4:
            raise InputError(f"地块“{name}”的环少于3个不同的点", f"Parcel {name}: ring has < 3 points",
                             code="site.ring_degenerate")
        if pts[0] != pts[-1]:
            raise InputError(f"地块“{name}”的界址点未闭合：最后一点应与第一点(J1)相同",
                             f"Parcel {name}: ring not closed (last point must repeat the first)",
                             code="site.ring_unclosed")
    return Polygon(ordered[0], ordered[1:])


def _err(lineno: int, zh: str, en: str) -> InputError:
    return InputError(f"界址点文件第 {lineno} 行格式错误：{zh}", f"界址点 file line {lineno}: {en}",
                      code="jzd.bad_line")
