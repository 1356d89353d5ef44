"""Display layers for the web page: the distance rings the rules test (e.g. 嘉陵江 1 km / 5 km),
built once per layer set in a Chongqing-wide metric frame (display accuracy, not for rules)."""

from __future__ import annotations

import json
from typing import Any

import shapely
from shapely.geometry import mapping

from spatial.geodesy import _frame
from spatial.layers.layerset import LayerSet
from spatial.ruleset import RuleSet, Where

#: Transverse Mercator through the middle of Chongqing; scale error < 0.1 % across the city,
#: which is invisible at page scale (the engine measures in per-site frames).
_CQ = (107.75, 30.0)
_VALUE_ZH = {"mainstem": "长江干流", "important_tributary": "重要支流", "tributary": "一般支流"}
_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}


def distance_tests(layers: LayerSet, rules: RuleSet) -> list[Where]:
    """Each distinct (layer, filter, distance) that a ``within_distance`` rule tests."""
    seen: set[str] = set()
    out = []
    for rule in rules.rules:
        w = rule.where
        if w.predicate != "within_distance" or w.layer not in layers.layers or w.distance_m is None:
            continue
        sig = json.dumps([w.layer, w.filter, w.distance_m], sort_keys=True, ensure_ascii=False)
        if sig not in seen:
            seen.add(sig)
            out.append(w)
    return out


def distance_rings(layers: LayerSet, rules: RuleSet) -> dict[str, Any]:
    """A FeatureCollection of the buffer rings of every ``within_distance`` rule."""
    key = (layers.key, rules.sha256)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    frame = _frame(*_CQ)
    admin = layers.layers.get("admin_district")
    clip = shapely.union_all(admin.geoms).envelope if admin is not None else None
    features = []
    for w in distance_tests(layers, rules):
        assert w.layer is not None and w.distance_m is not None
        lay = layers.layers[w.layer]
        geoms = lay.geoms[lay.mask(w.filter)]
        if not len(geoms):
            continue
        local = frame.to_local(shapely.union_all(geoms))
        ring = frame.to_lonlat(local.buffer(w.distance_m, quad_segs=8).simplify(10).boundary)
        if clip is not None:
            ring = shapely.intersection(ring, clip)
        values = [v for val in w.filter.values() for v in (val if isinstance(val, list) else [val])]
        label = "、".join(_VALUE_ZH.get(str(v), str(v)) for v in values) or lay.kind
        features.append({"type": "Feature", "geometry": mapping(ring),
                         "properties": {"label": f"{label} {w.distance_m / 1000:g} 公里",
                                        "distance_m": w.distance_m, "layer": w.layer,
                                        "rules": [r.id for r in rules.rules
                                                  if r.where.layer == w.layer
                                                  and r.where.filter == w.filter
                                                  and r.where.distance_m == w.distance_m]}})
    out = {"type": "FeatureCollection", "features": features}
    _CACHE.clear()
    _CACHE[key] = out
    return out
