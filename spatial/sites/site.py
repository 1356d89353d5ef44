"""The proposed site, ready for screening: ``build_site`` takes a geometry as read
(spatial.sites.formats) through the CRS (spatial.sites.crs), the checks (spatial.sites.checks)
and the footprint (spatial.sites.footprint), in that order. Limits (README): 100 000 vertices,
2 000 km².
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import geodesic_area, geodesic_length
from spatial.sites import crs as crs_mod
from spatial.sites.checks import check_area, check_input, dimensions
from spatial.sites.footprint import footprint


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
    """A screenable Site from a geometry as read (spatial.sites.formats), in one straight line:
    input checks → to lon/lat (spatial.sites.crs) → dimensions → footprint → area; raises
    InputError if unusable. ``notes`` are the reader's warnings (kept in ``site.warnings``).
    """
    check_input(geom, accuracy_m)
    warnings: list[str] = list(notes or [])
    ll, name, accuracy_m = crs_mod.site_to_lonlat(geom, crs, accuracy_m, warnings)
    ll, gtype = dimensions(ll)
    fp = footprint(ll, gtype, radius_m, corridor_width_m, warnings)
    area = check_area(fp)
    site = Site(
        footprint=fp, input_geometry=ll, input_crs=name, geometry_type=gtype,
        radius_m=radius_m if gtype.endswith("Point") else None,
        corridor_width_m=corridor_width_m if gtype.endswith("LineString") else None,
        accuracy_m=accuracy_m, warnings=warnings, input_format=input_format,
    )
    site.__dict__["area_m2"] = area  # the cached_property's value: measured just above
    return site
