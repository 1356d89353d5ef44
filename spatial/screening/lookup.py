"""What a screening asks the layer indexes about its site, behind one interface.

A predicate asks "which features of this layer lie within this reach of the site?" and "does
this layer's data cover the site?". ``SiteLookup`` answers one screening's questions as they
come and keeps the answers (many rules ask the same layer the same question). A batch asks
the same questions of a whole chunk at once beforehand (spatial.batch.bulk) and hands each screening
a ``PrefetchedLookup`` holding its answers, which also knows which rules have nothing near the
site, whether the dataset covers it and where the nearest search may begin. The screening
asks both the same way; the single path does not know a batch exists.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from shapely.geometry.base import BaseGeometry

from spatial.geodesy import farthest_lat, margin_deg, short_degree_m

if TYPE_CHECKING:
    from spatial.layers.layerset import IndexedLayer
    from spatial.ruleset import Where

#: (layer kind, reach in metres): an index question about the site's footprint
Question = tuple[str, float]


class SiteLookup:
    """Index answers about one footprint, asked lazily and kept."""

    def __init__(self, footprint: BaseGeometry):
        self.footprint = footprint
        self.answers: dict[Question, np.ndarray] = {}
        #: whether a layer's data covers the site (and a distance around it): (kind, metres)
        self.covered: dict[tuple[str, float | None], bool] = {}

    @cached_property
    def degree_m(self) -> float:
        """``short_degree_m`` of the footprint's latitude farthest from the equator."""
        return short_degree_m(farthest_lat(self.footprint))

    def hits(self, lay: IndexedLayer, reach_m: float) -> np.ndarray:
        """Sorted indices of the features of ``lay`` within ``reach_m`` of the footprint."""
        key = (lay.kind, float(reach_m))
        idx = self.answers.get(key)
        if idx is None:
            idx = self.answers[key] = lay.query(
                self.footprint, margin_deg(reach_m, self.degree_m) if reach_m > 0 else 0.0)
        return idx

    def known_quiet(self, where: Where) -> bool:
        """Whether the rule with this ``where`` is known to have no matching feature within its
        quiet reach (``Predicate.quiet_reach``); False: not known, ask."""
        return False

    def nearest_start(self, constraint: int) -> int | None:
        """The first radius (index into ``nearest.RADII_M``) the nearest search for constraint
        ``constraint`` needs to try; None: nothing matches within the last."""
        return 0

    def inside_coverage(self) -> bool | None:
        """Whether the dataset coverage holds the whole footprint (None: not known, test it)."""
        return None


class PrefetchedLookup(SiteLookup):
    """A site's answers found in bulk with the rest of its chunk (spatial.batch.bulk.prefetch): the
    same answers asking one by one gives; a question not asked in bulk is asked lazily."""

    def __init__(self, footprint: BaseGeometry):
        super().__init__(footprint)
        #: ``id`` of the ``where`` of each rule with no matching feature within its quiet reach
        self.quiet: set[int] = set()
        #: per ``nearest.CONSTRAINTS`` entry: the first radius index with a matching feature,
        #: or None for none within the last radius
        self.nearest_from: dict[int, int | None] = {}
        #: whether the dataset coverage (the admin districts) covers the whole site
        self.inside: bool | None = None

    def known_quiet(self, where: Where) -> bool:
        """Found quiet in bulk."""
        return id(where) in self.quiet

    def nearest_start(self, constraint: int) -> int | None:
        """As found in bulk (0 when the bulk search did not cover the constraint)."""
        return self.nearest_from.get(constraint, 0)

    def inside_coverage(self) -> bool | None:
        """As found in bulk."""
        return self.inside
