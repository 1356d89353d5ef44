"""The distance predicate ``within_distance``: the nearest matching feature within a distance
of the site, measured on the ellipsoid (to a river's bank where a centreline states its width)."""

from __future__ import annotations

from typing import Any

from spatial.geodesy import nearest_distance
from spatial.layers.layerset import ASSUMED_MAX_HALF_WIDTH_M, IndexedLayer, LayerSet
from spatial.ruleset import Where
from spatial.screening.context import Context, clip_for
from spatial.screening.lookup import Question
from spatial.screening.predicates.base import Outcome, Predicate, register


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
            part = clip_for(ctx, lay.geoms[i], reach)
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
        return Outcome(fired=fired, borderline=borderline, layer=lay, feature=best_i,
                       features_hit=hits, measure=measure)

    def queries(self, where: Where, layers: LayerSet, site_accuracy_m: float) -> set[Question]:
        """The layer at 0 m and out to ``distance_reach``."""
        lay = layers.layers.get(where.layer or "")
        if lay is None:
            return set()
        return {(lay.kind, 0.0), (lay.kind, float(distance_reach(where, lay, site_accuracy_m)))}

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
    formula for evaluation, quiet answers and the batch's bulk questions (``queries``)."""
    assert where.distance_m is not None
    reach = where.distance_m + (lay.accuracy_m + site_accuracy_m)
    return reach + lay.bank_slack_m if lay.bank_slack_m else reach


def _beyond(lay: IndexedLayer, where: Where, reach: float) -> Outcome:
    """``within_distance`` with no matching feature within ``reach`` metres."""
    return Outcome(fired=False, layer=lay, measure={"threshold_m": where.distance_m,
                                                    "distance_m": None, "note": f"> {reach:g} m"})
