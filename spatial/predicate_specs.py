"""The predicates of the rule language: their names and the ``where`` parameters each needs and
takes. The rule model (spatial.ruleset) checks rules against this table, and each predicate
class (spatial.screening.predicates) is registered under one of these names, so a predicate's
parameters are declared once, here, without geometry code (which the rule model must not need).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

PredicateName = Literal["intersects", "within_distance", "outside", "inside_district", "anywhere",
                        "raster_share"]

#: every predicate parameter of ``Where`` (``districts`` scopes any rule and is not one)
PARAMETERS = ("layer", "filter", "distance_m", "min_overlap_m2", "min_overlap_share", "adcodes",
              "minus", "raster", "condition", "min_share")


@dataclass(frozen=True)
class PredicateSpec:
    """A predicate's parameters: those it needs and those it may take besides."""

    name: PredicateName
    needs: frozenset[str]
    takes: frozenset[str] = frozenset()

    def problems(self, given: set[str]) -> list[str]:
        """Why parameters ``given`` (those set) do not fit the predicate (empty: they do)."""
        out = [f"predicate {self.name} needs `{p}`" for p in sorted(self.needs - given)]
        out += [f"predicate {self.name} takes no `{p}`"
                for p in sorted(given - self.needs - self.takes)]
        return out


SPECS: dict[str, PredicateSpec] = {s.name: s for s in (
    PredicateSpec("intersects", frozenset({"layer"}),
                  frozenset({"filter", "min_overlap_m2", "min_overlap_share"})),
    PredicateSpec("within_distance", frozenset({"layer", "distance_m"}), frozenset({"filter"})),
    PredicateSpec("outside", frozenset({"layer"}), frozenset({"filter"})),
    PredicateSpec("inside_district", frozenset({"adcodes"}), frozenset({"minus"})),
    PredicateSpec("anywhere", frozenset()),
    PredicateSpec("raster_share", frozenset({"raster", "condition"}),
                  frozenset({"layer", "filter", "min_share"})),
)}
assert tuple(SPECS) == get_args(PredicateName)
