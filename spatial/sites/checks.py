"""The checks a site passes, in lon/lat: input sanity before anything costly, the mix of
dimensions, self-crossings, repair of an invalid polygon, and the size of the footprint. Each
refusal is an ``InputError`` (or ``TooLargeError``) with a stable code."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError, TooLargeError
from spatial.geodesy import geodesic_area
from spatial.sites.crossings import MAX_SELF_CROSSINGS, self_crossings

MAX_VERTICES = 100_000
MAX_AREA_M2 = 2_000e6
#: A repair by make_valid that changes the area by more than this share is refused.
MAX_REPAIR_AREA_CHANGE = 0.01


def check_vertices(parts: list[BaseGeometry]) -> None:
    """Refuse inputs over the vertex limit before any expensive geometry work."""
    if sum(shapely.get_num_coordinates(p) for p in parts) > MAX_VERTICES:
        raise TooLargeError(f"场址顶点数超过上限 {MAX_VERTICES}",
                            f"The site has more than {MAX_VERTICES} vertices",
                            code="site.too_many_vertices")


def check_input(geom: BaseGeometry | None, accuracy_m: float) -> None:
    """Refuse what cannot be a site before any geometry work: nothing, too many vertices,
    coordinates that are not numbers, an impossible positional accuracy."""
    if geom is None or geom.is_empty:
        raise InputError("场址几何为空", "The site geometry is empty", code="site.empty")
    check_vertices([geom])
    if not bool(np.isfinite(shapely.get_coordinates(geom)).all()):
        raise InputError("坐标包含非数值", "Coordinates are not finite numbers",
                         code="site.coordinates_invalid")
    if accuracy_m < 0 or accuracy_m > 1000:
        raise InputError("场址精度须在0到1000米之间", "accuracy_m must be within 0..1000",
                         code="site.accuracy_invalid")


def dimensions(ll: BaseGeometry) -> tuple[BaseGeometry, str]:
    """The geometry with nested collections flattened, and its one dimension's type (Point,
    LineString, Polygon or the Multi/collection form); a mix of dimensions is refused."""
    gtype = dimension_type(ll)
    if ll.geom_type == "GeometryCollection" and any(
            g.geom_type == "GeometryCollection" for g in shapely.get_parts(ll)):
        ll = shapely.GeometryCollection(flat_parts(ll))  # nested collections, flattened
    return ll, gtype


def check_area(footprint: BaseGeometry) -> float:
    """The footprint's geodesic area (m²); refused above ``MAX_AREA_M2`` or at zero."""
    area = geodesic_area(footprint)
    if area > MAX_AREA_M2:
        raise TooLargeError("场址面积超过2000平方公里上限", "The site exceeds the 2 000 km² limit",
                            code="site.too_large_area")
    if area <= 0:
        raise InputError("场址面积为零(退化多边形)", "The site has zero area (degenerate polygon)",
                         code="site.degenerate")
    return area


def refuse_swapped_axes(geom: BaseGeometry) -> None:
    """Refuse lon/lat given as lat/lon (in China's range the two cannot be confused)."""
    minx, miny, maxx, maxy = geom.bounds
    if minx >= 18 and maxx <= 54 and miny >= 73 and maxy <= 136:
        raise InputError(
            "坐标顺序疑似颠倒(纬度在前):GeoJSON/WKT 要求经度在前、纬度在后",
            "Coordinates look like lat,lon; GeoJSON and WKT need lon,lat",
            code="site.axis_swapped",
        )


def refuse_outside_range(ll: BaseGeometry) -> None:
    """Refuse coordinates outside the lon/lat range (a wrong CRS)."""
    minx, miny, maxx, maxy = ll.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError("坐标超出经纬度范围，请检查坐标系", "Coordinates out of lon/lat range",
                         code="site.out_of_range")


def dimension_type(geom: BaseGeometry) -> str:
    """The type of the geometry's one dimension (a collection may not mix them)."""
    if geom.geom_type != "GeometryCollection":  # only a collection can mix dimensions
        return str(geom.geom_type)
    dims = {shapely.get_dimensions(g) for g in flat_parts(geom)}
    if len(dims) > 1:
        raise InputError("场址混合了点、线、面，请分别提交", "The site mixes points, lines and polygons",
                         code="site.mixed_dimensions")
    return {0: "Point", 1: "LineString", 2: "Polygon"}[dims.pop()]


def flat_parts(geom: BaseGeometry) -> list[BaseGeometry]:
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


def refuse_many_crossings(geom: BaseGeometry, what: str) -> None:
    """Refuse a geometry crossing itself too often to repair or buffer in bounded time."""
    if self_crossings(geom) > MAX_SELF_CROSSINGS:
        raise TooLargeError(
            f"{what}自相交超过 {MAX_SELF_CROSSINGS} 处，无法可靠修复，请检查坐标顺序后重新提交",
            f"The {'line' if what == '线状工程' else 'polygon'} crosses itself more than "
            f"{MAX_SELF_CROSSINGS} times; check the vertex order",
            code="site.too_complex")


def repair(fp: BaseGeometry, warnings: list[str]) -> BaseGeometry:
    """A valid polygon for ``fp``: as it is, or repaired by make_valid when that changes its
    area by less than ``MAX_REPAIR_AREA_CHANGE`` (noted in ``warnings``); else refused."""
    if fp.is_valid:
        return fp
    reason = shapely.is_valid_reason(fp)
    refuse_many_crossings(fp, "场址多边形")  # make_valid's cost grows with the crossings
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
