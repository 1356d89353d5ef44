"""Overlap predicates: ``intersects``, ``outside``, ``inside_district`` and ``anywhere``."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import degree_margin, geodesic_area, nearest_distance
from spatial.layers.layerset import IndexedLayer, LayerSet
from spatial.ruleset import Where
from spatial.screening.context import CLIP_SLACK_M, Context, clip_near, local_feature
from spatial.screening.lookup import Question
from spatial.screening.predicates.base import (
    Outcome,
    Predicate,
    derived,
    overlap_questions,
    register,
)


def reaches_inside(ctx: Context, feature: BaseGeometry, acc: float) -> bool:
    """Whether some of the site lies more than ``acc`` metres inside ``feature``: whether the
    site meets the feature shrunk by ``acc``.

    Cheap tests first: the site deep inside; then a witness, a point of the site (one inside
    it, or a vertex) inside the feature and farther than ``acc`` from its edge (such a point
    lies in the shrunk feature, which the buffer below approximates from outside, so both
    agree); only without one is the feature shrunk (a negative buffer: ~250 µs for a
    60-vertex red-line patch, against ~30 µs for the witness test, which settles 375 of the
    455 such cases among 3 000 stress parcels).
    """
    if ctx.deep_inside(feature, acc):
        return True
    local = local_feature(ctx, feature, acc)
    if local.geom_type in ("Polygon", "MultiPolygon"):  # a line or a collection: no witness
        xy = ctx.witness_xy
        inside = shapely.contains_xy(local, xy[:, 0], xy[:, 1])
        if inside.any() and not shapely.dwithin(local.boundary, shapely.points(xy[inside]),
                                                acc).all():
            return True
    return bool(ctx.site_local.intersects(local.buffer(-acc)))


def overlap_outcome(ctx: Context, lay: IndexedLayer, flt: dict[str, Any], site_ll: BaseGeometry,
                    *, min_m2: float = 0.0, min_share: float = 0.0) -> Outcome:
    """Shared logic of ``intersects`` and ``inside_district``."""
    acc = lay.accuracy_m + ctx.site.accuracy_m
    idx = ctx.candidates(lay, site_ll, flt)
    areas: list[tuple[int, float]] = []
    polygonal = []
    for i in idx:
        if shapely.contains_properly(lay.geoms[i], site_ll):  # prepared: cheap, and common
            inter, area = site_ll, ctx.site_area_m2 if site_ll is ctx.site.footprint \
                else geodesic_area(site_ll)
        else:
            inter = shapely.intersection(site_ll, lay.geoms[i])
            area = geodesic_area(inter)
        if inter.is_empty or (area <= 0 and shapely.get_dimensions(lay.geoms[i]) == 2):
            continue  # touching a polygon along an edge is not an overlap
        areas.append((int(i), area))
        polygonal.append(inter)
    # parts of different features may overlap each other: measure their union (one: as is)
    total = (areas[0][1] if len(polygonal) == 1 else
             geodesic_area(shapely.union_all(polygonal)) if polygonal else 0.0)
    share = total / ctx.site_area_m2 if ctx.site_area_m2 else 0.0
    fired = bool(areas) and total >= min_m2 and share >= min_share
    measure = _overlap_measure(total, share, min_m2, min_share)
    if fired:
        best = max(areas, key=lambda t: t[1])[0]
        borderline = acc > 0 and not any(reaches_inside(ctx, lay.geoms[i], acc)
                                         for i, _ in areas)
        return Outcome(fired=True, borderline=borderline, layer=lay, feature=best,
                       features_hit=len(areas), measure=measure)
    near = (ctx.candidates(lay, site_ll, flt, acc) if acc
            else np.empty(0, dtype=int))
    best_d, best_i = None, None
    for i in near:
        d, _, _ = nearest_distance(ctx.frame, ctx.site_local, clip_near(
            lay.geoms[i], site_ll, degree_margin(acc + CLIP_SLACK_M, ctx.lat)))
        if d <= acc and (best_d is None or d < best_d):
            best_d, best_i = d, int(i)
    if best_d is not None:
        measure["distance_m"] = round(best_d, 1)
        return Outcome(fired=False, borderline=True, layer=lay, feature=best_i, measure=measure)
    return Outcome(fired=False, layer=lay, measure=measure)


def _overlap_measure(total: float, share: float, min_m2: float, min_share: float
                     ) -> dict[str, Any]:
    measure: dict[str, Any] = {"overlap_m2": round(total, 1), "overlap_share": round(share, 4)}
    if min_m2:
        measure["min_overlap_m2"] = min_m2
    if min_share:
        measure["min_overlap_share"] = min_share
    return measure


@register
class Intersects(Predicate):
    """The site overlaps a feature (optionally by a minimum area or share of the site)."""

    name = "intersects"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Overlap test with geodesic overlap area."""
        assert where.layer is not None
        return overlap_outcome(ctx, ctx.layer(where.layer), where.filter, ctx.site.footprint,
                               min_m2=where.min_overlap_m2 or 0.0,
                               min_share=where.min_overlap_share or 0.0)

    def quiet_reach(self, where: Where, lay: IndexedLayer, site_accuracy_m: float
                    ) -> float | None:
        """No feature within the positional accuracy: no overlap and no near miss."""
        return lay.accuracy_m + site_accuracy_m

    def quiet_outcome(self, where: Where, lay: IndexedLayer, reach: float) -> Outcome:
        """Not fired, not borderline, nothing overlapped."""
        return Outcome(fired=False, layer=lay, measure=dict(derived("quiet", where, lambda w: (
            _overlap_measure(0.0, 0.0, w.min_overlap_m2 or 0.0, w.min_overlap_share or 0.0)))))


@register
class Outside(Predicate):
    """The site is not wholly inside any one matching feature."""

    name = "outside"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Containment test; measures the part of the site outside the best feature."""
        assert where.layer is not None
        lay = ctx.layer(where.layer)
        acc = lay.accuracy_m + ctx.site.accuracy_m
        site_ll = ctx.site.footprint
        idx = ctx.candidates(lay, site_ll, where.filter)
        best_i, best_area, inside = None, 0.0, False
        for i in idx:
            if shapely.covers(lay.geoms[i], site_ll):
                best_i, best_area, inside = int(i), ctx.site_area_m2, True
                break
            area = geodesic_area(shapely.intersection(site_ll, lay.geoms[i]))
            if area > best_area:
                best_i, best_area = int(i), area
        outside_m2 = max(ctx.site_area_m2 - best_area, 0.0)
        measure = {"outside_m2": round(outside_m2, 1),
                   "outside_share": round(outside_m2 / ctx.site_area_m2, 4)}
        borderline = False
        if acc > 0 and best_i is not None:
            if inside:
                borderline = not (ctx.deep_inside(lay.geoms[best_i], acc) or local_feature(
                    ctx, lay.geoms[best_i], acc).buffer(-acc).covers(ctx.site_local))
            else:
                local = local_feature(ctx, lay.geoms[best_i], acc)
                borderline = local.buffer(acc).covers(ctx.site_local)
        return Outcome(fired=not inside, borderline=borderline, layer=lay, feature=best_i,
                       features_hit=0 if inside else 1, measure=measure)


@register
class InsideDistrict(Predicate):
    """The site touches one of the listed districts (optionally minus a layer's features)."""

    name = "inside_district"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """District overlap of the site, after removing the ``minus`` features."""
        admin = ctx.layer("admin_district")
        site_ll = ctx.site.footprint
        if where.minus is not None:
            minus = ctx.layer(where.minus.layer)
            idx = ctx.candidates(minus, site_ll, where.minus.filter)
            if len(idx):
                site_ll = shapely.difference(site_ll, shapely.union_all(minus.geoms[idx]))
            if site_ll.is_empty:
                return Outcome(fired=False, layer=admin, measure={"overlap_m2": 0.0})
        return overlap_outcome(ctx, admin, _adcode_filter(where), site_ll,
                               min_m2=1.0)

    def queries(self, where: Where, layers: LayerSet, site_accuracy_m: float) -> set[Question]:
        """The districts, and the layer whose features are taken out first."""
        return (overlap_questions("admin_district", layers, site_accuracy_m)
                | overlap_questions(where.minus.layer if where.minus else None, layers,
                                    site_accuracy_m))


def _adcode_filter(where: Where) -> dict[str, Any]:
    """The district filter of an ``inside_district`` test, one long-lived dict per rule (the
    layer caches filter masks by object)."""
    flt: dict[str, Any] = derived("adcodes", where, lambda w: {"adcode": list(w.adcodes or [])})
    return flt


@register
class Anywhere(Predicate):
    """Always fires: the rule depends on the project alone."""

    name = "anywhere"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Fire unconditionally."""
        return Outcome(fired=True)

    def queries(self, where: Where, layers: LayerSet, site_accuracy_m: float) -> set[Question]:
        """None: the rule depends on the project alone."""
        return set()
