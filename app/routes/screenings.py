"""Screening endpoints: create (JSON or multipart file upload), fetch, map preview, re-run."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path, PurePath
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from app.deps import EngineDep
from app.pdf import html_to_pdf
from app.schemas import ProjectIn, ScreeningCreate, VerdictOut, problem_responses
from app.security import CallerDep, ReviewerDep
from app.state import Engine
from spatial import batch
from spatial.errors import InputError, NotFoundError, RequestTimeout, TooLargeError
from spatial.layerset import LayerSet
from spatial.mapview import render_map
from spatial.report import render_report
from spatial.service import ScreeningRequest, request_from_file
from spatial.staticmap import static_map_svg

MAX_SYNC_BATCH = 500
router = APIRouter(prefix="/api/v1/screenings", tags=["screenings"], responses=problem_responses())



@router.post(
    "", status_code=201, response_model=VerdictOut,
    summary="筛查一个场址 / Screen a site",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ScreeningCreate"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "project": {"type": "string", "description": "ProjectIn as JSON text"},
            "crs": {"type": "string"}, "radius_m": {"type": "number"},
            "corridor_width_m": {"type": "number"}, "accuracy_m": {"type": "number"}}}},
    }}},
)
async def create_screening(request: Request, engine: EngineDep, who: CallerDep) -> JSONResponse:
    """Screen a site given as GeoJSON/WKT (JSON body) or as an uploaded file (multipart)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        req = await _from_multipart(request, engine.settings.max_body_bytes)
    elif ctype.startswith("application/json") or not ctype:
        req = _from_json(await _read_json(request))
    else:
        raise InputError("不支持的内容类型，请使用 application/json 或 multipart/form-data",
                         f"Unsupported content type: {ctype}", code="request.content_type")
    try:
        doc = await asyncio.wait_for(run_in_threadpool(engine.service.screen, req),
                                     timeout=engine.settings.request_timeout_s)
    except TimeoutError as exc:
        raise RequestTimeout("筛查超时，请简化场址或稍后重试", "The screening timed out",
                             code="request.timeout") from exc
    return JSONResponse(doc, status_code=201)


class BatchIn(BaseModel):
    """A FeatureCollection of sites; feature properties industry/nature/type override project."""

    model_config = ConfigDict(extra="forbid")
    sites: dict[str, Any] = Field(..., description="GeoJSON FeatureCollection")
    project: ProjectIn = Field(default_factory=lambda: ProjectIn())
    crs: str | None = Field(None, max_length=200)
    radius_m: float | None = Field(None, gt=0, le=50_000)
    corridor_width_m: float | None = Field(None, gt=0, le=100_000)


@router.post("/batch", summary="批量筛查(同步，≤500个地块，需审批员令牌) / Batch (reviewer)")
async def batch_screen(body: BatchIn, engine: EngineDep, who: ReviewerDep) -> dict[str, Any]:
    """One row per site (verdict, rule ids, nearest distances, or an error row); each row equals
    screening that site alone. Larger inventories: ``redline batch`` on the command line."""
    feats = body.sites.get("features") if body.sites.get("type") == "FeatureCollection" else None
    if not isinstance(feats, list) or not feats:
        raise InputError("sites 须为含要素的 GeoJSON FeatureCollection",
                         "sites must be a FeatureCollection with features",
                         code="batch.not_feature_collection")
    if len(feats) > MAX_SYNC_BATCH:
        raise TooLargeError(f"同步批量筛查最多 {MAX_SYNC_BATCH} 个地块，请使用命令行 redline batch",
                            f"At most {MAX_SYNC_BATCH} sites per synchronous batch",
                            code="batch.too_large")
    opts = batch.BatchOptions(body.project.model_dump(exclude_none=True), body.crs,
                              body.radius_m, body.corridor_width_m)
    rows = await run_in_threadpool(lambda: list(batch.rows(engine.service, feats, opts)))
    counts = {v: sum(r["verdict"] == v for r in rows)
              for v in ("forbid", "restrict", "pass", "indeterminate", "error")}
    return {"total": len(rows), "counts": counts, "rows": rows}


@router.get("/{screening_id}", response_model=VerdictOut,
            summary="读取筛查结果 / Fetch a screening")
def get_screening(screening_id: str, engine: EngineDep) -> dict[str, Any]:
    """A stored verdict document by its id."""
    return engine.service.get(screening_id)


@router.get("/{screening_id}/map", response_class=HTMLResponse,
            summary="地图预览 / Map preview")
def get_map(screening_id: str, engine: EngineDep) -> HTMLResponse:
    """An offline Leaflet map of the site, hit features, tested buffer rings and districts."""
    doc = engine.service.get(screening_id)
    versions = {lay["kind"]: engine.store.get_version(lay["kind"], lay["version"])
                for lay in doc["layers"]}
    layers = engine.service.cache.get(versions)
    return HTMLResponse(engine.service.geos(render_map, doc, layers, asset_base="/static/vendor/leaflet",
                                   rules=engine.rules,
                                   tile_url=engine.settings.tile_url,
                                   tile_attribution=engine.settings.tile_attribution))


@router.get("/{screening_id}/report", response_class=HTMLResponse,
            summary="打印报告 / Printable report (HTML or PDF)")
def get_report(screening_id: str, engine: EngineDep,
               format: Literal["html", "pdf"] = "html") -> Response:
    """Printable report: site map and coordinates, verdict, findings with citations, layer
    versions with sha256 and demo flags, rule-set hash, disclaimer. ``format=pdf`` prints it
    with headless Chromium."""
    doc = engine.service.get(screening_id)
    svg = engine.service.geos(static_map_svg, doc, _layers_of(engine, doc))
    html = render_report(doc, svg)
    if format == "pdf":
        pdf = html_to_pdf(html, engine.settings.chromium)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="redline-{screening_id}.pdf"'})
    return HTMLResponse(html)


def _layers_of(engine: Engine, doc: dict[str, Any]) -> LayerSet | None:
    try:
        return engine.service.cache.get({lay["kind"]: engine.store.get_version(lay["kind"],
                                                                              lay["version"])
                                         for lay in doc["layers"]})
    except NotFoundError:
        return None


@router.get("", summary="筛查记录列表 / List screenings (reviewer)")
def list_screenings(engine: EngineDep, who: ReviewerDep, limit: int = Query(100, ge=1, le=1000),
                    offset: int = Query(0, ge=0)) -> dict[str, Any]:
    """Stored screenings, newest first."""
    return {"items": engine.service.list(limit, offset)}


@router.post("/{screening_id}/rerun",
             summary="复现或按当前图层重新筛查 / Re-run (reviewer)")
def rerun(screening_id: str, engine: EngineDep, who: ReviewerDep,
          current: bool = False) -> dict[str, Any]:
    """Re-screen a stored request; ``current=true`` uses today's active layers instead."""
    return engine.service.rerun(screening_id, current=current)


async def _read_json(request: Request) -> Any:
    body = await request.body()
    try:
        return json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError("请求体不是合法的JSON", f"Body is not valid JSON: {exc}",
                         code="request.json_invalid") from exc


def _from_json(raw: Any) -> ScreeningRequest:
    try:
        body = ScreeningCreate.model_validate(raw)
    except ValidationError as exc:
        raise _request_invalid(exc) from exc
    return ScreeningRequest(site=body.site, project=body.project.model_dump(exclude_none=True),
                            crs=body.crs, radius_m=body.radius_m,
                            corridor_width_m=body.corridor_width_m, accuracy_m=body.accuracy_m)


async def _from_multipart(request: Request, limit: int) -> ScreeningRequest:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError("缺少上传文件字段 file", "Multipart body needs a `file` field",
                         code="upload.missing")
    name = PurePath(upload.filename or "site.geojson").name
    suffix = Path(name).suffix.lower()
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(f"上传文件超过 {limit // 1024 // 1024} MB 上限",
                            "Upload exceeds the size limit", code="upload.too_large")
    if any(not isinstance(v, str) for k, v in form.items() if k != "file"):
        raise InputError("除 file 外的表单字段必须是文本", "Form fields other than `file` must be text",
                         code="request.invalid")
    fields = {k: v for k, v in form.items() if isinstance(v, str) and k != "file"}
    try:
        project = ProjectIn.model_validate(json.loads(fields.pop("project", "{}") or "{}"))
        options = ScreeningCreate.model_validate({"site": "POINT (0 0)", **fields})
    except json.JSONDecodeError as exc:
        raise InputError("project 字段不是合法的JSON", "`project` is not valid JSON",
                         code="request.json_invalid") from exc
    except ValidationError as exc:
        raise _request_invalid(exc) from exc
    with tempfile.TemporaryDirectory(prefix="redline-upload-") as tmp:
        path = Path(tmp) / f"site{suffix}"
        path.write_bytes(data)
        return request_from_file(path, project.model_dump(exclude_none=True), crs=options.crs,
                                 radius_m=options.radius_m,
                                 corridor_width_m=options.corridor_width_m,
                                 accuracy_m=options.accuracy_m)


def _request_invalid(exc: ValidationError) -> InputError:
    where = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"
                      for e in exc.errors()[:5])
    return InputError(f"请求格式不正确：{where}", f"Invalid request: {where}",
                      code="request.invalid")
