"""The spatial predicates of the rule language, one small class each, in a registry
(``REGISTRY``); importing this package registers them all."""

from spatial.screening.predicates import distance, overlap, raster
from spatial.screening.predicates.base import REGISTRY, Outcome, Predicate, evaluate, quiet

__all__ = ["REGISTRY", "Outcome", "Predicate", "distance", "evaluate", "overlap", "quiet",
           "raster"]
