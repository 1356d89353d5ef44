"""Rivers: World Data Bank II centrelines identified by geometry, conflated with district
borders in the main city, and their measured accuracy."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from scripts.demo_data.basemap import read_basemap
from scripts.demo_data.common import SHAPINGBA, distance_m, geodesic_distance_m, round_geom, to_ll, to_m
from scripts.demo_data.districts import District

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
