"""The predicate interface, its registry and the memoised entry points.

Every predicate answers for one rule's ``where``: did it fire, is the decision within the
positional uncertainty of the data (``borderline``), which feature decided it, and the
measure in metres (distance) or square metres (overlap), computed on the ellipsoid. Each
also declares the index questions it asks (``queries``, which a batch asks in bulk first) and,
where it has one, the reach within which nothing matching means a known outcome
(``quiet_reach``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from spatial.identity import IdentityCache
from spatial.layers.layerset import IndexedLayer, LayerSet
from spatial.predicate_specs import SPECS, PredicateSpec
from spatial.ruleset import Where
from spatial.screening.context import Context
from spatial.screening.lookup import Question
from spatial.screening.outcome import Outcome


class Predicate:
    """Base class: ``evaluate`` one rule's ``where`` in a screening context."""

    name: ClassVar[str]
    #: its parameters (spatial.predicate_specs), set by ``register``
    spec: ClassVar[PredicateSpec]

    def evaluate(self, ctx: Context, where: Where) -> Outcome:  # pragma: no cover - abstract
        """Evaluate the predicate."""
        raise NotImplementedError

    def queries(self, where: Where, layers: LayerSet, site_accuracy_m: float) -> set[Question]:
        """The (layer kind, reach in metres) questions ``evaluate`` asks about a site's
        footprint: by default, the rule's layer at 0 m (overlap) and at the positional accuracy
        (a near miss is borderline)."""
        return overlap_questions(where.layer, layers, site_accuracy_m)

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


def overlap_questions(kind: str | None, layers: LayerSet, site_accuracy_m: float
                      ) -> set[Question]:
    """A layer's questions for an overlap test: at 0 m, and at the positional accuracy."""
    lay = layers.layers.get(kind) if kind else None
    if lay is None:
        return set()
    acc = lay.accuracy_m + site_accuracy_m
    return {(lay.kind, 0.0), (lay.kind, float(acc))} if acc > 0 else {(lay.kind, 0.0)}


REGISTRY: dict[str, Predicate] = {}


def register(cls: type[Predicate]) -> type[Predicate]:
    """Class decorator adding a predicate to the registry under its ``name``, with the
    parameters its spec declares."""
    cls.spec = SPECS[cls.name]
    REGISTRY[cls.name] = cls()
    return cls


_DERIVED: IdentityCache[Any] = IdentityCache(100_000)


def derived(name: str, where: Where, make: Callable[[Where], Any]) -> Any:
    """``make(where)`` computed once per rule's ``where`` object (rules live as long as their
    rule set)."""
    hit = _DERIVED.get(where, name)
    return hit[0] if hit is not None else _DERIVED.put(where, make(where), name)


def memo_key(where: Where) -> str:
    """The spatial test of a ``where`` as a string (districts excluded), computed once."""
    return str(derived("memo", where, lambda w: json.dumps(
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
