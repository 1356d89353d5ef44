"""Spatial predicates of the rule language, one small class each, in a registry.

Every predicate answers for one rule's ``where``: did it fire, is the decision within the
positional uncertainty of the data (``borderline``), which feature decided it, and the
measure in metres (distance) or square metres (overlap), computed on the ellipsoid.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import (
    LocalFrame,
    degree_margin,
    farthest_lat,
    geodesic_area,
    nearest_distance,
)
from spatial.layerset import ASSUMED_MAX_HALF_WIDTH_M, IndexedLayer, LayerSet, RasterLayer
from spatial.ruleset import Where
from spatial.site import Site
from spatial.thumbnail import thumbnail_png, window_bounds_ll
from spatial.zonal import misses, zonal_cells


class MissingLayer(Exception):
    """A layer kind the predicate needs has no active version."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


#: at most this many of a site's vertices are tried as witnesses (``_reaches_inside``): each
#: is measured against the feature's edge, so a 100 000-vertex corridor must not try them all
WITNESS_VERTICES = 64


@dataclass
class Context:
    """Per-screening state shared by all predicates: the site in both frames and a memo."""

    site: Site
    layers: LayerSet
    frame: LocalFrame
    site_local: BaseGeometry
    site_area_m2: float
    memo: dict[str, Outcome] = field(default_factory=dict)
    scopes: dict[str, Context] = field(default_factory=dict)
    #: raw index hits for the site footprint per (kind, reach in metres); a batch fills it in
    #: bulk beforehand (spatial.bulk), a single screening fills it as rules ask
    hits: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)
    grown: dict[float, BaseGeometry] = field(default_factory=dict)
    #: whether a layer's data covers the site (and a distance around it): (kind, metres) → bool
    covered: dict[tuple[str, float | None], bool] = field(default_factory=dict)
    #: ``id`` of the ``where`` of rules a batch found quiet in bulk (spatial.bulk)
    quiet_rules: set[int] = field(default_factory=set)
    #: per entry of ``nearest.CONSTRAINTS`` (by position): the first search radius (index into
    #: ``nearest.RADII_M``) with a matching feature, None for none within the last; found by
    #: a batch in bulk, so the nearest search skips the radii known to be empty
    nearest_from: dict[int, int | None] = field(default_factory=dict)

    @classmethod
    def create(cls, site: Site, layers: LayerSet) -> Context:
        """Project the site once into its local metric frame."""
        from spatial.geodesy import local_frame

        frame = local_frame(site.footprint)
        return cls(site, layers, frame, frame.to_local(site.footprint), site.area_m2)

    def candidates(self, lay: IndexedLayer, geom: BaseGeometry, flt: dict[str, Any],
                   reach_m: float = 0.0) -> np.ndarray:
        """Indices of filtered features of ``lay`` within ``reach_m`` of ``geom`` (sorted).

        Queries for the site footprint itself are kept per (kind, reach): many rules ask the
        same layer the same question with different attribute filters.
        """
        if geom is not self.site.footprint:
            return lay.candidates(geom, flt, within_deg=degree_margin(reach_m, self.lat)
                                  if reach_m > 0 else 0.0)
        key = (lay.kind, float(reach_m))
        idx = self.hits.get(key)
        if idx is None:
            idx = lay.query(geom, degree_margin(reach_m, self.lat) if reach_m > 0 else 0.0)
            self.hits[key] = idx
        return idx[lay.mask(flt)[idx]] if len(idx) else idx

    def deep_inside(self, feature: BaseGeometry, margin_m: float) -> bool:
        """True when ``feature`` contains the whole site with at least ``margin_m`` to spare.

        A cheap test on the prepared feature against the site's bounding box grown by
        ``degree_margin`` (which covers the metric margin), so a site deep inside a district
        skips clipping, projecting and shrinking that district; False means "not shown", and
        the exact test runs.
        """
        grown = self.grown.get(margin_m)
        if grown is None:
            d = degree_margin(margin_m, self.lat)
            minx, miny, maxx, maxy = self.site.footprint.bounds
            grown = self.grown[margin_m] = shapely.box(minx - d, miny - d, maxx + d, maxy + d)
        return bool(shapely.contains_properly(feature, grown))

    def layer(self, kind: str) -> IndexedLayer:
        """The active layer of a kind, or MissingLayer."""
        lay = self.layers.layers.get(kind)
        if lay is None:
            raise MissingLayer(kind)
        return lay

    @cached_property
    def witness_xy(self) -> np.ndarray:
        """Points of the site in the local frame, to try first when asking whether the site
        reaches some distance into a feature: a point inside it (not the centroid, which a
        concave or multi-part site may not contain) and its vertices."""
        xy = shapely.get_coordinates(self.site_local)
        step = -(-len(xy) // WITNESS_VERTICES)  # a long corridor: every step-th vertex
        return np.vstack([shapely.get_coordinates(self.site_local.representative_point()),
                          xy[::step]])

    @cached_property
    def lat(self) -> float:
        """The site's latitude farthest from the equator (degree margins must hold everywhere)."""
        return farthest_lat(self.site.footprint)


@dataclass
class Outcome:
    """Result of a predicate for one rule."""

    fired: bool
    borderline: bool = False
    layer: IndexedLayer | RasterLayer | None = None
    feature: int | None = None
    features_hit: int = 0
    measure: dict[str, Any] = field(default_factory=dict)
    #: set when the data cannot decide (e.g. the raster is nodata under the site)
    gap: str | None = None
    thumbnail: str | None = None
    thumbnail_bounds: list[float] | None = None


class Predicate:
    """Base class: ``evaluate`` one rule's ``where`` in a screening context."""

    name: ClassVar[str]

    def evaluate(self, ctx: Context, where: Where) -> Outcome:  # pragma: no cover - abstract
        """Evaluate the predicate."""
        raise NotImplementedError

    def quiet_reach(self, where: Where, lay: IndexedLayer, site_accuracy_m: float
                    ) -> float | None:
        """The reach (metres) within which no matching feature of ``lay`` means the outcome is
        ``quiet_outcome``, without evaluating; None when the predicate has no such answer."""
        return None

    def quiet_outcome(self, where: Where, lay: IndexedLayer, reach: float
                      ) -> Outcome:  # pragma: no cover - only called where quiet_reach is set
        """What ``evaluate`` gives when nothing matches within ``quiet_reach``."""
        raise NotImplementedError

    def quiet(self, ctx: Context, where: Where) -> Outcome | None:
        """The outcome ``evaluate`` would give, if it is known without evaluating because no
        matching feature is anywhere near the site; None otherwise (evaluate then, which also
        reports a missing layer)."""
        lay = ctx.layers.layers.get(where.layer) if where.layer else None
        reach = self.quiet_reach(where, lay, ctx.site.accuracy_m) if lay is not None else None
        if lay is None or reach is None or len(
                ctx.candidates(lay, ctx.site.footprint, where.filter, reach)):
            return None
        return self.quiet_outcome(where, lay, reach)


REGISTRY: dict[str, Predicate] = {}


def register(cls: type[Predicate]) -> type[Predicate]:
    """Class decorator adding a predicate to the registry under its ``name``."""
    REGISTRY[cls.name] = cls()
    return cls


_DERIVED: dict[tuple[str, int], tuple[Where, Any]] = {}


def _derived(name: str, where: Where, make: Callable[[Where], Any]) -> Any:
    """``make(where)`` computed once per rule's ``where`` object (rules live as long as their
    rule set; the object is kept with the value, so its id is never reused meanwhile)."""
    hit = _DERIVED.get((name, id(where)))
    if hit is None or hit[0] is not where:
        hit = _DERIVED[(name, id(where))] = (where, make(where))
    return hit[1]


def memo_key(where: Where) -> str:
    """The spatial test of a ``where`` as a string (districts excluded), computed once."""
    return str(_derived("memo", where, lambda w: json.dumps(
        w.model_dump(exclude={"districts"}), sort_keys=True, ensure_ascii=False)))


def evaluate(ctx: Context, where: Where) -> Outcome:
    """Evaluate ``where`` with memoisation (many rules share the same spatial test)."""
    key = memo_key(where)
    hit = ctx.memo.get(key)
    if hit is None:
        hit = REGISTRY[where.predicate].evaluate(ctx, where)
        ctx.memo[key] = hit
    return hit


def quiet(ctx: Context, where: Where) -> Outcome | None:
    """``Predicate.quiet`` of the ``where``'s predicate: a cheap answer for a site with nothing
    near (most rules, for most parcels), or None."""
    return REGISTRY[where.predicate].quiet(ctx, where)


def clip_near(geom: Any, site_ll: BaseGeometry, margin_deg: float) -> Any:
    """The part of ``geom`` (a geometry, or an array of them) within ``margin_deg`` of the
    site's bounding box (fast, for measures)."""
    minx, miny, maxx, maxy = site_ll.bounds
    return shapely.clip_by_rect(geom, minx - margin_deg, miny - margin_deg,
                                maxx + margin_deg, maxy + margin_deg)


def _local_feature(ctx: Context, geom: BaseGeometry, margin_m: float) -> BaseGeometry:
    """A feature clipped to the site's surroundings, valid, in the local metric frame."""
    clipped = clip_near(geom, ctx.site.footprint, degree_margin(margin_m + 200.0, ctx.lat))
    return shapely.make_valid(ctx.frame.to_local(clipped))


def _reaches_inside(ctx: Context, feature: BaseGeometry, acc: float) -> bool:
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
    local = _local_feature(ctx, feature, acc)
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
        borderline = acc > 0 and not any(_reaches_inside(ctx, lay.geoms[i], acc)
                                         for i, _ in areas)
        return Outcome(True, borderline, lay, best, len(areas), measure)
    near = (ctx.candidates(lay, site_ll, flt, acc) if acc
            else np.empty(0, dtype=int))
    best_d, best_i = None, None
    for i in near:
        d, _, _ = nearest_distance(ctx.frame, ctx.site_local,
                                   clip_near(lay.geoms[i], site_ll, degree_margin(acc + 200, ctx.lat)))
        if d <= acc and (best_d is None or d < best_d):
            best_d, best_i = d, int(i)
    if best_d is not None:
        measure["distance_m"] = round(best_d, 1)
        return Outcome(False, True, lay, best_i, 0, measure)
    return Outcome(False, False, lay, None, 0, measure)


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
        return Outcome(False, False, lay, None, 0, dict(_derived("quiet", where, lambda w: (
            _overlap_measure(0.0, 0.0, w.min_overlap_m2 or 0.0, w.min_overlap_share or 0.0)))))


@register
class WithinDistance(Predicate):
    """The nearest matching feature is at most ``distance_m`` from the site."""

    name = "within_distance"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Nearest-feature distance, geodesic between the nearest points.

        On a centreline layer the law's distance is from the bank: a feature's stated
        half-width is subtracted (floor 0) and the borderline band is the accuracy around
        that bank distance; a centreline without a width may have its bank up to
        ``ASSUMED_MAX_HALF_WIDTH_M`` nearer, so the band reaches that much farther out.
        """
        assert where.layer is not None and where.distance_m is not None
        lay = ctx.layer(where.layer)
        threshold = where.distance_m
        acc = lay.accuracy_m + ctx.site.accuracy_m
        reach = distance_reach(where, lay, ctx.site.accuracy_m)
        site_ll = ctx.site.footprint
        idx = ctx.candidates(lay, site_ll, where.filter, reach)
        if not len(idx):
            return _beyond(lay, where, reach)
        # per feature: (bank distance or its upper bound, lower bound, centreline, half-width)
        dists: list[tuple[float, float, int, float, float | None]] = []
        for i in idx:
            part = clip_near(lay.geoms[i], site_ll, degree_margin(reach + 200, ctx.lat))
            if part.is_empty:
                continue
            d_c = nearest_distance(ctx.frame, ctx.site_local, part)[0]
            hw = lay.half_width_m(int(i))
            if hw is None:  # bank somewhere between the centreline distance and W nearer
                dists.append((d_c, max(d_c - ASSUMED_MAX_HALF_WIDTH_M, 0.0), int(i), d_c, None))
            else:
                d_b = max(d_c - hw, 0.0)
                dists.append((d_b, d_b, int(i), d_c, hw))
        if not dists:
            return _beyond(lay, where, reach)
        best_d, _, best_i, best_c, best_hw = min(dists)
        low = min(d[1] for d in dists)
        measure: dict[str, Any] = {"threshold_m": threshold}
        measure["distance_m"] = round(float(best_d), 1)
        if lay.centrelines and lay.geoms[best_i].geom_type.endswith("LineString"):
            measure["distance_to_centreline_m"] = round(float(best_c), 1)
            measure["half_width_m"] = best_hw
            if best_hw is None:
                measure["bank_distance_min_m"] = round(float(low), 1)
                measure["assumed_max_half_width_m"] = ASSUMED_MAX_HALF_WIDTH_M
        fired = bool(best_d <= threshold)
        # per feature: may it be within the threshold, is it certainly? (a centreline reach may
        # state its own, smaller accuracy_m: _feature_accuracy)
        accs = [_feature_accuracy(lay, d[2], acc, ctx.site.accuracy_m) for d in dists]
        maybe = [a for d, a in zip(dists, accs, strict=True) if (a > 0 and d[1] - a <= threshold)
                 or d[1] <= threshold]
        surely = any((d[0] + a < threshold) if a > 0 else (d[0] <= threshold)
                     for d, a in zip(dists, accs, strict=True))
        borderline = bool(maybe) and not surely
        if borderline:
            measure["uncertainty_m"] = max(maybe)
        hits = sum(1 for d in dists if d[0] <= threshold)
        return Outcome(fired, borderline, lay, best_i, hits, measure)

    def quiet_reach(self, where: Where, lay: IndexedLayer, site_accuracy_m: float
                    ) -> float | None:
        """No feature within the distance plus the positional accuracy (computed as evaluate
        computes it, to the last bit)."""
        return distance_reach(where, lay, site_accuracy_m)

    def quiet_outcome(self, where: Where, lay: IndexedLayer, reach: float) -> Outcome:
        """Nothing within reach: not fired, no distance."""
        return _beyond(lay, where, reach)


def _feature_accuracy(lay: IndexedLayer, i: int, acc: float, site_accuracy_m: float) -> float:
    """Positional accuracy for feature ``i`` of a centreline layer (rivers): the feature's own
    ``accuracy_m`` where it states one smaller than the layer's (a measured reach), plus the
    site's; otherwise ``acc`` (layer plus site). Never larger than the layer's, so the reach
    of the search (distance_reach) stays valid."""
    if not lay.centrelines:
        return acc
    try:
        own = float(lay.attrs[i].get("accuracy_m"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return acc
    if own == own and 0 <= own < lay.accuracy_m:
        return own + site_accuracy_m
    return acc


def distance_reach(where: Where, lay: IndexedLayer, site_accuracy_m: float) -> float:
    """How far from the site a feature can decide a ``within_distance`` rule: the distance,
    the positional accuracy and, for centrelines, how much nearer the bank may lie. The one
    formula for evaluation, quiet answers and the batch's bulk questions (spatial.bulk)."""
    assert where.distance_m is not None
    reach = where.distance_m + (lay.accuracy_m + site_accuracy_m)
    return reach + lay.bank_slack_m if lay.bank_slack_m else reach


def _beyond(lay: IndexedLayer, where: Where, reach: float) -> Outcome:
    """``within_distance`` with no matching feature within ``reach`` metres."""
    return Outcome(False, False, lay, None, 0, {"threshold_m": where.distance_m,
                                                "distance_m": None, "note": f"> {reach:g} m"})


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
                borderline = not (ctx.deep_inside(lay.geoms[best_i], acc) or _local_feature(
                    ctx, lay.geoms[best_i], acc).buffer(-acc).covers(ctx.site_local))
            else:
                local = _local_feature(ctx, lay.geoms[best_i], acc)
                borderline = local.buffer(acc).covers(ctx.site_local)
        return Outcome(not inside, borderline, lay, best_i, 0 if inside else 1, measure)


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
                return Outcome(False, False, admin, None, 0, {"overlap_m2": 0.0})
        return overlap_outcome(ctx, admin, _adcode_filter(where), site_ll,
                               min_m2=1.0)


def _adcode_filter(where: Where) -> dict[str, Any]:
    """The district filter of an ``inside_district`` test, one long-lived dict per rule (the
    layer caches filter masks by object)."""
    flt: dict[str, Any] = _derived("adcodes", where, lambda w: {"adcode": list(w.adcodes or [])})
    return flt


@register
class Anywhere(Predicate):
    """Always fires: the rule depends on the project alone."""

    name = "anywhere"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Fire unconditionally."""
        return Outcome(True)


def _off_raster(raster: RasterLayer) -> Outcome:
    return Outcome(False, layer=raster, gap="栅格未覆盖场址")


_OPS = {"eq": np.equal, "ne": np.not_equal, "gt": np.greater, "ge": np.greater_equal,
        "lt": np.less, "le": np.less_equal}


@register
class RasterShare(Predicate):
    """The share of the site (optionally of its part inside ``layer``) on raster cells that
    meet ``condition`` reaches ``min_share``; weighted by true cell area (see spatial.zonal)."""

    name = "raster_share"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Zonal share with exact partial-cell weighting; nodata can never produce a pass."""
        assert where.raster is not None and where.condition is not None
        raster = ctx.layers.rasters.get(where.raster)
        if raster is None:
            raise MissingLayer(where.raster)
        site_ll = ctx.site.footprint
        if where.layer:
            lay = ctx.layer(where.layer)
            idx = ctx.candidates(lay, site_ll, where.filter)
            site_ll = (shapely.intersection(site_ll, shapely.union_all(lay.geoms[idx]))
                       if len(idx) else shapely.Polygon())
            if geodesic_area(site_ll) <= 0:
                return Outcome(False, layer=raster, measure={"share": 0.0, "area_m2": 0.0})
        cells = zonal_cells(raster.dataset, site_ll)
        min_share = where.min_share or 0.0
        if cells is None or cells.total_m2 <= 0:
            return _off_raster(raster)
        cond = where.condition
        values = cells.values
        mask = (np.isin(values, cond.value) if cond.op == "in"
                else _OPS[cond.op](values, cond.value))
        hit = cells.area_where(mask)
        # the share is of the whole site: parts beyond the raster's extent are unknown, like nodata
        site_m2 = ctx.site_area_m2 if site_ll is ctx.site.footprint else geodesic_area(site_ll)
        total = max(site_m2, cells.total_m2)
        unknown = cells.nodata_m2 + (total - cells.total_m2)
        share = hit / total
        nodata_share = unknown / total
        measure = {"share": round(share, 4), "area_m2": round(hit, 1), "min_share": min_share,
                   "cell_size_m": round(cells.cell_size_m, 1),
                   "nodata_share": round(nodata_share, 4),
                   "condition": f"{cond.op} {cond.value}"}
        fired = hit > 0 and share >= min_share
        out = Outcome(fired, layer=raster, measure=measure)
        if fired:
            out.thumbnail = thumbnail_png(raster.dataset, cells.window)
            out.thumbnail_bounds = window_bounds_ll(raster.dataset, cells.window)
        if not fired and nodata_share > 1e-6 and (hit + unknown) / total >= max(min_share, 1e-9):
            out.gap = f"场址有 {nodata_share:.1%} 位于栅格无数据区，无法排除"
        return out

    def quiet(self, ctx: Context, where: Where) -> Outcome | None:
        """A site beyond the raster's extent (and not first cut by a layer): not covered."""
        raster = ctx.layers.rasters.get(where.raster or "")
        if raster is None or where.layer or not misses(raster.dataset, ctx.site.footprint):
            return None
        return _off_raster(raster)
