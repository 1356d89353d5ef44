"""In-memory, indexed layers for one consistent set of versions (built once, then shared).

Each layer keeps its geometries prepared and in a shapely STRtree; attribute filters are
turned into boolean masks once and cached. A LayerSet never changes after construction, so
screenings running while another set is activated keep the set they started with.

Every version's file is checked against the sha256 recorded when it was stored before it is
indexed (``LayerStore.verify``). A version whose file differs is left out of the set and
listed in ``refused``: in the active set its kind is then missing, so each rule that needs it
reports a ``layer_tampered`` gap and the verdict is at best indeterminate, never a pass on the
edited data; a set pinned to exact versions (a re-run, a batch job) is refused outright.
"""

from __future__ import annotations

import gc
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import rasterio
import shapely
from shapely.geometry.base import BaseGeometry

from spatial.errors import LayerTamperedError
from spatial.identity import IdentityCache
from spatial.layers.accesslist import KIND as ACCESS_LIST
from spatial.layers.accesslist import AccessList, load_rows
from spatial.layers.kinds import is_raster
from spatial.layers.store import LayerStore, LayerVersion, plain_value

log = logging.getLogger(__name__)

#: half-width assumed at most for a river centreline that states no width: the Yangtze at
#: Chongqing is ~400–800 m wide (wider in the Three Gorges reservoir reach), so 500 m
ASSUMED_MAX_HALF_WIDTH_M = 500.0


class _Versioned:
    """What vector and raster layers share: their stored version's kind and accuracy."""

    version: LayerVersion

    @property
    def kind(self) -> str:
        """Layer kind name."""
        return self.version.kind

    @property
    def accuracy_m(self) -> float:
        """Stated positional accuracy of the layer in metres."""
        return float(self.version.meta.accuracy_m or 0.0)


@dataclass
class IndexedLayer(_Versioned):
    """One layer version: geometries (lon/lat, prepared), attributes and an STRtree."""

    version: LayerVersion
    geoms: np.ndarray
    attrs: list[dict[str, Any]]
    tree: shapely.STRtree
    coverage: BaseGeometry | None = None
    _masks: dict[str, np.ndarray] = field(default_factory=dict)
    _by_id: IdentityCache[np.ndarray] = field(default_factory=lambda: IdentityCache(1024))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._all = np.ones(len(self.attrs), dtype=bool)

    def mask(self, flt: dict[str, Any]) -> np.ndarray:
        """Boolean array: which features match an attribute filter (cached per filter)."""
        if not flt:
            return self._all
        by_id = self._by_id.get(flt)
        if by_id is not None:
            return by_id[0]  # rule filters are long-lived objects: skip the key
        key = json.dumps(flt, sort_keys=True, ensure_ascii=False)
        cached = self._masks.get(key)
        if cached is not None:
            return self._by_id.put(flt, cached)
        m = np.ones(len(self.attrs), dtype=bool)
        for attr, want in flt.items():
            allowed = want if isinstance(want, list) else [want]
            m &= np.array([a.get(attr) in allowed for a in self.attrs], dtype=bool)
        with self._lock:
            self._masks[key] = m
        return m

    def query(self, geom: BaseGeometry, within_deg: float = 0.0) -> np.ndarray:
        """Sorted indices of all features within ``within_deg`` of ``geom`` (0: intersecting)."""
        # the same tests as query_many without its array set-up (this runs many times a site);
        # STRtree.query gets a one-element array: for a scalar it spends longer reshaping than
        # searching
        if within_deg > 0:
            minx, miny, maxx, maxy = geom.bounds
            box = shapely.box(minx - within_deg, miny - within_deg, maxx + within_deg,
                              maxy + within_deg)
            idx = self.tree.query(np.array([box]))[1]
            keep = shapely.dwithin(self.geoms[idx], geom, within_deg)
        else:
            idx = self.tree.query(np.array([geom]))[1]
            keep = shapely.intersects(self.geoms[idx], geom)
        return np.sort(idx[keep])

    def query_many(self, geoms: np.ndarray, within_deg: np.ndarray) -> np.ndarray:
        """(2, k) array of (input index, feature index) pairs: features intersecting each input
        geometry, or within its ``within_deg`` where that is > 0.

        The index narrows by bounding box; the exact test then runs on the layer's prepared
        geometries (``STRtree.query(predicate=…)`` would prepare the small input instead and
        test it against every vertex of a large district or river polygon).
        """
        minx, miny, maxx, maxy = shapely.bounds(geoms).T
        d = np.maximum(within_deg, 0.0)
        pairs = self.tree.query(shapely.box(minx - d, miny - d, maxx + d, maxy + d))
        src, hit = pairs
        near = within_deg[src] > 0
        keep = np.empty(len(src), dtype=bool)
        keep[~near] = shapely.intersects(self.geoms[hit[~near]], geoms[src[~near]])
        keep[near] = shapely.dwithin(self.geoms[hit[near]], geoms[src[near]], within_deg[src[near]])
        return pairs[:, keep]

    def candidates(self, geom: BaseGeometry, flt: dict[str, Any], *,
                   within_deg: float = 0.0) -> np.ndarray:
        """Indices of filtered features whose geometry is within ``within_deg`` of ``geom``."""
        idx = self.query(geom, within_deg)
        return idx[self.mask(flt)[idx]] if len(idx) else idx

    def half_width_m(self, i: int) -> float | None:
        """Feature ``i``'s stated half-width (``half_width_m``, or half of ``width_m``) when it
        is a centreline of a layer declared as centrelines (``geometry_role: centreline``);
        0 for other features; None for a centreline whose width is not stated."""
        if not self.centrelines or not self.geoms[i].geom_type.endswith("LineString"):
            return 0.0
        attrs = self.attrs[i]
        for key, factor in (("half_width_m", 1.0), ("width_m", 0.5)):
            try:
                value = float(attrs.get(key)) * factor  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if value == value and 0 <= value < 1e5:  # not NaN, plausible
                return value
        return None

    @property
    def centrelines(self) -> bool:
        """Whether the layer's lines are centrelines (distances measured from the bank). River
        lines are taken as centrelines unless their version declares another role (e.g.
        ``bank``): measured as drawn, a centreline would overstate the distance to the bank
        and could pass a site the law forbids."""
        role = self.version.meta.geometry_role
        return role == "centreline" or (role is None and self.version.kind == "river")

    @cached_property
    def bank_slack_m(self) -> float:
        """How much nearer than its centreline a feature's bank may lie: the largest stated
        half-width, or ``ASSUMED_MAX_HALF_WIDTH_M`` where a centreline states none (0 for a
        layer that is not centrelines)."""
        if not self.centrelines:
            return 0.0
        widths = [self.half_width_m(i) for i in range(len(self.attrs))]
        return max((ASSUMED_MAX_HALF_WIDTH_M if w is None else w for w in widths), default=0.0)

    def feature_public(self, i: int) -> dict[str, Any]:
        """Name and attributes of feature ``i`` for a finding."""
        attrs = {k: v for k, v in self.attrs[i].items() if v is not None}
        name = attrs.get("name") or attrs.get("mountain") or attrs.get("code")
        return {"index": int(i), "name": name, "attributes": attrs}


@dataclass
class RasterLayer(_Versioned):
    """An open raster version (read windowed, per request, under the engine's lock)."""

    version: LayerVersion
    dataset: rasterio.io.DatasetReader
    coverage: BaseGeometry | None = None


@dataclass
class LayerSet:
    """A consistent set of indexed layers, one version per kind, plus dataset coverage."""

    layers: dict[str, IndexedLayer]
    coverage: BaseGeometry | None
    rasters: dict[str, RasterLayer] = field(default_factory=dict)
    #: versions asked for but left out because their file failed verification, by kind
    refused: dict[str, LayerTamperedError] = field(default_factory=dict)
    #: tables without geometry (the access list), by kind
    tables: dict[str, AccessList] = field(default_factory=dict)

    @property
    def every(self) -> dict[str, IndexedLayer | RasterLayer | AccessList]:
        """Every layer of the set, vector, raster and table, by kind."""
        return {**self.layers, **self.rasters, **self.tables}

    @property
    def key(self) -> tuple[tuple[str, str], ...]:
        """The (kind, version) pairs that identify this set."""
        return tuple(sorted((k, v.version.version) for k, v in self.every.items()))

    def public(self) -> list[dict[str, Any]]:
        """The ``layers`` block of a verdict document (a new list; the entries are shared by
        every document of this set and never changed)."""
        return list(self._public)

    @cached_property
    def _public(self) -> tuple[dict[str, Any], ...]:
        return tuple(
            {"kind": k, "version": lay.version.version, "sha256": lay.version.sha256,
             "demo": lay.version.meta.demo, "accuracy_m": lay.accuracy_m,
             "title": lay.version.meta.title}
            for k, lay in sorted(self.every.items())
        )

    def refusal(self) -> LayerTamperedError | None:
        """A fresh copy of the error of the first refused version, if any."""
        for exc in self.refused.values():
            return _copy(exc)
        return None

    def refused_public(self) -> list[dict[str, Any]]:
        """The refused versions, for the readiness report."""
        return [{"kind": k, "version": e.details.get("version"), "code": e.code,
                 "message_zh": e.message_zh, "message_en": e.message_en}
                for k, e in sorted(self.refused.items())]


def build_layerset(store: LayerStore, versions: dict[str, LayerVersion]) -> LayerSet:
    """Verify, read and index every given version; coverage = union of the admin districts.

    A version whose file fails verification is left out and recorded in ``refused``.
    """
    layers: dict[str, IndexedLayer] = {}
    rasters: dict[str, RasterLayer] = {}
    tables: dict[str, AccessList] = {}
    refused: dict[str, LayerTamperedError] = {}
    for kind, lv in versions.items():
        try:
            if kind == ACCESS_LIST:
                store.verify(lv)
                tables[kind] = AccessList(lv, load_rows(lv.path))
                continue
            if is_raster(kind):
                store.verify(lv)
                rasters[kind] = RasterLayer(lv, rasterio.open(lv.path))
                continue
            gdf = store.read(lv)  # verifies the file first
        except LayerTamperedError as exc:
            log.error("%s", exc.message_en)
            refused[kind] = _copy(exc)  # kept without its traceback (and the frames it holds)
            continue
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        shapely.prepare(geoms)
        attrs = gdf.drop(columns=gdf.geometry.name).to_dict("records")
        attrs = [{k: plain_value(v) for k, v in a.items()} for a in attrs]
        layers[kind] = IndexedLayer(lv, geoms, attrs, shapely.STRtree(geoms))
    coverage = None
    admin = layers.get("admin_district")
    if admin is not None:
        coverage = shapely.union_all(admin.geoms)
        shapely.prepare(coverage)
        every: list[IndexedLayer | RasterLayer] = [*layers.values(), *rasters.values()]
        for lay in every:
            codes = lay.version.meta.coverage_adcodes
            if codes is not None:
                parts = [g for g, a in zip(admin.geoms, admin.attrs, strict=True)
                         if a.get("adcode") in codes]
                lay.coverage = shapely.union_all(parts) if parts else shapely.Polygon()
                shapely.prepare(lay.coverage)
    return LayerSet(layers, coverage, rasters, refused, tables)


def _copy(exc: LayerTamperedError) -> LayerTamperedError:
    return LayerTamperedError(exc.message_zh, exc.message_en, code=exc.code,
                              details=dict(exc.details))


def settle_long_lived() -> None:
    """Keep the indexed layers out of the cyclic garbage collector's sight.

    Shapely geometries are collector-tracked objects: with the stress set's 100 000 red-line
    features indexed, every full collection walks them all (measured: 45 ms), a pause that
    lands on whatever screening is running and, in a batch, on every few chunks. The layers
    live until their set is evicted, so after a set is built everything alive is frozen
    (``gc.freeze``); what an earlier freeze kept that has since become garbage is released
    first (``gc.unfreeze`` + ``gc.collect``). Plain reference counting still frees an evicted
    set's objects.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class LayerSetCache:
    """Keeps the few most recent LayerSets so each version set is indexed only once."""

    def __init__(self, store: LayerStore, size: int = 4):
        self.store = store
        self.size = size
        self._sets: OrderedDict[tuple[tuple[str, str], ...], LayerSet] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[tuple[str, str], ...], threading.Lock] = {}

    def cached(self, key: tuple[tuple[str, str], ...]) -> LayerSet | None:
        """The set for exactly these (kind, version) pairs if it is already built."""
        with self._lock:
            hit = self._sets.get(key)
            if hit is not None:
                self._sets.move_to_end(key)
            return hit

    def get(self, versions: dict[str, LayerVersion], *, strict: bool = True) -> LayerSet:
        """The LayerSet for exactly these versions, building it on first use.

        ``strict``: a version whose file failed verification raises LayerTamperedError (a
        pinned set must be exactly what was asked for); otherwise the set is returned without
        it, listed in ``refused`` (the active set: the kind is not evaluated).
        """
        hit = self._get(versions)
        refusal = hit.refusal() if strict else None
        if refusal is not None:
            raise refusal
        return hit

    def _get(self, versions: dict[str, LayerVersion]) -> LayerSet:
        key = tuple(sorted((k, v.version) for k, v in versions.items()))
        with self._lock:
            hit = self._sets.get(key)
            if hit is not None:
                self._sets.move_to_end(key)
                return hit
            building = self._building.setdefault(key, threading.Lock())
        # Build outside the cache lock so screenings on other sets are never held up; the
        # per-key lock makes concurrent requests for the same new set build it once.
        with building:
            with self._lock:
                hit = self._sets.get(key)
            if hit is None:
                hit = build_layerset(self.store, versions)
                with self._lock:
                    self._sets[key] = hit
                    self._building.pop(key, None)
                    while len(self._sets) > self.size:
                        self._sets.popitem(last=False)
                settle_long_lived()
            return hit

    def active(self) -> LayerSet:
        """The LayerSet of the currently active versions (without any whose file failed
        verification: see ``LayerSet.refused``)."""
        hit = self.cached(self.store.active_key())
        return hit if hit is not None else self.get(self.store.active_versions(), strict=False)
