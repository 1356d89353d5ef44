"""The engine's front door for the API and the CLI: screen, store, fetch and re-run.

A screening is stored (SQLite, synchronous commit) before its id is returned; concurrent
screenings share a commit (spatial.groupcommit). Re-running a
stored screening rebuilds the exact layer versions it recorded and compares the outcome.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from spatial import catalogue
from spatial.errors import ConflictError, InputError, NotFoundError
from spatial.groupcommit import GroupCommitter
from spatial.layers.layerset import LayerSet, LayerSetCache
from spatial.layers.store import LayerStore, now_iso
from spatial.project import Project
from spatial.ruleset import RuleSet
from spatial.screening import evaluation
from spatial.sites.formats import RawSite, parse_file, parse_object, parse_text
from spatial.sites.site import Site, build_site
from spatial.verdict import VerdictDocument, finding_changes, read_document, read_verdict

T = TypeVar("T")

#: sites screened on the event loop when the geometry lock is free (``screen_now``): parcel-sized
INLINE_MAX_VERTICES = 1_000
INLINE_MAX_EXTENT_DEG = 0.02  # about 2 km
#: at most this many points (each becomes a disc of 257 vertices) in a site prepared in-process
INLINE_MAX_POINTS = 16


@dataclass(frozen=True)
class ScreeningRequest:
    """What a user submits: a site (GeoJSON object or WKT), its CRS and the project."""

    site: Any
    project: dict[str, Any]
    crs: str | None = None
    radius_m: float | None = None
    corridor_width_m: float | None = None
    accuracy_m: float = 0.0
    input_format: str | None = None
    notes: list[str] | None = None


@dataclass(frozen=True)
class Screening:
    """A screened request: the verdict document (with its id and time) and its UTF-8 JSON, which
    is what is stored (the API adds the links: app/links.py)."""

    request: ScreeningRequest
    doc: dict[str, Any]
    json: bytes


def to_json(obj: Any) -> bytes:
    """UTF-8 JSON of a verdict document or request (orjson: a tenth of the time of json.dumps
    for a 14 KB verdict; numpy scalars and arrays as numbers and lists)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits in a site's properties
        return json.dumps(obj, ensure_ascii=False, default=str).encode()


def request_from_file(path: Path, project: dict[str, Any], *, crs: str | None = None,
                      radius_m: float | None = None, corridor_width_m: float | None = None,
                      accuracy_m: float = 0.0) -> ScreeningRequest:
    """Read a site file (any supported format) into a request; the file's CRS unless stated."""
    raw = parse_file(path, crs)
    return ScreeningRequest(
        site=json.loads(json.dumps(raw.geometry.__geo_interface__)), project=project,
        crs=crs or raw.crs, radius_m=radius_m, corridor_width_m=corridor_width_m,
        accuracy_m=accuracy_m, input_format=raw.format, notes=raw.warnings)


class ScreeningService:
    """Screens sites against the active layers and keeps every result."""

    def __init__(self, store: LayerStore, ruleset: RuleSet, cache: LayerSetCache | None = None):
        self.store = store
        self.ruleset = ruleset
        self.cache = cache or LayerSetCache(store)
        # GEOS prepared geometries build their indexes lazily and without locking, so two
        # threads using one for the first time can crash the process (seen: SIGSEGV in
        # covers()). Evaluation is therefore serialised per process; scale out with worker
        # processes (uvicorn --workers), not threads.
        self._geos_lock = threading.Lock()
        self._log = GroupCommitter(store.db_path, catalogue.INSERT_SCREENING)

    def prepare(self, req: ScreeningRequest) -> tuple[Site, Project]:
        """Parse and check the site and the project of a request (no layers involved)."""
        return self._build(req, self._raw(req))

    def prepare_cheap(self, req: ScreeningRequest) -> tuple[Site, Project] | None:
        """``prepare`` when its cost is provably small, else None: the request then goes to a
        worker process that can be stopped (``spatial.sandbox``).

        Cheap means a parcel: at most ``INLINE_MAX_VERTICES`` vertices and
        ``INLINE_MAX_POINTS`` points, polygons already valid and lines simple (so nothing
        needs ``make_valid`` and no buffer is costly), and a footprint that ``fits_inline``.
        Parsing to find that out is linear in the body, which is itself bounded. Bad input
        still raises its InputError here.
        """
        raw = self._raw(req)
        if not _cheap(raw.geometry):
            return None
        prepared = self._build(req, raw)
        return prepared if self.fits_inline(prepared[0]) else None

    @staticmethod
    def fits_inline(site: Site) -> bool:
        """Whether a prepared site is parcel-sized (few vertices, about 2 km across)."""
        minx, miny, maxx, maxy = site.footprint.bounds
        return (shapely.get_num_coordinates(site.footprint) <= INLINE_MAX_VERTICES
                and max(maxx - minx, maxy - miny) <= INLINE_MAX_EXTENT_DEG)

    @staticmethod
    def _raw(req: ScreeningRequest) -> RawSite:
        if req.site is None:
            raise InputError("缺少场址 site", "The request has no site", code="site.missing")
        try:
            return parse_object(req.site) if not isinstance(req.site, str) else parse_text(
                req.site, req.crs)
        except RecursionError as exc:
            raise InputError("场址嵌套层级过深", "The site is nested too deeply",
                             code="site.too_deep") from exc

    def _build(self, req: ScreeningRequest, raw: RawSite) -> tuple[Site, Project]:
        site = build_site(raw.geometry, req.crs or raw.crs, radius_m=req.radius_m,
                          corridor_width_m=req.corridor_width_m, accuracy_m=req.accuracy_m,
                          input_format=req.input_format or raw.format,
                          notes=[*(req.notes or []), *raw.warnings])
        return site, Project.from_dict(req.project, self.ruleset.catalogue)

    def layers(self, versions: dict[str, str] | None = None) -> LayerSet:
        """The indexed layer set: the active one, or exactly the pinned kind → version."""
        if versions is None:
            return self.cache.active()
        return self.cache.get({k: self.store.get_version(k, v) for k, v in versions.items()})

    def evaluate(self, req: ScreeningRequest, versions: dict[str, str] | None = None
                 ) -> dict[str, Any]:
        """Screen without storing; ``versions`` pins kind → version (default: active set)."""
        return self._evaluate(*self.prepare(req), versions)

    def _evaluate(self, site: Site, project: Project, versions: dict[str, str] | None = None
                  ) -> dict[str, Any]:
        layers = self.layers(versions)
        with self._geos_lock:
            return evaluation.screen(site, project, layers, self.ruleset).as_doc()

    def screen_now(self, req: ScreeningRequest, site: Site, project: Project) -> Screening | None:
        """``new_screening`` of a prepared request at once on the calling thread, or None (do
        it on a thread) when the site is large or another screening holds the geometry lock: the
        caller is the event loop, which must never wait. A parcel-sized site takes a few
        milliseconds, less than handing it to a thread costs under load (measured at 32
        clients: 243 against 215 req/s)."""
        if not self.fits_inline(site):
            return None
        layers = self.cache.cached(self.store.active_key())
        if layers is None:  # just activated: indexing the new set is thread work
            return None
        if not self._geos_lock.acquire(blocking=False):
            return None
        try:
            doc = evaluation.screen(site, project, layers, self.ruleset).as_doc()
        finally:
            self._geos_lock.release()
        return self._stamped(req, doc)

    def geos(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run other geometry work on the shared layers (maps, rings) under the same lock."""
        with self._geos_lock:
            return fn(*args, **kwargs)

    def screen(self, req: ScreeningRequest) -> dict[str, Any]:
        """Screen, store and return the verdict document with its id."""
        done = self.new_screening(req)
        self.record(done).result(timeout=60)
        return done.doc

    def new_screening(self, req: ScreeningRequest,
                      prepared: tuple[Site, Project] | None = None) -> Screening:
        """Screen (``prepared``: the request's site and project, if already parsed) and give
        the result an id, without storing it yet (see ``record``)."""
        return self._stamped(req, self._evaluate(*(prepared or self.prepare(req))))

    @staticmethod
    def stamp(req: ScreeningRequest, doc: dict[str, Any]) -> Screening:
        """Give a verdict document (e.g. from a worker process) its id and time."""
        return ScreeningService._stamped(req, doc)

    @staticmethod
    def _stamped(req: ScreeningRequest, doc: dict[str, Any]) -> Screening:
        doc = {"id": secrets.token_urlsafe(16), **doc, "created_at": now_iso()}
        return Screening(req, doc, to_json(doc))

    def record(self, done: Screening) -> Future[None]:
        """Queue a screening for storage; the future completes once it is durably committed
        (its id must not be handed out before)."""
        # the request's fields as they are (dataclasses.asdict would deep-copy the geometry)
        req = {f.name: getattr(done.request, f.name) for f in fields(done.request)}
        return self._log.submit((done.doc["id"], done.doc["created_at"], to_json(req).decode(),
                                 done.json.decode()))

    def get(self, screening_id: str) -> dict[str, Any]:
        """A stored verdict document by id."""
        doc = self._row(screening_id)[1]
        doc.pop("links", None)  # stored by versions that kept links in the document
        return doc

    def document(self, screening_id: str) -> VerdictDocument:
        """A stored verdict document by id, as its type (for the report, map and CLI)."""
        return read_document(self.get(screening_id))

    def rerun(self, screening_id: str, *, current: bool = False,
              evaluate: Callable[[ScreeningRequest, dict[str, str] | None], dict[str, Any]]
              | None = None) -> dict[str, Any]:
        """Re-screen a stored request against its recorded layer versions (or the current ones).

        ``evaluate`` screens without storing (default: ``self.evaluate``; the service passes
        one that runs in a worker process with a time limit).

        Returns ``{"original", "rerun", "same_verdict", "changes"}``; ``changes`` lists rule ids
        whose finding appeared, disappeared or changed verdict.
        """
        req, doc = self._row(screening_id)
        doc.pop("links", None)
        was = read_document(doc)
        if not current and was.rules_version != self.ruleset.sha256:
            raise ConflictError(
                "规则集已更新，无法按原规则复现；请使用当前规则重新筛查",
                "The rule set changed since this screening; re-run against current rules",
                code="screening.rules_changed",
            )
        versions = None if current else {lay["kind"]: lay["version"] for lay in was.layers}
        new = (evaluate or self.evaluate)(ScreeningRequest(**req), versions)
        now = read_verdict(new)
        return {"original": doc, "rerun": new,
                "same_verdict": now.verdict == was.verdict,
                "changes": finding_changes(was, now)}

    def list(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Stored screenings, newest first (id, time, verdict, districts, project industry)."""
        with self.store.connect(write=False) as con:
            rows = catalogue.screening_page(con, limit, offset)
        out = []
        for sid, created, result in rows:
            doc = json.loads(result)
            out.append({"id": sid, "created_at": created, "verdict": doc["verdict"],
                        "districts": doc["site"].get("districts", []),
                        "industry": (doc["project"].get("industry") or {}).get("code")})
        return out

    def impact(self, kind: str, version: str, limit: int = 500) -> dict[str, Any]:
        """Which stored screenings would change verdict if ``version`` replaced their ``kind``.

        Each screening is re-run against the versions it recorded with only this kind swapped,
        so the difference is due to the new layer alone.
        """
        self.store.get_version(kind, version)
        with self.store.connect(write=False) as con:
            rows = catalogue.recent_screenings(con, limit)
        changed, checked = [], 0
        for sid, request, result in rows:
            was = read_verdict(json.loads(result))
            versions = {lay["kind"]: lay["version"] for lay in was.layers}
            if versions.get(kind) == version:
                continue
            versions[kind] = version
            try:
                now = read_verdict(self.evaluate(ScreeningRequest(**json.loads(request)),
                                                 versions))
            except NotFoundError:
                continue  # a recorded version was removed from the store
            checked += 1
            changes = finding_changes(was, now)
            if now.verdict != was.verdict or changes:
                changed.append({"id": sid, "before": was.verdict, "after": now.verdict,
                                "changes": changes})
        return {"kind": kind, "version": version, "screenings_checked": checked,
                "verdict_changes": sum(c["before"] != c["after"] for c in changed),
                "changed": changed}

    def _row(self, screening_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        with self.store.connect() as con:
            row = catalogue.screening_row(con, screening_id)
        if row is None:
            raise NotFoundError(f"筛查记录不存在：{screening_id}",
                                f"No screening with id {screening_id}",
                                code="screening.not_found")
        return json.loads(row[0]), json.loads(row[1])


def _cheap(geom: BaseGeometry) -> bool:
    """Whether building a site from this raw geometry is bounded work (see prepare_cheap)."""
    if geom is None or geom.is_empty or shapely.get_num_coordinates(geom) > INLINE_MAX_VERTICES:
        return False
    parts = shapely.get_parts(shapely.get_parts(geom))  # collection members, then their parts
    kinds = shapely.get_type_id(parts)
    points, lines, polys = kinds == 0, kinds == 1, kinds == 3
    if int(points.sum()) > INLINE_MAX_POINTS or not (points | lines | polys).all():
        return False
    return bool(shapely.is_valid(parts[polys]).all() and shapely.is_simple(parts[lines]).all())
