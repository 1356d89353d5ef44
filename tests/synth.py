"""Tiny hand-made layer sets for engine tests, built in metres around a fixed origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import _frame
from spatial.layers.layerset import IndexedLayer, LayerSet
from spatial.layers.store import LayerVersion, SourceMeta

ORIGIN = (106.40, 29.60)
FRAME = _frame(*ORIGIN)


def ll(geom_m: BaseGeometry) -> BaseGeometry:
    """A geometry given in metres around ORIGIN, converted to lon/lat."""
    return FRAME.to_lonlat(geom_m)


def square(cx: float, cy: float, half: float) -> Polygon:
    """Axis-aligned square in metres."""
    return box(cx - half, cy - half, cx + half, cy + half)


def layer(kind: str, features: list[tuple[BaseGeometry, dict[str, Any]]], *,
          accuracy_m: float = 0.0, coverage: BaseGeometry | None = None,
          holds: dict[str, list[str]] | None = None,
          geometry_role: str | None = None) -> IndexedLayer:
    """An IndexedLayer from (metre geometry, attributes) pairs."""
    geoms = np.array([ll(g) for g, _ in features], dtype=object)
    shapely.prepare(geoms)
    meta = SourceMeta(title=f"test {kind}", accuracy_m=accuracy_m, demo=True, holds=holds,
                      geometry_role=geometry_role)
    lv = LayerVersion(kind, f"{kind}-test", "0" * 64, len(features), [0, 0, 0, 0], meta, {},
                      Path("/dev/null"), "test", "2026-01-01T00:00:00Z")
    lay = IndexedLayer(lv, geoms, [dict(a) for _, a in features], shapely.STRtree(geoms))
    lay.coverage = ll(coverage) if coverage is not None else None
    return lay


def layerset(*layers: IndexedLayer) -> LayerSet:
    """A LayerSet; coverage = union of the admin_district features (if any)."""
    by_kind = {lay.kind: lay for lay in layers}
    admin = by_kind.get("admin_district")
    cov = shapely.union_all(admin.geoms) if admin else None
    return LayerSet(by_kind, cov)


def district_layer(adcode: str = "500106", name: str = "沙坪坝区", *, half: float = 30_000,
                   neighbour: bool = True) -> IndexedLayer:
    """A big square district around ORIGIN (x < 0 half) and, optionally, a neighbour east."""
    feats: list[tuple[BaseGeometry, dict[str, Any]]] = [
        (box(-half, -half, 0, half), {"adcode": adcode, "name": name})]
    if neighbour:
        feats.append((box(0, -half, half, half), {"adcode": "500107", "name": "九龙坡区"}))
    return layer("admin_district", feats)
