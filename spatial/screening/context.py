"""Per-screening state shared by all predicates: the site in lon/lat and in its local metric
frame, the layers, the index lookup (spatial.screening.lookup) and per-screening memos."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import LocalFrame, degree_margin, farthest_lat, local_frame
from spatial.layers.layerset import IndexedLayer, LayerSet
from spatial.screening.lookup import SiteLookup
from spatial.screening.outcome import Outcome
from spatial.sites.site import Site

#: at most this many of a site's vertices are tried as witnesses (``witness_xy``): each is
#: measured against a feature's edge, so a 100 000-vertex corridor must not try them all
WITNESS_VERTICES = 64

#: features are measured on their part within the distance that matters plus this much of
#: the site's bounding box (``clip_near``): the clip must not cut the nearest point off
CLIP_SLACK_M = 200.0


class MissingLayer(Exception):
    """A layer kind the predicate needs has no active version."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class Context:
    """One screening's site, layers, lookup and memos."""

    site: Site
    layers: LayerSet
    frame: LocalFrame
    site_local: BaseGeometry
    site_area_m2: float
    lookup: SiteLookup
    #: predicate outcomes by ``memo_key`` of the ``where`` (many rules share a spatial test)
    memo: dict[str, Outcome] = field(default_factory=dict)
    #: contexts for parts of the site (in some districts, outside a zone), by scope
    scopes: dict[str, Context] = field(default_factory=dict)
    grown: dict[float, BaseGeometry] = field(default_factory=dict)

    @classmethod
    def create(cls, site: Site, layers: LayerSet, lookup: SiteLookup | None = None) -> Context:
        """Project the site once into its local metric frame; ``lookup`` answers index
        questions about its footprint (default: a lazy one)."""
        frame = local_frame(site.footprint)
        return cls(site, layers, frame, frame.to_local(site.footprint), site.area_m2,
                   lookup if lookup is not None else SiteLookup(site.footprint))

    @property
    def covered(self) -> dict[tuple[str, float | None], bool]:
        """Whether a layer's data covers the site (and a distance around it), as found."""
        return self.lookup.covered

    def candidates(self, lay: IndexedLayer, geom: BaseGeometry, flt: dict[str, Any],
                   reach_m: float = 0.0) -> np.ndarray:
        """Indices of filtered features of ``lay`` within ``reach_m`` of ``geom`` (sorted);
        questions about the site's footprint itself go to the lookup."""
        if geom is not self.site.footprint:
            return lay.candidates(geom, flt, within_deg=degree_margin(reach_m, self.lat)
                                  if reach_m > 0 else 0.0)
        idx = self.lookup.hits(lay, reach_m)
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


def clip_near(geom: Any, site_ll: BaseGeometry, margin_deg: float) -> Any:
    """The part of ``geom`` (a geometry, or an array of them) within ``margin_deg`` of the
    site's bounding box (fast, for measures)."""
    minx, miny, maxx, maxy = site_ll.bounds
    return shapely.clip_by_rect(geom, minx - margin_deg, miny - margin_deg,
                                maxx + margin_deg, maxy + margin_deg)


def clip_for(ctx: Context, geom: Any, within_m: float) -> Any:
    """``clip_near`` for measuring up to ``within_m`` metres from the site (plus the slack)."""
    return clip_near(geom, ctx.site.footprint, degree_margin(within_m + CLIP_SLACK_M, ctx.lat))


def local_feature(ctx: Context, geom: BaseGeometry, margin_m: float) -> BaseGeometry:
    """A feature clipped to the site's surroundings, valid, in the local metric frame."""
    return shapely.make_valid(ctx.frame.to_local(clip_for(ctx, geom, margin_m)))
