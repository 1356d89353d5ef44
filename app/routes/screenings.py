"""Screening endpoints: create (JSON or multipart file upload), fetch, map preview, re-run."""

from __future__ import annotations

import asyncio
import json
import tempfile
import weakref
from pathlib import Path
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from app.deps import RuntimeDep
from app.links import screening_links, with_links
from app.pdf import html_to_pdf
from app.schemas import (
    ScreeningCreate,
    VerdictOut,
    json_or_file_body,
    problem_responses,
)
from app.security import CallerDep, ReviewerDep
from app.state import Runtime
from app.uploads import read_form, request_invalid, save_upload, suffix_of
from spatial.errors import InputError, NotFoundError, RequestTimeout, StoreBusyError
from spatial.layers.layerset import LayerSet
from spatial.project import Project
from spatial.render.mapview import render_map
from spatial.render.report import render_report
from spatial.render.staticmap import static_map_svg
from spatial.service import Screening, ScreeningRequest, to_json
from spatial.sites.site import Site
from spatial.verdict import VerdictDocument

#: JSON bodies up to this size may be screened on the event loop (ScreeningService.screen_now)
INLINE_MAX_BODY = 64 * 1024
#: longest wait for a screening's row to be committed (the store's busy timeout is 30 s)
RECORD_TIMEOUT_S = 60.0

router = APIRouter(prefix="/api/v1/screenings", tags=["screenings"], responses=problem_responses())



@router.post(
    "", status_code=201, response_model=VerdictOut,
    summary="筛查一个场址 / Screen a site",
    openapi_extra=json_or_file_body("ScreeningCreate"),
)
async def create_screening(request: Request, runtime: RuntimeDep, who: CallerDep) -> Response:
    """Screen a site given as GeoJSON/WKT (JSON body) or as an uploaded file (multipart).

    A parcel-sized site whose cost is provably small is screened in this process (on the
    event loop when the geometry lock is free). Anything else, and every uploaded file, is parsed
    and screened in a sandbox worker process that is killed when the time limit runs out.
    """
    ctype = request.headers.get("content-type", "").lower()
    timeout = runtime.settings.request_timeout_s
    done = None
    if ctype.startswith("multipart/form-data"):
        req, doc = await _from_multipart(request, runtime)
        done = runtime.service.stamp(req, doc)
    elif ctype.startswith("application/json") or not ctype:
        body = await request.body()
        if len(body) <= INLINE_MAX_BODY:  # parcel-sized: parsing and checking it is cheap too
            req = _from_json(_parse_json(body))
            prepared = runtime.service.prepare_cheap(req)
            if prepared is not None:
                await _my_turn()
                done = runtime.service.screen_now(req, *prepared)
                if done is None:  # the geometry lock is busy: bounded work, on a thread
                    done = await _on_thread(runtime, req, prepared, timeout)
        else:
            req = await anyio.to_thread.run_sync(lambda: _from_json(_parse_json(body)))
        if done is None:
            doc = await runtime.sandboxed("screen", req, None)
            done = runtime.service.stamp(req, doc)
    else:
        raise InputError("不支持的内容类型，请使用 application/json 或 multipart/form-data",
                         f"Unsupported content type: {ctype}", code="request.content_type")
    # stored before the id is handed out; the screening thread meanwhile takes the next request
    # (shielded: a cancelled request must not cancel the writer's future; a bounded wait)
    try:
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(runtime.service.record(done))),
                               timeout=RECORD_TIMEOUT_S)
    except TimeoutError as exc:
        raise StoreBusyError("筛查结果未能及时保存，请稍后重试", "Storing the screening timed out",
                             code="store.busy") from exc
    return Response(to_json(with_links(done.doc)), status_code=201, media_type="application/json")


async def _on_thread(runtime: Runtime, req: ScreeningRequest, prepared: tuple[Site, Project],
                     timeout: float) -> Screening:
    try:
        return await asyncio.wait_for(
            anyio.to_thread.run_sync(runtime.service.new_screening, req, prepared,
                                     limiter=runtime.limiter()), timeout=timeout)
    except TimeoutError as exc:
        raise RequestTimeout("筛查超时，请简化场址或稍后重试", "The screening timed out",
                             code="request.timeout") from exc


#: event loops (one per worker process; tests run several) whose inline turn is taken
_TURN_TAKEN: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


async def _my_turn() -> None:
    """Wait until no screening has run on this event loop since it last polled its sockets.

    At most one inline screening per loop iteration: between two, the loop sends the responses
    whose rows were committed meanwhile and reads new requests. Without this, every request
    that arrived together is screened back to back before any of their responses goes out,
    and the early ones wait for the whole convoy.
    """
    loop = asyncio.get_running_loop()
    while loop in _TURN_TAKEN:
        await asyncio.sleep(0)
    _TURN_TAKEN.add(loop)
    loop.call_soon(_TURN_TAKEN.discard, loop)


@router.get("/{screening_id}", response_model=VerdictOut,
            summary="读取筛查结果 / Fetch a screening")
def get_screening(screening_id: str, runtime: RuntimeDep) -> Response:
    """A stored verdict document by its id."""
    return Response(to_json(with_links(runtime.service.get(screening_id))),
                    media_type="application/json")


@router.get("/{screening_id}/map", response_class=HTMLResponse,
            summary="地图预览 / Map preview")
def get_map(screening_id: str, runtime: RuntimeDep) -> HTMLResponse:
    """An offline Leaflet map of the site, hit features, tested buffer rings and districts."""
    doc = runtime.service.document(screening_id)
    versions = {lay["kind"]: runtime.store.get_version(lay["kind"], lay["version"])
                for lay in doc.layers}
    layers = runtime.service.cache.get(versions)
    return HTMLResponse(runtime.service.geos(
        render_map, doc, layers, asset_base="/static/vendor/leaflet", static_base="/static",
        rules=runtime.rules, tile_url=runtime.settings.tile_url,
        tile_attribution=runtime.settings.tile_attribution))


@router.get("/{screening_id}/report", response_class=HTMLResponse,
            summary="打印报告 / Printable report (HTML or PDF)")
def get_report(screening_id: str, runtime: RuntimeDep,
               format: Literal["html", "pdf"] = "html") -> Response:
    """Printable report: site map and coordinates, verdict, findings with citations, layer
    versions with sha256 and demo flags, rule-set hash, disclaimer. ``format=pdf`` prints it
    with headless Chromium."""
    doc = runtime.service.document(screening_id)
    svg = runtime.service.geos(static_map_svg, doc, _layers_of(runtime, doc))
    html = render_report(doc, svg)
    if format == "pdf":
        pdf = html_to_pdf(html, runtime.settings.chromium)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="redline-{screening_id}.pdf"'})
    return HTMLResponse(html)


def _layers_of(runtime: Runtime, doc: VerdictDocument) -> LayerSet | None:
    try:
        return runtime.service.cache.get({lay["kind"]: runtime.store.get_version(lay["kind"],
                                                                              lay["version"])
                                         for lay in doc.layers})
    except NotFoundError:
        return None


@router.get("", summary="筛查记录列表 / List screenings (reviewer)")
def list_screenings(runtime: RuntimeDep, who: ReviewerDep, limit: int = Query(100, ge=1, le=1000),
                    offset: int = Query(0, ge=0, le=1_000_000_000)) -> dict[str, Any]:
    """Stored screenings, newest first."""
    return {"items": [{**item, "links": screening_links(item["id"])}
                      for item in runtime.service.list(limit, offset)]}


@router.post("/{screening_id}/rerun",
             summary="复现或按当前图层重新筛查 / Re-run (reviewer)")
def rerun(screening_id: str, runtime: RuntimeDep, who: ReviewerDep,
          current: bool = False) -> dict[str, Any]:
    """Re-screen a stored request; ``current=true`` uses today's active layers instead. The
    re-run is screened in the sandbox, under the same time limit as a new screening."""
    timeout = runtime.settings.request_timeout_s

    def evaluate(req: ScreeningRequest, versions: dict[str, str] | None) -> dict[str, Any]:
        doc: dict[str, Any] = runtime.sandbox().run("screen", req, versions, timeout_s=timeout)
        return doc

    out = runtime.service.rerun(screening_id, current=current, evaluate=evaluate)
    return {**out, "original": with_links(out["original"])}


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except (ValueError, RecursionError) as exc:  # incl. an integer of over 4 300 digits
        raise InputError("请求体不是合法的JSON", f"Body is not valid JSON: {exc}",
                         code="request.json_invalid") from exc


def _from_json(raw: Any) -> ScreeningRequest:
    try:
        body = ScreeningCreate.model_validate(raw)
    except ValidationError as exc:
        raise request_invalid(exc) from exc
    return ScreeningRequest(site=body.site, project=body.project.model_dump(exclude_none=True),
                            crs=body.crs, radius_m=body.radius_m,
                            corridor_width_m=body.corridor_width_m, accuracy_m=body.accuracy_m)


async def _from_multipart(request: Request, runtime: Runtime
                          ) -> tuple[ScreeningRequest, dict[str, Any]]:
    """Save the uploaded site file in the uploads directory and read and screen it in the
    sandbox: GDAL never opens an upload in the service process."""
    upload, fields, project = await read_form(request)
    try:
        options = ScreeningCreate.model_validate({"site": "POINT (0 0)", **fields})
    except ValidationError as exc:
        raise request_invalid(exc) from exc
    with tempfile.TemporaryDirectory(prefix="site-", dir=runtime.uploads()) as tmp:
        path = Path(tmp) / f"site{suffix_of(upload, 'site.geojson')}"
        await save_upload(upload, path, runtime.settings.max_body_bytes)
        opts = {"crs": options.crs, "radius_m": options.radius_m,
                "corridor_width_m": options.corridor_width_m, "accuracy_m": options.accuracy_m}
        req, doc = await runtime.sandboxed("screen_file", str(path), project, opts)
    return req, doc
