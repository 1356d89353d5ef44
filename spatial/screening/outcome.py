"""What a predicate answers for one rule at one site (``Outcome``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spatial.layers.layerset import IndexedLayer, RasterLayer


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
