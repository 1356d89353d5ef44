"""The raster predicate ``raster_share``: the share of the site on cells meeting a condition."""

from __future__ import annotations

import numpy as np
import shapely

from spatial.geodesy import geodesic_area
from spatial.layers.layerset import RasterLayer
from spatial.render.thumbnail import thumbnail_png, window_bounds_ll
from spatial.ruleset import Where
from spatial.screening.context import Context, MissingLayer
from spatial.screening.predicates.base import Outcome, Predicate, register
from spatial.screening.zonal import misses, zonal_cells


def _off_raster(raster: RasterLayer) -> Outcome:
    return Outcome(fired=False, layer=raster, gap="栅格未覆盖场址")


_OPS = {"eq": np.equal, "ne": np.not_equal, "gt": np.greater, "ge": np.greater_equal,
        "lt": np.less, "le": np.less_equal}


@register
class RasterShare(Predicate):
    """The share of the site (optionally of its part inside ``layer``) on raster cells that
    meet ``condition`` reaches ``min_share``; weighted by true cell area (see spatial.screening.zonal)."""

    name = "raster_share"

    def evaluate(self, ctx: Context, where: Where) -> Outcome:
        """Zonal share with exact partial-cell weighting; nodata can never produce a pass."""
        assert where.raster is not None and where.condition is not None
        raster = ctx.layers.rasters.get(where.raster)
        if raster is None:
            raise MissingLayer(where.raster)
        site_ll = ctx.site.footprint
        if where.layer:
            lay = ctx.layer(where.layer)
            idx = ctx.candidates(lay, site_ll, where.filter)
            site_ll = (shapely.intersection(site_ll, shapely.union_all(lay.geoms[idx]))
                       if len(idx) else shapely.Polygon())
            if geodesic_area(site_ll) <= 0:
                return Outcome(fired=False, layer=raster, measure={"share": 0.0, "area_m2": 0.0})
        cells = zonal_cells(raster.dataset, site_ll)
        min_share = where.min_share or 0.0
        if cells is None or cells.total_m2 <= 0:
            return _off_raster(raster)
        cond = where.condition
        values = cells.values
        mask = (np.isin(values, cond.value) if cond.op == "in"
                else _OPS[cond.op](values, cond.value))
        hit = cells.area_where(mask)
        # the share is of the whole site: parts beyond the raster's extent are unknown, like nodata
        site_m2 = ctx.site_area_m2 if site_ll is ctx.site.footprint else geodesic_area(site_ll)
        total = max(site_m2, cells.total_m2)
        unknown = cells.nodata_m2 + (total - cells.total_m2)
        share = hit / total
        nodata_share = unknown / total
        measure = {"share": round(share, 4), "area_m2": round(hit, 1), "min_share": min_share,
                   "cell_size_m": round(cells.cell_size_m, 1),
                   "nodata_share": round(nodata_share, 4),
                   "condition": f"{cond.op} {cond.value}"}
        fired = hit > 0 and share >= min_share
        out = Outcome(fired=fired, layer=raster, measure=measure)
        if fired:
            out.thumbnail = thumbnail_png(raster.dataset, cells.window)
            out.thumbnail_bounds = window_bounds_ll(raster.dataset, cells.window)
        if not fired and nodata_share > 1e-6 and (hit + unknown) / total >= max(min_share, 1e-9):
            out.gap = f"场址有 {nodata_share:.1%} 位于栅格无数据区，无法排除"
        return out

    def quiet(self, ctx: Context, where: Where) -> Outcome | None:
        """A site beyond the raster's extent (and not first cut by a layer): not covered."""
        raster = ctx.layers.rasters.get(where.raster or "")
        if raster is None or where.layer or not misses(raster.dataset, ctx.site.footprint):
            return None
        return _off_raster(raster)
