"""Screen many sites (a parcel inventory) with the same engine as a single screening.

Each result row equals screening that site alone; a bad or failing site gets an error row and
never stops the batch. Sites are screened in chunks: a chunk's sites are parsed, their index
questions answered in bulk (spatial.batch.bulk), then each is screened. Chunks run in worker
processes (both cores; GEOS prepared geometries are per process), or on Dask (spatial.batch.daskrun).
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from spatial.batch.bulk import prefetch
from spatial.errors import InputError, RedlineError
from spatial.screening import evaluation
from spatial.service import ScreeningRequest, ScreeningService
from spatial.sites.site import Site
from spatial.vectorfiles import open_vector
from spatial.verdict import Verdict

PROJECT_KEYS = ("industry", "nature", "type", "activity", "flags")
VERDICTS = ("forbid", "restrict", "pass", "indeterminate", "error")
CHUNK = 200
Progress = Callable[[int, int, float], None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchOptions:
    """Defaults for every site; per-feature properties of the same name override them."""

    project: dict[str, Any]
    crs: str | None = None
    radius_m: float | None = None
    corridor_width_m: float | None = None


@dataclass(frozen=True)
class DataSource:
    """Where a worker finds the data: the data directory, the rules and the pinned versions."""

    home: str
    rules_dir: str
    versions: dict[str, str]
    rules_sha256: str


def request_for(feature: Any, opts: BatchOptions) -> tuple[dict[str, Any], ScreeningRequest]:
    """The row's identity and the screening request for one feature (properties override)."""
    props = dict(feature.get("properties") or {}) if isinstance(feature, dict) else {}
    project = {**opts.project, **{k: props[k] for k in PROJECT_KEYS if k in props}}
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    req = ScreeningRequest(site=geometry, project=project, crs=opts.crs,
                           radius_m=props.get("radius_m", opts.radius_m),
                           corridor_width_m=props.get("corridor_width_m", opts.corridor_width_m))
    return {"site_id": props.get("id", props.get("name"))}, req


def row_from_verdict(base: dict[str, Any], v: Verdict) -> dict[str, Any]:
    """A result row from a verdict (what a single screening would report)."""
    return {**base, "verdict": v.verdict, "error_code": None, "error": None,
            "forbid_rules": [f.rule_id for f in v.findings if f.verdict == "forbid"],
            "restrict_rules": [f.rule_id for f in v.findings if f.verdict == "restrict"],
            "not_evaluated": [g.code for g in v.not_evaluated],
            "nearest_m": {n.label_zh: n.distance_m for n in v.nearest},
            # plain JSON (Site.as_dict): rows read back from a job or Dask compare equal
            "area_m2": v.site["area_m2"], "geometry": v.site["geometry"]}


def error_row(base: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    """The row of a site that could not be screened."""
    return {**base, "verdict": "error", "error_code": code, "error": message, "geometry": None,
            "forbid_rules": [], "restrict_rules": [], "not_evaluated": [], "nearest_m": {},
            "area_m2": None}


def screen_chunk(service: ScreeningService, features: list[Any], opts: BatchOptions,
                 start: int = 0, versions: dict[str, str] | None = None,
                 indices: list[int] | None = None) -> list[dict[str, Any]]:
    """Rows for features numbered ``indices`` (default: consecutive from ``start``), with the
    index questions of all of them answered in bulk first."""
    layers = service.layers(versions)
    prepared: list[tuple[dict[str, Any], Any, Site | None]] = []
    for k, feature in enumerate(features):
        base, req = request_for(feature, opts)
        index = indices[k] if indices is not None else start + k
        base = {"index": index,
                "site_id": base["site_id"] if base["site_id"] is not None else index}
        try:
            good, project = service.prepare(req)
            prepared.append((base, project, good))
        except RedlineError as exc:
            prepared.append((error_row(base, exc.code, exc.message_zh), None, None))
        except Exception as exc:  # one unreadable site must not stop the batch
            log.exception("batch site %s could not be read", base["index"])
            prepared.append((error_row(base, "internal.site_failed",
                                       f"该地块读取出错({type(exc).__name__})，其余地块不受影响"),
                             None, None))
    # the layers' prepared geometries are shared with concurrent requests: under the lock
    rules = evaluation.rules_for([p[1] for p in prepared if p[1] is not None], service.ruleset)
    known = service.geos(prefetch, [p[2] for p in prepared], rules, layers)
    rows = []
    for (base, project, site), pre in zip(prepared, known, strict=True):
        if site is None:
            rows.append(base)
            continue
        try:
            verdict = service.geos(evaluation.screen, site, project, layers, service.ruleset, pre)
            rows.append(row_from_verdict(base, verdict))
        except RedlineError as exc:
            rows.append(error_row(base, exc.code, exc.message_zh))
        except Exception as exc:  # one site's unexpected failure must not stop the batch
            log.exception("batch site %s failed", base["index"])
            rows.append(error_row(base, "internal.site_failed",
                                  f"该地块筛查出错({type(exc).__name__})，其余地块不受影响"))
    return rows


def rows(service: ScreeningService, features: list[Any], opts: BatchOptions,
         progress: Progress | None = None) -> Iterator[dict[str, Any]]:
    """One row per feature, in order, in this process; ``progress(done, total, rate)``."""
    total, start = len(features), time.monotonic()
    for a in range(0, total, CHUNK):
        yield from screen_chunk(service, features[a:a + CHUNK], opts, a)
        if progress:
            done = min(a + CHUNK, total)
            progress(done, total, done / max(time.monotonic() - start, 1e-9))


# -- input ---------------------------------------------------------------------------------

SITE_FILE_SUFFIXES = (".geojson", ".json", ".zip", ".gpkg", ".kml", ".kmz")


def read_sites(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The features of a parcel file and its CRS (None = lon/lat or stated by the user).

    GeoJSON is read as JSON, so every feature (even one without geometry) becomes a row;
    zipped shapefiles (encoding detected as for layers), GeoPackage and KML/KMZ through GDAL.
    """
    suffix = path.suffix.lower()
    if suffix not in SITE_FILE_SUFFIXES:
        raise InputError(f"不支持的地块文件类型：{suffix or '(无扩展名)'}；支持 "
                         f"{', '.join(SITE_FILE_SUFFIXES)}", f"Unsupported sites file: {suffix}",
                         code="batch.unsupported_format")
    if not path.exists():
        raise InputError(f"文件不存在：{path.name}", f"File not found: {path.name}",
                         code="file.not_found")
    if suffix in (".geojson", ".json"):
        try:
            fc = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, 4 300+ digit integers
            raise InputError("地块文件不是有效的 UTF-8 GeoJSON", "The sites file is not valid GeoJSON",
                             code="batch.unreadable") from exc
        return features_of(fc), None
    with tempfile.TemporaryDirectory(prefix="redline-batch-") as tmp:
        vf = open_vector(path, Path(tmp))
        names = vf.layers
        if len(names) > 1:
            raise InputError(f"文件含 {len(names)} 个图层({'、'.join(names[:5])})，请只提交一个图层",
                             f"The file holds {len(names)} layers; submit one layer",
                             code="batch.multiple_layers", details={"layers": names})
        gdf = vf.read()
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    if crs in ("EPSG:4326", "OGC:CRS84", "EPSG:4490"):
        crs = None
    return features_of(json.loads(gdf.to_json(na="drop", drop_id=True))), crs


def features_of(fc: Any) -> list[dict[str, Any]]:
    """The features of a FeatureCollection; a clear 4xx for anything else or an empty one."""
    feats = fc.get("features") if isinstance(fc, dict) and fc.get("type") == "FeatureCollection" \
        else None
    if not isinstance(feats, list) or not feats:
        raise InputError("地块须为含要素的 GeoJSON FeatureCollection",
                         "Sites must be a FeatureCollection with features",
                         code="batch.not_feature_collection")
    return feats


# -- worker processes ----------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def worker_service(source: DataSource) -> ScreeningService:
    """This process's engine for ``where`` (built once per process and kept)."""
    key = json.dumps(asdict(source), sort_keys=True)
    service = _WORKER.get(key)
    if service is None:
        from spatial.layers.store import LayerStore
        from spatial.ruleset import load_ruleset

        ruleset = load_ruleset(Path(source.rules_dir))
        if ruleset.sha256 != source.rules_sha256:
            raise InputError("工作进程的规则集与提交方不一致", "Worker rules differ from the caller's",
                             code="batch.rules_mismatch")
        _WORKER.clear()  # another batch's layers
        service = ScreeningService(LayerStore(Path(source.home)), ruleset)
        # index once, before the first chunk; the indexed set is then kept out of the
        # collector's sight (layerset.settle_long_lived; one process: 1 046 → 1 104 sites/s)
        service.layers(source.versions)
        _WORKER[key] = service
    return service


def _work(source: DataSource, features: list[Any], opts: BatchOptions, start: int
          ) -> list[dict[str, Any]]:
    return screen_chunk(worker_service(source), features, opts, start, source.versions)


def warm(source: DataSource) -> None:
    """Build this process's engine for ``where`` now (before timing or the first chunk)."""
    worker_service(source)


def _init_worker(parent_pid: int) -> None:
    """Pool initializer: the worker is killed when the process that started the pool dies
    (a ``kill -9`` of the service would otherwise leave it running for ever)."""
    from spatial.childproc import die_with_parent

    die_with_parent(parent_pid)


@contextmanager
def _pool(source: DataSource, workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool whose workers are all started and have indexed ``where``'s layers.

    Workers ask for SIGKILL when their parent dies (``childproc.die_with_parent``); on Linux
    that signal follows the *thread* that spawned them. A spawn-context pool in Python 3.11
    starts its workers lazily, in whichever thread calls ``submit`` while no worker is idle
    (not in its manager thread). So the warm-up tasks, one per worker and submitted back to
    back, which start every worker, are submitted from a thread of the pool's own that lives
    until the pool is shut down: whoever drives the ``run`` generator (the job thread, the
    CLI, a thread pool resuming it) cannot take the workers down by exiting first.
    """
    # spawn: never fork a process that has threads (the service)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(),))
    warming: list[Future[None]] = []
    failed: list[BaseException] = []
    submitted, release = threading.Event(), threading.Event()

    def own() -> None:
        try:
            warming.extend(pool.submit(warm, source) for _ in range(workers))
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
        finally:
            submitted.set()
        release.wait()  # the workers' parent thread: alive until the pool is shut down

    owner = threading.Thread(target=own, name="batch-pool-owner", daemon=True)
    owner.start()
    try:
        submitted.wait()
        if failed:
            raise failed[0]
        for ready in warming:
            ready.result()  # every worker indexes the layers before the clock starts
        yield pool
    finally:
        pool.shutdown(wait=True)
        release.set()
        owner.join()


def data_source(service: ScreeningService, rules_dir: Path) -> DataSource:
    """Pin the currently active versions, so every chunk sees the same layers."""
    versions = {k: v for k, v in service.layers().key}
    return DataSource(str(service.store.home), str(rules_dir), versions, service.ruleset.sha256)


def run(source: DataSource, features: list[Any], opts: BatchOptions, *, workers: int = 2,
        progress: Progress | None = None, cancel: threading.Event | None = None,
        skip: int = 0, chunk: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """Screen ``features[skip:]`` in worker processes; yields chunks of rows in order.

    At most two chunks per worker are in flight (bounded memory for a million sites). Stops
    early, without yielding further chunks, when ``cancel`` is set.
    """
    total = len(features)
    with _pool(source, workers) as pool:  # every worker has indexed the layers: start the clock
        started = time.monotonic()
        pending: deque[Future[list[dict[str, Any]]]] = deque()
        starts = iter(range(skip, total, chunk))
        done = skip

        def submit() -> None:
            a = next(starts, None)
            if a is not None:
                pending.append(pool.submit(_work, source, features[a:a + chunk], opts, a))

        for _ in range(workers * 2):
            submit()
        while pending:
            if cancel is not None and cancel.is_set():
                for f in pending:
                    f.cancel()
                return
            out = pending.popleft().result()
            submit()
            done += len(out)
            if progress:
                progress(done, total, (done - skip) / max(time.monotonic() - started, 1e-9))
            yield out


def counts(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Number of rows per verdict (incl. ``error``)."""
    out = dict.fromkeys(VERDICTS, 0)
    for r in results:
        out[r["verdict"]] += 1
    return out
