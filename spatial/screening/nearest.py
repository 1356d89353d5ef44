"""Distances from a site to the nearest constrained features (for comparing candidate sites).

Not a rule: a developer's view of how much room a site has. Reported up to ``REACH_M``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import degree_margin, nearest_distance
from spatial.layers.layerset import IndexedLayer, LayerSet
from spatial.screening.context import CLIP_SLACK_M, Context, clip_near
from spatial.verdict import Nearest

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


def edge_slack_m(site: BaseGeometry, margin_deg: float, lat: float) -> float:
    """How far a feature's edge may lie from where its distance in degrees assumes it.

    The distance in degrees takes edges as straight in lon/lat; the measured distance takes
    them as straight in the site's frame. The two lines part by about L²·tan φ / 8R for an
    edge of length L at latitude φ (measured: 15.0 m at the middle of a 35 km diagonal edge
    at 30.3°N, where the formula gives 14.0 m; 35 km is the diagonal of the window a parcel's
    features are clipped to). Twice the formula at half a degree poleward, and at least 10 m,
    so a candidate is ruled out only when it is clearly farther.
    """
    minx, miny, maxx, maxy = site.bounds
    # the longest edge the clip window can hold, at no more than 111.7 km a degree
    diag_m = math.hypot(maxx - minx + 2 * margin_deg, maxy - miny + 2 * margin_deg) * 111_700.0
    phi = math.radians(min(abs(lat) + 0.5, 89.0))
    return max(10.0, 2 * diag_m ** 2 * math.tan(phi) / (8 * 6_371_000.0))


#: search radii (m): most sites have a constraint close by, so start small and widen
RADII_M = (250.0, 1_000.0, 4_000.0, REACH_M)


#: ``matched(kind, radius, mask, waiting)``: per site of a chunk, whether a feature of layer
#: ``kind`` matching ``mask`` lies within ``radius`` metres (asked for the sites ``waiting``)
Matched = Callable[[str, float, np.ndarray, np.ndarray], np.ndarray]


def first_radii(n_sites: int, layers: LayerSet, matched: Matched) -> dict[int, list[int | None]]:
    """The widening search for a chunk of ``n_sites`` sites at once (spatial.batch.bulk): per
    ``CONSTRAINTS`` entry and site, the first radius (index into ``RADII_M``) with a matching
    feature, or None for none within the last; a radius is asked only of the sites with no
    match within the previous one. ``_nearest`` then begins there (``lookup.nearest_start``)."""
    out: dict[int, list[int | None]] = {}
    everyone = np.arange(n_sites)
    for kind in sorted({k for _, k, _ in CONSTRAINTS if k in layers.layers}):
        which = [c for c, (_, k, _) in enumerate(CONSTRAINTS) if k == kind]
        masks = [layers.layers[kind].mask(CONSTRAINTS[c][2]) for c in which]
        first = np.full((len(which), n_sites), -1)
        waiting = everyone
        for r, radius in enumerate(RADII_M):
            if r > 0:  # still searching: no matching feature within the previous radius
                waiting = waiting[(first[:, waiting] < 0).any(axis=0)]
            if not len(waiting):
                break
            for row, m in zip(first, masks, strict=True):
                now = np.zeros(n_sites, dtype=bool)
                now[waiting] = matched(kind, radius, m, waiting)[waiting]
                row[now & (row < 0)] = r
        for c, radii in zip(which, first.tolist(), strict=True):
            out[c] = [r if r >= 0 else None for r in radii]
    return out


def nearest_constraints(ctx: Context) -> list[Nearest]:
    """For each constraint: distance in metres (0 = touching/inside) or None beyond REACH_M."""
    out = []
    # features are measured on their part within this margin of the site
    margin = degree_margin(REACH_M + CLIP_SLACK_M, ctx.lat)
    slack = edge_slack_m(ctx.site.footprint, margin, ctx.lat)
    for c, (label, kind, flt) in enumerate(CONSTRAINTS):
        lay = ctx.layers.layers.get(kind)
        if lay is None:
            continue
        start = ctx.lookup.nearest_start(c)
        best = _nearest(ctx, lay, flt, margin, slack, start) if start is not None else None
        entry = Nearest(label_zh=label, kind=kind, distance_m=None, within_m=REACH_M,
                        accuracy_m=lay.accuracy_m)
        if best is not None and best[0] <= REACH_M:
            entry.distance_m = round(best[0], 1)
            entry.feature = lay.feature_public(best[1])
            half = lay.half_width_m(best[1])
            if half:  # a centreline with a stated width: the distance to its bank, as the rules
                entry.distance_to_centreline_m = entry.distance_m
                entry.distance_m = round(max(best[0] - half, 0.0), 1)
                entry.half_width_m = half
        out.append(entry)
    return out


def _nearest(ctx: Context, lay: IndexedLayer, flt: dict[str, Any], margin: float, slack: float,
             start: int = 0) -> tuple[float, int] | None:
    """The nearest matching feature within REACH_M: (metres, index), ties to the lowest index.

    Widening searches find a first candidate; a last search out to that candidate's distance
    then catches every feature that could be nearer (a feature nearer on the ground is always
    within ``degree_margin`` of that distance), so the answer equals measuring every feature
    within REACH_M — with 100 000 red-line patches, hundreds of them — at a fraction of the cost.
    For the same reason, a candidate whose distance in degrees already exceeds
    ``degree_margin`` of the nearest distance measured so far (plus ``edge_slack_m``) cannot be
    nearer: candidates are measured nearest in degrees first, and the rest are skipped once
    that bound rules them out (on the stress set: 2.8 red-line measurements per parcel
    became 1.2). The search begins at radius ``RADII_M[start]`` when the smaller ones are
    known to hold no matching feature.
    """
    site = ctx.site.footprint
    measured: dict[int, float] = {}
    seen: set[int] = set()  # measured, or with nothing near the site, or ruled out

    def measure(idx: np.ndarray) -> None:
        new = [int(i) for i in idx if int(i) not in seen]
        if not new:
            return
        seen.update(new)
        parts = clip_near(lay.geoms[new], site, margin)
        if len(new) == 1 and not measured:  # nothing to rule out: measure it if it is near
            if not parts[0].is_empty:
                measured[new[0]] = nearest_distance(ctx.frame, ctx.site_local, parts[0])[0]
            return
        apart = shapely.distance(site, parts)  # degrees; NaN for nothing near the site
        for k in np.argsort(apart, kind="stable").tolist():
            if np.isnan(apart[k]) or (measured and apart[k] > degree_margin(
                    min(measured.values()) + slack, ctx.lat)):
                break  # this one and all after it: empty, or farther than one measured
            measured[new[k]] = nearest_distance(ctx.frame, ctx.site_local, parts[k])[0]

    radius = 0.0
    for radius in RADII_M[start:]:
        idx = ctx.candidates(lay, site, flt, radius)
        if len(idx):
            measure(idx)
            if measured:
                break
    if not measured:
        return None
    closest = min(measured.values())
    # Everything within ``closest`` is within the margin of ``radius`` if closest <= radius,
    # so it has been measured already; otherwise search once more out to ``closest``.
    if radius < closest <= REACH_M:
        measure(ctx.candidates(lay, site, flt, closest))
    d, i = min((d, i) for i, d in measured.items())
    return d, i
