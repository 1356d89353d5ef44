"""Layer validation before anything goes live: schema, geometry repair, extent, and a
comparison with the active version (DESIGN §3). Errors block activation; warnings are kept."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import geodesic_area
from spatial.layers.kinds import LayerKind


@dataclass
class ValidationReport:
    """What the loader found in a layer file before storing it."""

    feature_count: int = 0
    source_crs: str | None = None
    repaired: int = 0
    repairs: list[dict[str, Any]] = field(default_factory=list)
    dropped_empty: int = 0
    duplicates: int = 0
    outside_region: int = 0
    partly_outside_region: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    comparison: dict[str, Any] | None = None


MAX_LISTED = 20


def validate_frame(schema: LayerKind, gdf: gpd.GeoDataFrame, *,
                   region: BaseGeometry | None = None) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check a frame against its kind; return the cleaned EPSG:4326 frame and a report.

    ``region`` (Chongqing's districts) flags features wholly outside it as errors (almost
    always a CRS mistake) and features partly outside as warnings.
    """
    report = ValidationReport(feature_count=len(gdf))
    if gdf.crs is None:
        report.errors.append("文件没有坐标系信息 (no CRS)")
        return gdf, report
    report.source_crs = gdf.crs.to_string()
    gdf = gdf.to_crs("EPSG:4326") if gdf.crs.to_epsg() != 4326 else gdf
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    report.dropped_empty = int((~keep).sum())
    if report.dropped_empty:
        report.warnings.append(f"{report.dropped_empty} 个空几何要素已剔除")
    gdf = gdf[keep].copy()
    # columns with no value at all (e.g. KML's timestamp/begin/end) carry nothing: drop them
    empty_cols = [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].isna().all()
                  and schema.attribute(c) is None]
    gdf = gdf.drop(columns=empty_cols)
    _repair(schema, gdf, report)
    types = set(gdf.geometry.geom_type)
    if not types <= set(schema.geometry):
        report.errors.append(f"几何类型 {sorted(types)} 不符合 {schema.name} 要求 {schema.geometry}")
    _check_attributes(schema, gdf, report)
    if len(gdf) == 0:
        report.errors.append("图层没有有效要素")
    gdf = gdf.set_geometry(shapely.normalize(shapely.set_precision(gdf.geometry.values, 1e-8)))
    wkb = [g.wkb_hex for g in gdf.geometry]
    report.duplicates = len(wkb) - len(set(wkb))
    if report.duplicates:
        report.warnings.append(f"{report.duplicates} 个要素与其他要素几何完全相同(重复)")
    if region is not None and len(gdf):
        _check_region(gdf, region, report)
    gdf = gdf.iloc[sorted(range(len(gdf)), key=lambda i: wkb[i])]
    return gdf.reset_index(drop=True), report


def _repair(schema: LayerKind, gdf: gpd.GeoDataFrame, report: ValidationReport) -> None:
    invalid = ~gdf.geometry.is_valid
    if not invalid.any():
        return
    report.repaired = int(invalid.sum())
    reasons = shapely.is_valid_reason(gdf.geometry[invalid].values)
    fixed = shapely.make_valid(gdf.geometry[invalid].values)
    if all(t.endswith("Polygon") for t in schema.geometry):
        # make_valid may return a collection with slivers of lower dimension: keep the area
        fixed = [shapely.union_all([p for p in shapely.get_parts(g)
                                    if p.geom_type.endswith("Polygon")]) for g in fixed]
    for pos, reason in list(zip(gdf.index[invalid], reasons, strict=True))[:MAX_LISTED]:
        report.repairs.append({"feature": int(pos), "reason": str(reason), "method": "make_valid"})
    gdf.loc[invalid, "geometry"] = fixed
    report.warnings.append(f"{report.repaired} 个无效几何已用 make_valid 修复(逐个列于 repairs)")


def _check_attributes(schema: LayerKind, gdf: gpd.GeoDataFrame, report: ValidationReport) -> None:
    for attr in schema.attributes:
        if attr.name not in gdf.columns:
            report.errors.append(f"缺少必需字段 {attr.name}")
            continue
        converted, bad_values = _coerce(gdf[attr.name], attr.type)
        if bad_values:
            report.errors.append(
                f"字段 {attr.name} 的取值 {bad_values[:5]} 无法转换为{_TYPE_ZH[attr.type]}")
            continue
        gdf[attr.name] = converted
        if attr.pattern and (bad := sorted({v for v in converted.dropna()
                                            if not re.fullmatch(attr.pattern, v)})):
            report.errors.append(f"字段 {attr.name} 的取值 {bad[:5]} 格式不符")
        values = gdf[attr.name]
        if not attr.nullable and values.isna().any():
            report.errors.append(f"字段 {attr.name} 有 {int(values.isna().sum())} 个空值")
        if attr.domain is not None:
            bad = sorted({str(v) for v in values.dropna() if v not in attr.domain})
            if bad:
                report.errors.append(f"字段 {attr.name} 的取值 {bad} 不在允许范围 {list(attr.domain)}")


def _check_region(gdf: gpd.GeoDataFrame, region: BaseGeometry, report: ValidationReport) -> None:
    shapely.prepare(region)
    geoms = gdf.geometry.values
    touching = shapely.intersects(region, geoms)
    inside = shapely.covers(region, geoms)
    report.outside_region = int((~touching).sum())
    report.partly_outside_region = int((touching & ~inside).sum())
    if report.outside_region:
        report.errors.append(f"{report.outside_region} 个要素完全位于重庆市范围之外(请检查坐标系)")
    if report.partly_outside_region:
        report.warnings.append(f"{report.partly_outside_region} 个要素部分超出重庆市范围")


def compare(schema: LayerKind, new: gpd.GeoDataFrame, old: gpd.GeoDataFrame | None,
            old_version: str | None) -> dict[str, Any] | None:
    """Counts and areas against the active version: added, removed, per attribute value."""
    if old is None:
        return None
    key = next((a.name for a in schema.attributes if a.domain), None)
    polygonal = all(t.endswith("Polygon") for t in schema.geometry)

    def totals(frame: gpd.GeoDataFrame) -> dict[str, Any]:
        return {"count": len(frame),
                "area_m2": round(sum(geodesic_area(g) for g in frame.geometry), 1) if polygonal
                else None}

    out: dict[str, Any] = {"previous_version": old_version, "before": totals(old),
                           "after": totals(new)}
    if polygonal:
        out.update(_diff(new.geometry.values, old.geometry.values))
        if key and key in new.columns and key in old.columns:
            out["by_value"] = []
            for value in sorted({*new[key].dropna().astype(str), *old[key].dropna().astype(str)}):
                n = new.geometry.values[(new[key].astype(str) == value).to_numpy()]
                o = old.geometry.values[(old[key].astype(str) == value).to_numpy()]
                out["by_value"].append({"attribute": key, "value": value, "count_before": len(o),
                                        "count_after": len(n), **_diff(n, o)})
    return out


def _diff(new: Any, old: Any) -> dict[str, float]:
    """Areas of both unions and of what was added and removed (m², geodesic).

    Layers whose features do not overlap each other (red lines, reserves, districts) are
    measured feature by feature against their few neighbours — the same numbers without the
    union of the whole layer, which takes minutes for 100 000 polygons; a layer with overlapping
    features is unioned first.
    """
    area_new, parts_new = _area_and_parts(np.asarray(new, dtype=object))
    area_old, parts_old = _area_and_parts(np.asarray(old, dtype=object))
    return {"area_before_m2": round(area_old, 1), "area_after_m2": round(area_new, 1),
            "added_m2": round(_outside(parts_new, parts_old), 1),
            "removed_m2": round(_outside(parts_old, parts_new), 1)}


def _area_and_parts(geoms: np.ndarray) -> tuple[float, np.ndarray]:
    """Area of the union and pieces with disjoint interiors covering it: the features
    themselves when they do not overlap, else their union as one piece."""
    if _interiors_disjoint(geoms):
        return sum(geodesic_area(g) for g in geoms), geoms
    union = shapely.union_all(geoms)
    return geodesic_area(union), np.array([union], dtype=object)


def _interiors_disjoint(geoms: np.ndarray) -> bool:
    """True when no two features share interior area (touching edges are fine)."""
    if len(geoms) < 2:
        return True
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = a < b
    return not shapely.relate_pattern(geoms[a[pairs]], geoms[b[pairs]], "T********").any()


def _outside(these: np.ndarray, others: np.ndarray) -> float:
    """Geodesic area of ``these`` (interiors disjoint) not covered by any of ``others``."""
    if not len(these):
        return 0.0
    if not len(others):
        return sum(geodesic_area(g) for g in these)
    src, hit = shapely.STRtree(others).query(these, predicate="intersects")
    order = np.argsort(src, kind="stable")
    src, hit = src[order], hit[order]
    bounds = np.searchsorted(src, np.arange(len(these) + 1))
    total = 0.0
    for i, g in enumerate(these):
        near = hit[bounds[i]:bounds[i + 1]]
        rest = shapely.difference(g, shapely.union_all(others[near])) if len(near) else g
        total += geodesic_area(rest)
    return total


_TYPE_ZH = {bool: "布尔值", str: "文本"}
_TRUE = {True, "1", "true", "t", "yes", "y", "是"}
_FALSE = {False, "0", "false", "f", "no", "n", "否"}


def _coerce(values: pd.Series, kind: type) -> tuple[pd.Series, list[str]]:
    """Convert a column to the schema type; returns the column and unconvertible values."""
    bad: list[str] = []

    def one(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if kind is bool:
            key = v.strip().lower() if isinstance(v, str) else v
            if key in _TRUE:
                return True
            if key in _FALSE:
                return False
            bad.append(str(v))
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))  # e.g. adcode 500106 read as a number
        return str(v)

    items = [one(v) for v in values]
    # a plain bool column is written to GeoPackage as a boolean field, object as text
    dtype = bool if kind is bool and None not in items else object
    return pd.Series(items, index=values.index, dtype=dtype), sorted(set(bad))


