"""Input coordinate systems: EPSG codes via pyproj, GCJ-02 / BD-09 via prcoords.

Everything the engine holds is EPSG:4326 lon/lat (CGCS2000 coincides to < 1 m).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import prcoords
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError
from shapely.geometry.base import BaseGeometry

from spatial.errors import InputError
from spatial.sites.checks import refuse_outside_range, refuse_swapped_axes

#: Chongqing's extent with a margin, lon/lat.
CHONGQING_BOUNDS = (105.0, 28.0, 110.5, 32.5)

#: Positional uncertainty added to sites given in Xi'an 1980 / Beijing 1954 (metres).
OLD_DATUM_UNCERTAINTY_M = 100.0

_OBFUSCATED = {"gcj02": prcoords.gcj_wgs_bored, "bd09": prcoords.bd_wgs_bored}

#: Datums whose conversion to CGCS2000 needs local parameters pyproj does not carry.
_OLD_DATUM_WARNING = {
    "Xian 1980": "西安80坐标系转换为CGCS2000需要当地七参数，此处采用近似转换，误差可达数米至数十米",
    "Beijing 1954": "北京54坐标系转换为CGCS2000需要当地七参数，此处采用近似转换，误差可达数十米",
}


def site_to_lonlat(geom: BaseGeometry, crs: str | None, accuracy_m: float,
                   warnings: list[str]) -> tuple[BaseGeometry, str, float]:
    """The CRS step of a site: the geometry in lon/lat, the CRS it was read in (stated, or
    inferred from the coordinates) and the positional accuracy (widened for an old datum
    without local parameters); refuses swapped axes, coordinates out of range, a projected
    zone that does not fit, and a site far from Chongqing. Notes go to ``warnings``."""
    name = normalise_crs_name(crs)
    if name is None or is_geographic(name):
        refuse_swapped_axes(geom)
    if name is None:
        name, note = infer_crs(geom)
        if note:
            warnings.append(note)
    ll, crs_warnings = to_lonlat(geom, name)
    warnings.extend(crs_warnings)
    if crs_warnings:  # an old datum without local parameters: widen the borderline band
        accuracy_m += OLD_DATUM_UNCERTAINTY_M
        warnings.append(f"场址位置精度已计入基准转换不确定度 {OLD_DATUM_UNCERTAINTY_M:g} 米")
    refuse_outside_range(ll)
    check_zone(ll, name)
    check_region(ll)
    return ll, name, accuracy_m


def normalise_crs_name(crs: str | None) -> str | None:
    """Canonical spelling of a user-given CRS (``gcj02``, ``bd09`` or an EPSG/PROJ string)."""
    if crs is None or not str(crs).strip():
        return None
    text = str(crs).strip()
    low = text.lower().replace("-", "").replace("_", "")
    if low in ("gcj02", "gcj"):
        return "gcj02"
    if low in ("bd09", "bd", "baidu"):
        return "bd09"
    if low.isdigit():
        return f"EPSG:{low}"
    return text


@dataclass(frozen=True)
class _Facts:
    """What screening needs to know about a CRS, read from PROJ once (a batch of parcels
    asked it several times per parcel: 0.07 ms of a parcel's 1.2 ms)."""

    name: str
    geographic: bool
    lonlat: bool  #: EPSG:4326 or EPSG:4490: coordinates are used as they are
    warnings: tuple[str, ...]
    area_of_use: tuple[float, float, float, float] | None


@lru_cache(maxsize=128)
def _facts(crs: str) -> _Facts:
    """Facts about a (normalised, non-obfuscated) CRS; CRSError if PROJ does not know it."""
    src = CRS.from_user_input(crs)
    datum = src.datum.name if src.datum else ""
    use = src.area_of_use
    return _Facts(src.name, bool(src.is_geographic),
                  src.equals(CRS.from_epsg(4326)) or src.equals(CRS.from_epsg(4490)),
                  tuple(w for name, w in _OLD_DATUM_WARNING.items() if name in datum),
                  (use.west, use.south, use.east, use.north) if use is not None else None)


@lru_cache(maxsize=128)
def _wkt(crs: str) -> str:
    """The CRS as WKT (the transformer cache's key), read once per CRS."""
    return str(CRS.from_user_input(crs).to_wkt())


def to_lonlat(geom: BaseGeometry, crs: str) -> tuple[BaseGeometry, list[str]]:
    """Convert a geometry from ``crs`` to EPSG:4326; returns the geometry and warnings."""
    if crs in _OBFUSCATED:
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise InputError(f"{crs} 坐标应为经纬度，当前坐标超出范围", f"{crs} coordinates must be lon/lat",
                             code="site.out_of_range")
        return shapely.transform(geom, _prcoords_vectorised(_OBFUSCATED[crs])), []
    try:
        facts = _facts(crs)
    except CRSError as exc:
        raise InputError(
            f"无法识别的坐标系：{crs}", f"Unrecognised coordinate system: {crs}",
            code="crs.unknown",
        ) from exc
    warnings = list(facts.warnings)
    if facts.lonlat:
        return geom, warnings
    try:
        transformer = _transformer(_wkt(crs))
        out = shapely.transform(geom, lambda c: np.column_stack(
            transformer.transform(c[:, 0], c[:, 1], errcheck=True)))
    except ProjError as exc:
        raise InputError(f"无法从坐标系 {crs} 转换到经纬度", f"Cannot transform from {crs} to lon/lat",
                         code="crs.unsupported") from exc
    return out, warnings


def infer_crs(geom: BaseGeometry) -> tuple[str, str | None]:
    """Guess the CRS of coordinates given without one, only where unambiguous.

    Returns (crs, note). Lon/lat in range → EPSG:4326. An 8-digit easting whose first two
    digits are a 3° Gauss–Krüger zone number → that CGCS2000 zone (EPSG:4513 + zone − 25).
    Anything else raises InputError asking for the CRS.
    """
    minx, miny, maxx, maxy = geom.bounds
    if minx >= -180 and maxx <= 180 and miny >= -90 and maxy <= 90:
        return "EPSG:4326", None
    zone = int(minx // 1_000_000)
    if zone == int(maxx // 1_000_000) and 25 <= zone <= 45 and miny > 0 and maxy < 10_000_000:
        epsg = 4513 + zone - 25
        return f"EPSG:{epsg}", (
            f"坐标未注明坐标系，根据带号前缀 {zone} 推断为 CGCS2000 3度带高斯-克吕格投影 EPSG:{epsg}"
        )
    raise InputError(
        "坐标看起来是投影坐标，但未注明坐标系，请通过 crs 参数说明(例如 EPSG:4545)",
        "Coordinates look projected but no CRS was given; state it with `crs` (e.g. EPSG:4545)",
        code="crs.required",
    )


def is_geographic(crs: str) -> bool:
    """True for lon/lat systems (and GCJ-02 / BD-09), where axis-order mistakes are detectable."""
    if crs in _OBFUSCATED:
        return True
    try:
        return _facts(crs).geographic
    except CRSError:
        return False


def check_zone(ll: BaseGeometry, crs: str) -> None:
    """Refuse projected coordinates that fall outside the stated CRS's area of use (±0.5°).

    A Gauss–Krüger easting given without its zone prefix in the wrong zone, or a UTM zone
    mix-up, lands hundreds of kilometres away; this catches it before screening.
    """
    if crs in _OBFUSCATED:
        return
    facts = _facts(crs)
    if facts.geographic or facts.area_of_use is None:
        return
    w, s, e, n = facts.area_of_use
    minx, miny, maxx, maxy = ll.bounds
    if minx < w - 0.5 or maxx > e + 0.5 or miny < s - 0.5 or maxy > n + 0.5:
        raise InputError(
            f"坐标换算后({minx:.3f},{miny:.3f})超出所注坐标系 {facts.name} 的适用范围，"
            "请检查带号、中央经线或坐标是否含带号前缀",
            f"Coordinates fall outside the area of use of {facts.name}; check the zone",
            code="crs.outside_zone",
        )


def check_region(ll: BaseGeometry) -> None:
    """Refuse sites nowhere near Chongqing: almost always a wrong CRS, not a real site."""
    w, s, e, n = CHONGQING_BOUNDS
    minx, miny, maxx, maxy = ll.bounds
    if maxx < w - 1 or minx > e + 1 or maxy < s - 1 or miny > n + 1:
        raise InputError(
            f"场址位于({minx:.3f}°E,{miny:.3f}°N)附近，不在重庆市及周边，请检查坐标系或坐标顺序",
            "The site is nowhere near Chongqing; check the CRS and the axis order",
            code="site.outside_region",
        )


def _prcoords_vectorised(fn: Callable[..., prcoords.Coords]) -> Callable[[np.ndarray], np.ndarray]:
    def convert(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (lon, lat) in enumerate(coords):
            c = fn(prcoords.Coords(lat, lon), check_china=False)
            out[i] = (c.lon, c.lat)
        return out

    return convert


_THREAD = threading.local()  # pyproj Transformers must not be shared between threads


def _transformer(src: str, dst: str = "EPSG:4326") -> Transformer:
    cache: dict[tuple[str, str], Transformer] | None = getattr(_THREAD, "transformers", None)
    if cache is None:
        cache = _THREAD.transformers = {}
    t = cache.get((src, dst))
    if t is None:
        if len(cache) > 64:
            cache.clear()
        t = cache[(src, dst)] = Transformer.from_crs(CRS.from_user_input(src),
                                                     CRS.from_user_input(dst), always_xy=True)
    return t


def transform_geometry(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    """Reproject a geometry between two CRSs (per-thread cached transformer)."""
    t = _transformer(src, dst)
    return shapely.transform(geom, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
