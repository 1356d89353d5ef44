"""The proposed site: from GeoJSON/WKT or a GDAL-readable file to a checked lon/lat footprint.

Points become a disc of ``radius_m``, lines a corridor of ``corridor_width_m``; both are built
in a local metric frame. Limits (documented in README): 100 000 vertices, 2 000 km².
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from spatial import crs as crs_mod
from spatial.crossings import MAX_SELF_CROSSINGS, self_crossings
from spatial.errors import InputError, TooLargeError
from spatial.geodesy import geodesic_area, geodesic_length, local_frame

MAX_VERTICES = 100_000
MAX_AREA_M2 = 2_000e6
DEFAULT_POINT_RADIUS_M = 50.0
DEFAULT_CORRIDOR_WIDTH_M = 20.0
#: A repair by make_valid that changes the area by more than this share is refused.
MAX_REPAIR_AREA_CHANGE = 0.01
#: the smallest point radius or corridor half-width (a survey peg, not a pinhead)
MIN_BUFFER_M = 0.05


@dataclass
class Site:
    """A site ready for screening: a polygonal lon/lat footprint plus how it was obtained."""

    footprint: BaseGeometry
    input_geometry: BaseGeometry
    input_crs: str
    geometry_type: str
    radius_m: float | None = None
    corridor_width_m: float | None = None
    accuracy_m: float = 0.0
    warnings: list[str] = field(default_factory=list)
    input_format: str = "geojson"

    @cached_property
    def area_m2(self) -> float:
        """Geodesic area of the footprint (computed once per Site)."""
        return geodesic_area(self.footprint)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the verdict document's ``site`` (districts are added by the engine)."""
        c = self.footprint.centroid
        length = None
        if self.geometry_type in ("LineString", "MultiLineString"):
            length = round(geodesic_length(self.input_geometry), 1)
        return {
            "area_m2": round(self.area_m2, 1),
            "length_m": length,
            "centroid": [round(c.x, 6), round(c.y, 6)],
            "input_crs": self.input_crs,
            "input_format": self.input_format,
            "geometry_type": self.geometry_type,
            "radius_m": self.radius_m,
            "corridor_width_m": self.corridor_width_m,
            "accuracy_m": self.accuracy_m,
            "warnings": list(self.warnings),
            "geometry": polygon_json(shapely.set_precision(self.footprint, 1e-7,
                                                           mode="pointwise")),
        }


def polygon_json(geom: BaseGeometry) -> dict[str, Any]:
    """GeoJSON of a geometry as ``shapely.geometry.mapping`` gives it, as plain JSON values
    (lists for tuples: what reading the JSON back gives); a (Multi)Polygon is read ring by
    ring from coordinate arrays, not point by point (a fifth of the time)."""
    kind = geom.geom_type
    if kind not in ("Polygon", "MultiPolygon") or geom.is_empty or shapely.has_z(geom):
        return orjson.loads(orjson.dumps(mapping(geom)))  # heights are kept as given
    polys = [geom] if kind == "Polygon" else list(shapely.get_parts(geom))
    coords = [[shapely.get_coordinates(p).tolist()] if not shapely.get_num_interior_rings(p)
              else [shapely.get_coordinates(r).tolist() for r in shapely.get_rings(p)]
              for p in polys]
    return {"type": kind, "coordinates": coords[0] if kind == "Polygon" else coords}


def check_vertices(parts: list[BaseGeometry]) -> None:
    """Refuse inputs over the vertex limit before any expensive geometry work."""
    if sum(shapely.get_num_coordinates(p) for p in parts) > MAX_VERTICES:
        raise TooLargeError(f"场址顶点数超过上限 {MAX_VERTICES}",
                            f"The site has more than {MAX_VERTICES} vertices",
                            code="site.too_many_vertices")


def build_site(
    geom: BaseGeometry,
    crs: str | None = None,
    *,
    radius_m: float | None = None,
    corridor_width_m: float | None = None,
    accuracy_m: float = 0.0,
    input_format: str = "geojson",
    notes: list[str] | None = None,
) -> Site:
    """Check and convert a raw geometry into a screenable Site; raise InputError if unusable.

    ``notes`` are the reader's warnings (kept in the verdict's ``site.warnings``).
    """
    if geom is None or geom.is_empty:
        raise InputError("场址几何为空", "The site geometry is empty", code="site.empty")
    check_vertices([geom])
    if not bool(np.isfinite(shapely.get_coordinates(geom)).all()):
        raise InputError("坐标包含非数值", "Coordinates are not finite numbers",
                         code="site.coordinates_invalid")
    if accuracy_m < 0 or accuracy_m > 1000:
        raise InputError("场址精度须在0到1000米之间", "accuracy_m must be within 0..1000",
                         code="site.accuracy_invalid")
    warnings: list[str] = list(notes or [])
    name = crs_mod.normalise_crs_name(crs)
    if name is None or crs_mod.is_geographic(name):
        _refuse_swapped_axes(geom)
    if name is None:
        name, note = crs_mod.infer_crs(geom)
        if note:
            warnings.append(note)
    ll, crs_warnings = crs_mod.to_lonlat(geom, name)
    warnings.extend(crs_warnings)
    if crs_warnings:  # an old datum without local parameters: widen the borderline band
        accuracy_m += crs_mod.OLD_DATUM_UNCERTAINTY_M
        warnings.append(f"场址位置精度已计入基准转换不确定度 {crs_mod.OLD_DATUM_UNCERTAINTY_M:g} 米")
    _refuse_outside_range(ll)
    crs_mod.check_zone(ll, name)
    crs_mod.check_region(ll)
    gtype = _dimension_type(ll)
    if ll.geom_type == "GeometryCollection" and any(
            g.geom_type == "GeometryCollection" for g in shapely.get_parts(ll)):
        ll = shapely.GeometryCollection(_flat_parts(ll))  # nested collections, flattened
    footprint = _footprint(ll, gtype, radius_m, corridor_width_m, warnings)
    parts = [_repair(p, warnings) for p in shapely.get_parts(footprint)]
    footprint = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if len(parts) > 1 and geodesic_area(footprint) < sum(geodesic_area(p) for p in parts) * 0.9999:
        warnings.append("多部件场址的部件相互重叠，重叠部分只计一次")
    area = geodesic_area(footprint)
    if area > MAX_AREA_M2:
        raise TooLargeError("场址面积超过2000平方公里上限", "The site exceeds the 2 000 km² limit",
                            code="site.too_large_area")
    if area <= 0:
        raise InputError("场址面积为零(退化多边形)", "The site has zero area (degenerate polygon)",
                         code="site.degenerate")
    site = Site(
        footprint=footprint, input_geometry=ll, input_crs=name, geometry_type=gtype,
        radius_m=radius_m if gtype.endswith("Point") else None,
        corridor_width_m=corridor_width_m if gtype.endswith("LineString") else None,
        accuracy_m=accuracy_m, warnings=warnings, input_format=input_format,
    )
    site.__dict__["area_m2"] = area  # the cached_property's value: measured just above
    return site


def _refuse_swapped_axes(geom: BaseGeometry) -> None:
    minx, miny, maxx, maxy = geom.bounds
    if minx >= 18 and maxx <= 54 and miny >= 73 and maxy <= 136:
        raise InputError(
            "坐标顺序疑似颠倒(纬度在前):GeoJSON/WKT 要求经度在前、纬度在后",
            "Coordinates look like lat,lon; GeoJSON and WKT need lon,lat",
            code="site.axis_swapped",
        )


def _refuse_outside_range(ll: BaseGeometry) -> None:
    minx, miny, maxx, maxy = ll.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError("坐标超出经纬度范围，请检查坐标系", "Coordinates out of lon/lat range",
                         code="site.out_of_range")


def _dimension_type(geom: BaseGeometry) -> str:
    if geom.geom_type != "GeometryCollection":  # only a collection can mix dimensions
        return str(geom.geom_type)
    dims = {shapely.get_dimensions(g) for g in _flat_parts(geom)}
    if len(dims) > 1:
        raise InputError("场址混合了点、线、面，请分别提交", "The site mixes points, lines and polygons",
                         code="site.mixed_dimensions")
    return {0: "Point", 1: "LineString", 2: "Polygon"}[dims.pop()]


def _flat_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """The single geometries of a collection, however deeply collections are nested (RFC 7946
    §3.1.8 discourages nesting; a nested member must not escape the dimension check)."""
    parts, todo = [], [geom]
    while todo:
        g = todo.pop()
        if g.geom_type.startswith("Multi") or g.geom_type == "GeometryCollection":
            todo.extend(shapely.get_parts(g))
        else:
            parts.append(g)
    return parts


def _footprint(ll: BaseGeometry, gtype: str, radius_m: float | None,
               width_m: float | None, warnings: list[str]) -> BaseGeometry:
    if gtype.endswith("Polygon"):
        return ll
    if gtype.endswith("Point"):
        if radius_m is None:
            radius_m = DEFAULT_POINT_RADIUS_M
            warnings.append(f"点状场址未给出半径，按默认半径 {DEFAULT_POINT_RADIUS_M:g} 米生成占地范围")
        dist = radius_m
    else:
        if width_m is None:
            width_m = DEFAULT_CORRIDOR_WIDTH_M
            warnings.append(f"线状工程未给出廊道宽度，按默认宽度 {DEFAULT_CORRIDOR_WIDTH_M:g} 米生成占地范围")
        dist = width_m / 2
    if not MIN_BUFFER_M <= dist <= 50_000:  # a denormal radius made GEOS fail with NaNs
        raise InputError(f"半径或廊道半宽须在 {MIN_BUFFER_M:g} 米到 50 千米之间",
                         f"radius/half-width must be within {MIN_BUFFER_M:g} m .. 50 km",
                         code="site.buffer_invalid")
    if gtype.endswith("LineString") and not ll.is_simple:
        _refuse_many_crossings(ll, "线状工程")
    frame = local_frame(ll)
    return frame.to_lonlat(frame.to_local(ll).buffer(dist, quad_segs=64))


def _refuse_many_crossings(geom: BaseGeometry, what: str) -> None:
    """Refuse a geometry crossing itself too often to repair or buffer in bounded time."""
    if self_crossings(geom) > MAX_SELF_CROSSINGS:
        raise TooLargeError(
            f"{what}自相交超过 {MAX_SELF_CROSSINGS} 处，无法可靠修复，请检查坐标顺序后重新提交",
            f"The {'line' if what == '线状工程' else 'polygon'} crosses itself more than "
            f"{MAX_SELF_CROSSINGS} times; check the vertex order",
            code="site.too_complex")


def _repair(fp: BaseGeometry, warnings: list[str]) -> BaseGeometry:
    if fp.is_valid:
        return fp
    reason = shapely.is_valid_reason(fp)
    _refuse_many_crossings(fp, "场址多边形")  # make_valid's cost grows with the crossings
    fixed = shapely.make_valid(fp)
    polys = [g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")]
    repaired = shapely.union_all(polys) if polys else shapely.Polygon()
    before = shapely.area(fp)  # ring-by-ring shoelace area of the input as drawn
    after = shapely.area(repaired)
    if repaired.is_empty or not before or abs(after - before) / before > MAX_REPAIR_AREA_CHANGE:
        raise InputError(
            f"场址多边形无效({reason}),自动修复会显著改变面积，请修正后重新提交",
            f"The site polygon is invalid ({reason}) and repair would change its area",
            code="site.invalid_geometry",
        )
    warnings.append(f"场址多边形无效({reason}),已自动修复(make_valid),面积变化 < 1%")
    return repaired
