"""Bulk index queries for a batch: one STRtree query per (layer, reach) for many sites at once.

A single screening asks each layer's index once per distinct reach (0 m for overlaps, the rule
distance plus accuracies for ``within_distance``, the accuracy for near misses, the nearest
block's widening radii). Each predicate declares its questions (``Predicate.queries``); for a
batch the questions of all rules are asked for all sites in one vectorised ``STRtree.query``
with a per-site distance, and the answers reach each screening as its ``PrefetchedLookup``
(spatial.screening.lookup). The per-site reach in degrees is ``geodesy.margin_deg``, the
formula the single screening uses, so the candidate sets — and therefore the results — are
identical. A question missing from the plan is simply asked later by the screening itself.

From the same answers, array operations over the whole chunk find which rules have nothing near
each site (answered without evaluating them), the nearest block's first radius with a match
(``nearest.first_radii``), and one ``covers`` call per layer tells which layers' data cover
each site.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from spatial.geodesy import margin_deg
from spatial.layers.layerset import LayerSet
from spatial.ruleset import Rule, Where
from spatial.screening.lookup import PrefetchedLookup, Question
from spatial.screening.nearest import Matched, first_radii
from spatial.screening.predicates import REGISTRY
from spatial.sites.site import Site

#: what a screening asks besides its rules: the districts (scope, ``site.districts``) and the
#: control units (spatial.screening.unitlists), both by overlap
SCREENING_QUESTIONS: tuple[Question, ...] = (("admin_district", 0.0), ("control_unit", 0.0))


def plan(rules: Sequence[Rule], layers: LayerSet, site_accuracy_m: float) -> set[Question]:
    """The (layer kind, reach in metres) questions screening with ``rules`` asks about a
    site's footprint: the screening's own and those each rule's predicate declares."""
    out = {q for q in SCREENING_QUESTIONS if q[0] in layers.layers}
    for rule in rules:
        out |= REGISTRY[rule.where.predicate].queries(rule.where, layers, site_accuracy_m)
    return out


def prefetch(sites: Sequence[Site | None], rules: Sequence[Rule], layers: LayerSet
             ) -> list[PrefetchedLookup | None]:
    """Each site's index answers, quiet rules, layer coverage and nearest starting radii (None
    for a missing site), one bulk query per question."""
    out = [PrefetchedLookup(s.footprint) if s is not None else None for s in sites]
    by_accuracy: dict[float, list[int]] = defaultdict(list)
    for i, site in enumerate(sites):
        if site is not None:
            by_accuracy[site.accuracy_m].append(i)
    for accuracy, members in by_accuracy.items():
        looks = [out[i] for i in members]
        group = _Group([lk for lk in looks if lk is not None])
        everyone = np.arange(len(members))
        for kind, reach in sorted(plan(rules, layers, accuracy)):
            group.ask(layers, kind, reach, everyone)
        for c, radii in first_radii(len(members), layers, group.matched_asking(layers)).items():
            for look, r in zip(group.looks, radii, strict=True):
                look.nearest_from[c] = r
        for where, nothing in _quiet_rules(group, rules, layers, accuracy):
            for j in np.flatnonzero(nothing).tolist():
                group.looks[j].quiet.add(id(where))
    known = [lk for lk in out if lk is not None]
    feet = np.array([lk.footprint for lk in known], dtype=object)

    def covers(coverage: Any) -> list[tuple[PrefetchedLookup, bool]]:
        return list(zip(known, shapely.covers(coverage, feet).tolist(), strict=True))

    for kind, lay in layers.every.items():
        if lay.coverage is not None and known:
            for look, ok in covers(lay.coverage):
                look.covered[(kind, None)] = ok
    if layers.coverage is not None and known:
        for look, ok in covers(layers.coverage):
            look.inside = ok
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
    """Sites of one positional accuracy: their lookups (filled in place)."""

    def __init__(self, looks: list[PrefetchedLookup]):
        self.looks = looks
        self.feet = np.empty(len(looks), dtype=object)
        self.feet[:] = [lk.footprint for lk in looks]
        #: per site: ``short_degree_m`` of its latitude (what its own lookup uses)
        self.degree_m = np.array([lk.degree_m for lk in looks])
        #: (kind, reach) → (site position, feature) pairs of the last ask
        self.pairs: dict[Question, tuple[np.ndarray, np.ndarray]] = {}

    def ask(self, layers: LayerSet, kind: str, reach: float, which: np.ndarray) -> None:
        """Answer (kind, reach) for the sites at positions ``which``."""
        margin = margin_deg(reach, self.degree_m[which]) if reach > 0 else np.zeros(len(which))
        pairs = layers.layers[kind].query_many(self.feet[which], margin)
        order = np.lexsort((pairs[1], pairs[0]))  # by site, then feature: sorted per site
        src, hit = pairs[0][order], pairs[1][order]
        self.pairs[(kind, reach)] = (which[src], hit)
        bounds = np.searchsorted(src, np.arange(len(which) + 1))
        for j, pos in enumerate(which):
            self.looks[pos].answers[(kind, reach)] = hit[bounds[j]:bounds[j + 1]]

    def matched(self, kind: str, reach: float, mask: np.ndarray) -> np.ndarray:
        """Per site: whether a feature matching ``mask`` is among its (kind, reach) hits
        (False for sites that question was not asked about)."""
        pos, hit = self.pairs[(kind, reach)]
        has = np.zeros(len(self.feet), dtype=bool)
        has[pos[mask[hit]]] = True
        return has

    def matched_asking(self, layers: LayerSet) -> Matched:
        """``matched`` that first asks the sites ``waiting`` a question not asked of everyone
        (the nearest search's widening radii: ``nearest.Matched``)."""
        def matched(kind: str, radius: float, mask: np.ndarray, waiting: np.ndarray
                    ) -> np.ndarray:
            if (kind, radius) not in self.pairs:
                self.ask(layers, kind, radius, waiting)
            return self.matched(kind, radius, mask)
        return matched
