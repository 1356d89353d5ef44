"""Distances from a site to the nearest constrained features (for comparing candidate sites).

Not a rule: a developer's view of how much room a site has. Reported up to ``REACH_M``.
"""

from __future__ import annotations

from typing import Any

from spatial.geodesy import degree_margin, nearest_distance
from spatial.predicates import Context, clip_near

REACH_M = 10_000.0

#: (label, layer kind, attribute filter) of the constraints a developer asks about first.
CONSTRAINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("生态保护红线", "eco_redline", {}),
    ("自然保护地", "protected_area", {}),
    ("“四山”禁建区", "four_mountains", {"zone": "no_build"}),
    ("饮用水水源保护区", "water_source", {}),
    ("嘉陵江", "river", {"name": "嘉陵江"}),
    ("长江", "river", {"name": "长江"}),
    ("合规工业园区", "industrial_park", {"compliant": True}),
]


def nearest_constraints(ctx: Context) -> list[dict[str, Any]]:
    """For each constraint: distance in metres (0 = touching/inside) or None beyond REACH_M."""
    out = []
    for label, kind, flt in CONSTRAINTS:
        lay = ctx.layers.layers.get(kind)
        if lay is None:
            continue
        best: tuple[float, int] | None = None
        for i in ctx.candidates(lay, ctx.site.footprint, flt, REACH_M):
            part = clip_near(lay.geoms[i], ctx.site.footprint, degree_margin(REACH_M + 200, ctx.lat))
            if part.is_empty:
                continue
            d = nearest_distance(ctx.frame, ctx.site_local, part)[0]
            if best is None or d < best[0]:
                best = (d, int(i))
        entry: dict[str, Any] = {"label_zh": label, "kind": kind, "distance_m": None,
                                 "within_m": REACH_M, "accuracy_m": lay.accuracy_m}
        if best is not None and best[0] <= REACH_M:
            entry["distance_m"] = round(best[0], 1)
            entry["feature"] = lay.feature_public(best[1])
        out.append(entry)
    return out
