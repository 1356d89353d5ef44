"""A site's footprint: a polygon as given, a point as a disc of ``radius_m``, a line as a
corridor of ``corridor_width_m``, buffered in a local metric frame; invalid parts repaired."""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError
from spatial.geodesy import geodesic_area, local_frame
from spatial.sites.checks import refuse_many_crossings, repair

DEFAULT_POINT_RADIUS_M = 50.0
DEFAULT_CORRIDOR_WIDTH_M = 20.0
#: the smallest point radius or corridor half-width (a survey peg, not a pinhead)
MIN_BUFFER_M = 0.05


def footprint(ll: BaseGeometry, gtype: str, radius_m: float | None, width_m: float | None,
              warnings: list[str]) -> BaseGeometry:
    """The polygonal lon/lat footprint of a checked geometry of dimension ``gtype``."""
    parts = [repair(p, warnings) for p in shapely.get_parts(_buffered(ll, gtype, radius_m,
                                                                      width_m, warnings))]
    out = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if len(parts) > 1 and geodesic_area(out) < sum(geodesic_area(p) for p in parts) * 0.9999:
        warnings.append("多部件场址的部件相互重叠，重叠部分只计一次")
    return out


def _buffered(ll: BaseGeometry, gtype: str, radius_m: float | None,
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
        refuse_many_crossings(ll, "线状工程")
    frame = local_frame(ll)
    return frame.to_lonlat(frame.to_local(ll).buffer(dist, quad_segs=64))
