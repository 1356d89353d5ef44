"""Bulk index queries for a batch: one STRtree query per (layer, reach) for many sites at once.

A single screening asks each layer's index once per distinct reach (0 m for overlaps, the rule
distance plus accuracies for ``within_distance``, the accuracy for near misses, 10 km for the
``nearest`` block). For a batch the same questions are asked for all sites in one vectorised
``STRtree.query`` with a per-site distance, and the answers are handed to each screening
(``engine.screen(..., known=...)``). The per-site reach in degrees is computed exactly as the
single screening computes it, so the candidate sets — and therefore the results — are identical.
A question missing from the plan is simply asked later by the screening itself.

From the same answers, array operations over the whole chunk find which rules have nothing near
each site (answered without evaluating them), and one ``covers`` call per layer tells which
layers' data cover each site.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from spatial.geodesy import farthest_lat, short_degree_m
from spatial.layerset import LayerSet
from spatial.nearest import CONSTRAINTS, RADII_M
from spatial.predicates import REGISTRY, distance_reach
from spatial.ruleset import Rule, Where
from spatial.site import Site

Hits = dict[tuple[str, float], np.ndarray]


@dataclass
class Prefetched:
    """What a batch learns about one site before screening it."""

    #: index hits per (layer kind, reach in metres)
    hits: Hits = field(default_factory=dict)
    #: ``id`` of the ``where`` of each rule with no matching feature within its quiet reach
    #: (``Predicate.quiet_reach``): those rules are answered without being evaluated
    quiet: set[int] = field(default_factory=set)
    #: whether each layer with a coverage covers the site: (kind, None) → bool, as
    #: ``Context.covered`` keeps it
    covered: dict[tuple[str, float | None], bool] = field(default_factory=dict)
    #: whether the dataset coverage (the admin districts) covers the whole site
    inside: bool | None = None
    #: per ``nearest.CONSTRAINTS`` entry: the first radius index with a matching feature, or
    #: None for none within the last radius (``Context.nearest_from``)
    nearest_from: dict[int, int | None] = field(default_factory=dict)


def plan(rules: Sequence[Rule], layers: LayerSet, site_accuracy_m: float
         ) -> set[tuple[str, float]]:
    """The (layer kind, reach in metres) questions screening with ``rules`` asks about a
    site's footprint."""
    # the districts are always asked about, when there are any (a refused file leaves none)
    out: set[tuple[str, float]] = {("admin_district", 0.0)} if "admin_district" in layers.layers \
        else set()
    for rule in rules:
        w = rule.where
        admin = "admin_district" if w.predicate == "inside_district" else None
        for kind in (w.layer, w.minus.layer if w.minus else None, admin):
            lay = layers.layers.get(kind) if kind else None
            if kind is None or lay is None:
                continue
            acc = lay.accuracy_m + site_accuracy_m
            out.add((kind, 0.0))
            if w.predicate == "within_distance" and w.distance_m is not None and kind == w.layer:
                out.add((kind, float(distance_reach(w, lay, site_accuracy_m))))
            elif acc > 0:
                out.add((kind, float(acc)))
    return out


def prefetch(sites: Sequence[Site | None], rules: Sequence[Rule], layers: LayerSet
             ) -> list[Prefetched]:
    """Index hits, quiet rules and layer coverage per site (empty for a missing site), one
    bulk query per question.

    The ``nearest`` block's widening search is followed for each site: a radius is asked only
    for the sites that had no matching feature within the previous one.
    """
    out = [Prefetched() for _ in sites]
    by_accuracy: dict[float, list[int]] = defaultdict(list)
    for i, site in enumerate(sites):
        if site is not None:
            by_accuracy[site.accuracy_m].append(i)
    for accuracy, members in by_accuracy.items():
        group = _Group([out[i].hits for i in members],
                       [s.footprint for s in (sites[i] for i in members) if s is not None])
        everyone = np.arange(len(members))
        for kind, reach in sorted(plan(rules, layers, accuracy)):
            group.ask(layers, kind, reach, everyone)
        for kind in sorted({k for _, k, _ in CONSTRAINTS if k in layers.layers}):
            which = [c for c, (_, k, _) in enumerate(CONSTRAINTS) if k == kind]
            masks = [layers.layers[kind].mask(CONSTRAINTS[c][2]) for c in which]
            first = np.full((len(which), len(members)), -1)  # radius index of the first match
            waiting = everyone
            for r, radius in enumerate(RADII_M):
                if r > 0:  # still searching: no matching feature within the previous radius
                    waiting = waiting[(first[:, waiting] < 0).any(axis=0)]
                if not len(waiting):
                    break
                if (kind, radius) not in group.pairs:  # not asked of everyone by the plan
                    group.ask(layers, kind, radius, waiting)
                for row, m in zip(first, masks, strict=True):
                    now = np.zeros(len(members), dtype=bool)
                    now[waiting] = group.matched(kind, radius, m)[waiting]
                    row[now & (row < 0)] = r
            for c, radii in zip(which, first.tolist(), strict=True):
                for j, r in enumerate(radii):
                    out[members[j]].nearest_from[c] = r if r >= 0 else None
        quiet = [out[i].quiet for i in members]
        for where, nothing in _quiet_rules(group, rules, layers, accuracy):
            for j in np.flatnonzero(nothing).tolist():
                quiet[j].add(id(where))
    known = [i for i, s in enumerate(sites) if s is not None]
    feet = np.array([s.footprint for s in sites if s is not None], dtype=object)

    def covers(coverage: Any) -> list[tuple[int, bool]]:  # (site index, whether covered)
        return list(zip(known, shapely.covers(coverage, feet).tolist(), strict=True))

    for kind, lay in layers.every.items():
        if lay.coverage is not None and known:
            for i, ok in covers(lay.coverage):
                out[i].covered[(kind, None)] = ok
    if layers.coverage is not None and known:
        for i, ok in covers(layers.coverage):
            out[i].inside = ok
    return out


def _quiet_rules(group: _Group, rules: Sequence[Rule], layers: LayerSet, accuracy: float
                 ) -> list[tuple[Where, np.ndarray]]:
    """For each rule with a quiet reach whose question the plan asked: per site of the group,
    whether no feature matching the rule's filter lies within that reach."""
    out = []
    seen: dict[tuple[str, int, float], np.ndarray] = {}
    for rule in rules:
        w = rule.where
        lay = layers.layers.get(w.layer) if w.layer else None
        reach = (REGISTRY[w.predicate].quiet_reach(w, lay, accuracy) if lay is not None
                 else None)
        if lay is None or reach is None or (lay.kind, float(reach)) not in group.pairs:
            continue
        key = (lay.kind, id(w.filter), float(reach))
        nothing = seen.get(key)
        if nothing is None:
            nothing = seen[key] = ~group.matched(lay.kind, float(reach), lay.mask(w.filter))
        out.append((w, nothing))
    return out


class _Group:
    """Sites of one positional accuracy: their footprints and their hits (filled in place)."""

    def __init__(self, hits: list[Hits], footprints: list[Any]):
        self.hits = hits
        self.feet = np.empty(len(footprints), dtype=object)
        self.feet[:] = footprints
        #: per site: ``degree_margin(reach, lat)`` is ``reach / short_degree_m(lat) * 1.01``,
        #: computed below for all sites at once with the same operations in the same order
        self.degree_m = np.array([short_degree_m(farthest_lat(f)) for f in footprints])

        #: (kind, reach) → (site position, feature) pairs of the last ask
        self.pairs: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}

    def ask(self, layers: LayerSet, kind: str, reach: float, which: np.ndarray) -> None:
        """Answer (kind, reach) for the sites at positions ``which``."""
        margin = reach / self.degree_m[which] * 1.01 if reach > 0 else np.zeros(len(which))
        pairs = layers.layers[kind].query_many(self.feet[which], margin)
        order = np.lexsort((pairs[1], pairs[0]))  # by site, then feature: sorted per site
        src, hit = pairs[0][order], pairs[1][order]
        self.pairs[(kind, reach)] = (which[src], hit)
        bounds = np.searchsorted(src, np.arange(len(which) + 1))
        for j, pos in enumerate(which):
            self.hits[pos][(kind, reach)] = hit[bounds[j]:bounds[j + 1]]

    def matched(self, kind: str, reach: float, mask: np.ndarray) -> np.ndarray:
        """Per site: whether a feature matching ``mask`` is among its (kind, reach) hits
        (False for sites that question was not asked about)."""
        pos, hit = self.pairs[(kind, reach)]
        has = np.zeros(len(self.feet), dtype=bool)
        has[pos[mask[hit]]] = True
        return has
