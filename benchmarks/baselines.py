"""Baselines measured in the same run, interleaved site by site with the engine: the same
spatial questions answered the way a GIS team would otherwise answer them, every answer
checked against the engine's.

The questions are those our engine asks of the layers for one site (``spatial.batch.bulk.plan``:
every layer a rule uses, at every reach a rule needs), with no attribute filter:

- reach 0: the overlap area in m² of the site with the layer (the union of its parts in
  the features it meets; 0.0 when it meets only lines or edges; None when it meets nothing);
- reach r > 0: the distance in metres from the site to the nearest feature (None when none
  is within r).

The baselines answer only these questions — no rule logic, no verdict document — which
flatters them. Contenders (see docs/benchmarks.md for each method):

``engine_full``
    our whole screening (``ScreeningService.evaluate``: all rules, rasters, nearest block,
    verdict document); no answers, timed only.
``engine_questions``
    the questions answered with the engine's own primitives, as its predicates compose them
    (``Context.candidates``, ``geodesy.nearest_distance``, ``geodesy.geodesic_area``): the
    reference answers every baseline is checked against, and the engine's time for exactly
    the baselines' work.
``geopandas``
    a competent geopandas script (:class:`Geopandas`).
``geopandas_strawman``
    the naive ``gpd.sjoin`` version this suite used to compare against (:func:`strawman`);
    kept, labelled as a strawman, only to show what the old ratio measured.
``postgis_straightforward`` / ``postgis_expert``
    ``benchmarks/postgis.py``.

Agreement: distances within 1 m or 0.1 %; areas within 1 m² or 0.1 %; both None; or one None
and the other within 1 m of the reach (a feature at the edge of the reach).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod, Transformer

from benchmarks import postgis
from benchmarks.inprocess import percentiles
from benchmarks.postgis import Answers, Question
from spatial.batch.bulk import plan
from spatial.geodesy import degree_margin, geodesic_area, nearest_distance
from spatial.layers.layerset import LayerSet
from spatial.screening.context import Context, clip_near
from spatial.service import ScreeningRequest, ScreeningService

PROJECT = {"industry": "C2614", "nature": "new"}
LABELS = {
    "engine_full": "ours, full screening",
    "engine_questions": "ours, the same questions only",
    "geopandas": "geopandas, competent (layer sindex, vectorised shapely)",
    "geopandas_strawman": "geopandas, naive sjoin (strawman)",
    "postgis_straightforward": "PostGIS, straightforward",
    "postgis_expert": "PostGIS, expert",
}
#: contenders whose answers are checked (the full screening returns a verdict, not answers)
ANSWERING = [k for k in LABELS if k != "engine_full"]


def questions(service: ScreeningService) -> list[Question]:
    """The (layer, reach) questions one screening asks (site accuracy 0)."""
    return sorted(plan(service.ruleset.rules, service.layers(), 0.0))


# -- the engine's answers ---------------------------------------------------------------------

def engine_answers(service: ScreeningService, checks: list[Question], site_json: dict[str, Any]
                   ) -> Answers:
    """The questions answered with the engine's primitives, composed as ``overlap_outcome`` and
    ``WithinDistance`` compose them (no filter, no rule logic)."""
    site, _ = service.prepare(ScreeningRequest(site=site_json, project=PROJECT))
    layers = service.layers()
    ctx = Context.create(site, layers)
    fp = site.footprint
    out: Answers = {}
    for kind, reach in checks:
        lay = layers.layers[kind]
        idx = ctx.candidates(lay, fp, {}, reach)
        if reach == 0:
            parts, areas = [], []
            for i in idx:
                if shapely.contains_properly(lay.geoms[i], fp):
                    parts.append(fp)
                    areas.append(site.area_m2)
                else:
                    inter = shapely.intersection(fp, lay.geoms[i])
                    if not inter.is_empty:
                        parts.append(inter)
                        areas.append(geodesic_area(inter))
            out[(kind, reach)] = (None if not parts else areas[0] if len(parts) == 1
                                  else geodesic_area(shapely.union_all(parts)))
        else:
            margin = degree_margin(reach + 200, ctx.lat)
            best = min((nearest_distance(ctx.frame, ctx.site_local,
                                         clip_near(lay.geoms[i], fp, margin))[0]
                        for i in idx), default=None)
            out[(kind, reach)] = best if best is not None and best <= reach else None
    return out


# -- geopandas, competent ---------------------------------------------------------------------

_GEOD = Geod(ellps="WGS84")


class Geopandas:
    """A competent geopandas script: each layer read once into a GeoDataFrame, its geometries
    prepared and its ``sindex`` built once. Per site:

    - one ``sindex.query(site, predicate="dwithin", distance=…)`` per layer at the widest reach
      asked of that layer (degrees, a margin that is at least the reach on the ground), with
      the smaller reaches answered from the same candidates;
    - overlaps: vectorised ``shapely.intersection`` of the candidates that intersect the site
      (a candidate covering the site contributes the site itself), their union when there are
      several, area in a transverse Mercator frame centred on the site (scale error < 1e-8
      across a parcel);
    - distances: candidates clipped to the site's surroundings (``clip_by_rect``) *before*
      being projected into the same frame, then one vectorised ``shapely.distance``.
    """

    def __init__(self, service: ScreeningService, layers: LayerSet, checks: list[Question]):
        self.frames: dict[str, gpd.GeoDataFrame] = {}
        self.geoms: dict[str, np.ndarray] = {}
        self.reaches: dict[str, list[float]] = {}
        for kind, reach in checks:
            self.reaches.setdefault(kind, []).append(reach)
        for kind in self.reaches:
            frame = service.store.read(layers.layers[kind].version)
            _ = frame.sindex  # built once, as a long-running script keeps it
            geoms = frame.geometry.to_numpy()
            shapely.prepare(geoms)
            self.frames[kind], self.geoms[kind] = frame, geoms

    def __call__(self, site_json: dict[str, Any]) -> Answers:
        """The answers for one site (GeoJSON geometry)."""
        site = shapely.geometry.shape(site_json)
        shapely.prepare(site)
        minx, miny, maxx, maxy = site.bounds
        lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
        tm = (f"+proj=tmerc +lat_0={lat0} +lon_0={lon0} +k=1 +x_0=0 +y_0=0 +ellps=WGS84")
        fwd = Transformer.from_pipeline(
            f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {tm}")

        def local(g: Any) -> Any:
            return shapely.transform(g, lambda xy: np.column_stack(
                fwd.transform(xy[:, 0], xy[:, 1])))

        # metres in a degree of longitude at the site's latitude farthest from the equator
        short_deg_m = 111_320.0 * math.cos(math.radians(max(abs(miny), abs(maxy)) + 0.1))
        site_m = local(site)
        site_area = None
        out: Answers = {}
        for kind, reaches in self.reaches.items():
            frame, geoms = self.frames[kind], self.geoms[kind]
            widest = max(reaches)
            if widest > 0:
                idx = frame.sindex.query(site, predicate="dwithin",
                                         distance=widest / short_deg_m * 1.01)
            else:
                idx = frame.sindex.query(site, predicate="intersects")
            cand = geoms[idx]
            for reach in reaches:
                if reach == 0:
                    hit = cand[shapely.intersects(cand, site)] if widest > 0 else cand
                    covering = shapely.covers(hit, site)
                    parts = np.where(covering, site, shapely.intersection(hit, site))
                    parts = parts[~shapely.is_empty(parts)]
                    if not len(parts):
                        out[(kind, 0.0)] = None
                        continue
                    if len(parts) == 1 and covering.any():
                        if site_area is None:
                            site_area = float(shapely.area(site_m))
                        out[(kind, 0.0)] = site_area
                    else:
                        whole = parts[0] if len(parts) == 1 else shapely.union_all(parts)
                        out[(kind, 0.0)] = float(shapely.area(local(whole)))
                    continue
                margin = (reach + 200) / short_deg_m * 1.01
                near = shapely.clip_by_rect(cand, minx - margin, miny - margin, maxx + margin,
                                            maxy + margin)
                near = near[~shapely.is_empty(near)]
                if not len(near):
                    out[(kind, reach)] = None
                    continue
                d = float(shapely.distance(site_m, local(near)).min())
                out[(kind, reach)] = d if d <= reach else None
        return out


# -- geopandas, naive sjoin (strawman) --------------------------------------------------------

class Strawman:
    """The naive version this suite compared against before issue 23: per question a
    ``gpd.sjoin(layer, site)``, which in geopandas 1.x indexes the *right* frame (the one-row
    site), so every question sends the whole layer through a one-item index and the layer's own
    index is never used; overlaps by ``overlay`` (summed, not unioned) and distances in the
    site's UTM zone (scale error up to ~0.1 % at a zone's edge)."""

    def __init__(self, service: ScreeningService, layers: LayerSet, checks: list[Question]):
        self.checks = checks
        self.frames = {kind: service.store.read(layers.layers[kind].version)
                       for kind in {k for k, _ in checks}}
        for f in self.frames.values():
            _ = f.sindex

    def __call__(self, site_json: dict[str, Any]) -> Answers:
        """The answers for one site (GeoJSON geometry)."""
        site = gpd.GeoDataFrame(geometry=[shapely.geometry.shape(site_json)], crs="EPSG:4326")
        utm = site.estimate_utm_crs()
        site_m = site.to_crs(utm)
        out: Answers = {}
        for kind, reach in self.checks:
            layer = self.frames[kind]
            if reach == 0:
                hits = gpd.sjoin(layer, site, predicate="intersects")
                out[(kind, reach)] = float(gpd.overlay(
                    site_m, hits.drop(columns="index_right").to_crs(utm), how="intersection",
                    keep_geom_type=False).area.sum()) if len(hits) else None
            else:
                zone = gpd.GeoDataFrame(geometry=site_m.buffer(reach).to_crs("EPSG:4326"))
                hits = gpd.sjoin(layer, zone, predicate="intersects")
                d = (float(hits.to_crs(utm).distance(site_m.geometry.iloc[0]).min())
                     if len(hits) else None)
                out[(kind, reach)] = d if d is not None and d <= reach else None
        return out


# -- agreement --------------------------------------------------------------------------------

def agree(q: Question, ours: float | None, theirs: float | None) -> bool:
    """Whether two answers to question ``q`` are the same within 1 m (1 m²) or 0.1 %."""
    reach = q[1]
    if ours is None and theirs is None:
        return True
    if ours is None or theirs is None:
        other = ours if theirs is None else theirs
        assert other is not None
        return reach > 0 and other >= reach - 1.0
    return abs(ours - theirs) <= max(1.0, 1e-3 * max(abs(ours), abs(theirs)))


# -- the interleaved run ----------------------------------------------------------------------

def compare(service: ScreeningService, sites: list[dict[str, Any]], rounds: int = 2,
            strawman_sites: int | None = None) -> dict[str, Any]:
    """Every contender on every site, interleaved (per site, each contender once, the order
    rotating from site to site), ``rounds`` times (the strawman once, on the first
    ``strawman_sites``). Agreement is counted on the first round."""
    layers = service.layers()
    checks = questions(service)
    files = {kind: layers.layers[kind].version.path for kind in {k for k, _ in checks}}
    out: dict[str, Any] = {"checks": len(checks), "sites": len(sites), "rounds": rounds}
    err = postgis.planar_error()
    out["projection"] = {"proj": postgis.PROJECTION, **err}
    with postgis.postgres() as dsn:
        out["load"] = postgis.load(dsn, files)
        straight_sql = postgis.straightforward_sql(checks)
        expert_sql = postgis.expert_sql(checks, err["max_rel"])
        out["sql"] = {"postgis_straightforward": straight_sql, "postgis_expert": expert_sql}
        straight = postgis.Prepared(dsn, straight_sql, checks)
        expert = postgis.Prepared(dsn, expert_sql, checks)
        contenders: dict[str, Callable[[dict[str, Any]], Answers | None]] = {
            "engine_full": lambda g: _screen(service, g),
            "engine_questions": lambda g: engine_answers(service, checks, g),
            "geopandas": Geopandas(service, layers, checks),
            "geopandas_strawman": Strawman(service, layers, checks),
            "postgis_straightforward": straight,
            "postgis_expert": expert,
        }
        try:
            out["contenders"] = _interleaved(contenders, checks, sites, rounds,
                                             strawman_sites)
        finally:
            straight.close()
            expert.close()
    best = min((k for k in contenders if not k.startswith("engine")),
               key=lambda k: out["contenders"][k]["p50_ms"])
    out["strongest"] = best
    return out


def _screen(service: ScreeningService, site: dict[str, Any]) -> None:
    service.evaluate(ScreeningRequest(site=site, project=PROJECT))


def _interleaved(contenders: dict[str, Callable[[dict[str, Any]], Answers | None]],
                 checks: list[Question], sites: list[dict[str, Any]], rounds: int,
                 strawman_sites: int | None) -> dict[str, Any]:
    names = list(contenders)
    for geom in sites[:10]:  # warm: frames, masks, prepared statements, caches
        for name in names:
            contenders[name](geom)
    times: dict[str, list[float]] = {n: [] for n in names}
    answers: dict[str, list[Answers]] = {n: [] for n in names}
    limit = len(sites) if strawman_sites is None else strawman_sites
    for r in range(rounds):
        for s, geom in enumerate(sites):
            k = (s + r) % len(names)
            for name in names[k:] + names[:k]:
                if name == "geopandas_strawman" and (r > 0 or s >= limit):
                    continue
                t0 = time.perf_counter()
                got = contenders[name](geom)
                times[name].append((time.perf_counter() - t0) * 1000)
                if r == 0 and got is not None:
                    answers[name].append(got)
    reference = answers["engine_questions"]
    out: dict[str, Any] = {}
    for name in names:
        res: dict[str, Any] = {"label": LABELS[name], **percentiles(times[name])}
        if name in ANSWERING:
            total = good = 0
            worst: list[dict[str, Any]] = []
            for s, theirs in enumerate(answers[name]):
                for q in checks:
                    total += 1
                    if agree(q, reference[s][q], theirs.get(q)):
                        good += 1
                    elif len(worst) < 8:
                        worst.append({"site": s, "question": list(q), "ours": reference[s][q],
                                      "theirs": theirs.get(q)})
            res.update(agree=good, total=total, disagreements=worst)
        out[name] = res
    return out
