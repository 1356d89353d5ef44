"""Bulk index queries for a batch: one STRtree query per (layer, reach) for many sites at once.

A single screening asks each layer's index once per distinct reach (0 m for overlaps, the rule
distance plus accuracies for ``within_distance``, the accuracy for near misses, 10 km for the
``nearest`` block). For a batch the same questions are asked for all sites in one vectorised
``STRtree.query`` with a per-site distance, and the answers are handed to each screening
(``engine.screen(..., hits=...)``). The per-site reach in degrees is computed exactly as the
single screening computes it, so the candidate sets — and therefore the results — are identical.
A question missing from the plan is simply asked later by the screening itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from spatial.geodesy import degree_margin, farthest_lat
from spatial.layerset import LayerSet
from spatial.nearest import CONSTRAINTS, RADII_M
from spatial.ruleset import RuleSet
from spatial.site import Site

Hits = dict[tuple[str, float], np.ndarray]


def plan(ruleset: RuleSet, layers: LayerSet, site_accuracy_m: float) -> set[tuple[str, float]]:
    """The (layer kind, reach in metres) questions a screening will ask about its footprint."""
    out: set[tuple[str, float]] = {("admin_district", 0.0)}
    for rule in ruleset.rules:
        w = rule.where
        admin = "admin_district" if w.predicate == "inside_district" else None
        for kind in (w.layer, w.minus.layer if w.minus else None, admin):
            lay = layers.layers.get(kind) if kind else None
            if kind is None or lay is None:
                continue
            acc = lay.accuracy_m + site_accuracy_m
            out.add((kind, 0.0))
            if w.predicate == "within_distance" and w.distance_m is not None and kind == w.layer:
                out.add((kind, float(w.distance_m + acc)))
            elif acc > 0:
                out.add((kind, float(acc)))
    return out


def prefetch(sites: Sequence[Site | None], ruleset: RuleSet, layers: LayerSet) -> list[Hits]:
    """Index hits per site (``{}`` for a missing site), one bulk query per question.

    The ``nearest`` block's widening search is followed site by site: a radius is asked only
    for the sites whose matching features were all beyond the previous one.
    """
    out: list[Hits] = [{} for _ in sites]
    by_accuracy: dict[float, list[int]] = defaultdict(list)
    for i, site in enumerate(sites):
        if site is not None:
            by_accuracy[site.accuracy_m].append(i)
    for accuracy, members in by_accuracy.items():
        group = _Group([out[i] for i in members],
                       [s.footprint for s in (sites[i] for i in members) if s is not None])
        everyone = np.arange(len(members))
        for kind, reach in sorted(plan(ruleset, layers, accuracy)):
            group.ask(layers, kind, reach, everyone)
        for kind in sorted({k for _, k, _ in CONSTRAINTS if k in layers.layers}):
            masks = [layers.layers[kind].mask(flt) for _, k, flt in CONSTRAINTS if k == kind]
            waiting = everyone
            for r, radius in enumerate(RADII_M):
                if r > 0:  # still searching: no matching feature within the previous radius
                    waiting = np.array([p for p in waiting if any(
                        not m[group.hits[p][(kind, RADII_M[r - 1])]].any() for m in masks)],
                        dtype=int)
                if not len(waiting):
                    break
                if any((kind, radius) not in group.hits[p] for p in waiting):
                    group.ask(layers, kind, radius, waiting)
    return out


class _Group:
    """Sites of one positional accuracy: their footprints and their hits (filled in place)."""

    def __init__(self, hits: list[Hits], footprints: list[Any]):
        self.hits = hits
        self.feet = np.empty(len(footprints), dtype=object)
        self.feet[:] = footprints
        self.lats = np.array([farthest_lat(f) for f in footprints])

    def ask(self, layers: LayerSet, kind: str, reach: float, which: np.ndarray) -> None:
        """Answer (kind, reach) for the sites at positions ``which``."""
        margin = (np.array([degree_margin(reach, lat) for lat in self.lats[which]]) if reach > 0
                  else np.zeros(len(which)))
        pairs = layers.layers[kind].query_many(self.feet[which], margin)
        order = np.lexsort((pairs[1], pairs[0]))  # by site, then feature: sorted per site
        src, hit = pairs[0][order], pairs[1][order]
        bounds = np.searchsorted(src, np.arange(len(which) + 1))
        for j, pos in enumerate(which):
            self.hits[pos][(kind, reach)] = hit[bounds[j]:bounds[j + 1]]
