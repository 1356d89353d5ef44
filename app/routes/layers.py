"""Layer management: list, upload a version (validated, not yet live), activate, roll back,
validation report, change impact and the audit log. Changes need a gis_admin token."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from app.deps import RuntimeDep
from app.schemas import problem_responses
from app.security import AdminDep, ReviewerDep
from app.uploads import save_upload, suffix_of
from spatial.errors import InputError, NotFoundError, RedlineError
from spatial.layers.ingest import RASTER_SUFFIXES, check_declared_holds, import_layer
from spatial.layers.kinds import KINDS, RASTER_KINDS, is_raster
from spatial.layers.load import LayerSource
from spatial.layers.store import SourceMeta
from spatial.render.report import render_validation

router = APIRouter(prefix="/api/v1", tags=["layers"], responses=problem_responses())


class ActivateIn(BaseModel):
    """Which stored version to make active."""

    model_config = ConfigDict(extra="forbid")
    version: str = Field(..., min_length=1, max_length=64)


def _kind(kind: str) -> str:
    if kind not in KINDS and not is_raster(kind):
        raise NotFoundError(f"未知图层类型：{kind}", f"Unknown layer kind: {kind}",
                            code="layer.kind_unknown")
    return kind


@router.get("/layers", summary="图层及启用版本 / Layers")
def list_layers(runtime: RuntimeDep) -> dict[str, Any]:
    """Each layer kind with its active version's metadata."""
    active = runtime.store.active_versions()
    titles = {**{k: s.title_zh for k, s in KINDS.items()},
              **{k: s.title_zh for k, s in RASTER_KINDS.items()}}
    return {"layers": [
        {"kind": k, "title_zh": title, "raster": is_raster(k),
         "active": active[k].public() if k in active else None}
        for k, title in titles.items()
    ]}


@router.get("/layers/{kind}", summary="图层版本历史 / Layer history")
def layer_history(kind: str, runtime: RuntimeDep) -> dict[str, Any]:
    """All stored versions of a kind (who, when, sha256, notes, validation) and the active one."""
    _kind(kind)
    active = runtime.store.active_versions().get(kind)
    return {"kind": kind, "active": active.version if active else None,
            "versions": [v.public() for v in runtime.store.versions(kind)],
            "activations": [e for e in runtime.store.audit_log(kind) if e["action"] == "activate"]}


@router.get("/layers/{kind}/versions/{version}", summary="版本详情 / Version")
def get_version(kind: str, version: str, runtime: RuntimeDep) -> dict[str, Any]:
    """One version's metadata and validation report."""
    return runtime.store.get_version(_kind(kind), version).public()


@router.get("/layers/{kind}/versions/{version}/report", response_class=HTMLResponse,
            summary="校验报告 / Validation report (HTML)")
def validation_report(kind: str, version: str, runtime: RuntimeDep) -> HTMLResponse:
    """The validation report as a readable page."""
    return HTMLResponse(render_validation(runtime.store.get_version(_kind(kind), version).public()))


@router.post("/layers/{kind}/versions", status_code=201, summary="上传新版本 / Upload a version",
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
                 "schema": {"type": "object", "required": ["file", "accuracy_m", "title"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "accuracy_m": {"type": "number"}, "title": {"type": "string"},
                                "publisher": {"type": "string"}, "date": {"type": "string"},
                                "licence": {"type": "string"}, "demo": {"type": "boolean"},
                                "coverage_adcodes": {"type": "string"},
                                "geometry_role": {"type": "string"}, "notes": {"type": "string"},
                                "holds": {"type": "string", "description":
                                          "JSON {attribute: [values]}: the feature classes the "
                                          "version holds, e.g. {\"class\": [\"mainstem\"]}; "
                                          "default: the values found in the data"},
                                "encoding": {"type": "string"}, "table": {"type": "string"},
                                "crs": {"type": "string"},
                                "field_map": {"type": "string",
                                              "description": "JSON {source: target}"}}}}}}})
async def upload_version(kind: str, request: Request, runtime: RuntimeDep,
                         who: AdminDep) -> JSONResponse:
    """Validate and store a new version (not active); returns its report and change impact."""
    _kind(kind)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InputError("请使用 multipart/form-data 上传文件", "Use multipart/form-data",
                         code="request.content_type")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InputError("缺少上传文件字段 file", "Multipart body needs a `file` field",
                         code="upload.missing")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    meta, source_opts = _meta(fields)
    suffix = suffix_of(upload, "layer.geojson")
    if is_raster(kind) and suffix not in RASTER_SUFFIXES:
        raise InputError("栅格图层请上传 GeoTIFF(.tif)", "Raster layers must be GeoTIFF",
                         code="upload.unsupported_format")
    check_declared_holds(kind, meta)  # before the upload is saved
    with tempfile.TemporaryDirectory(prefix="layer-", dir=runtime.uploads()) as tmp:
        path = Path(tmp) / f"layer{suffix}"
        # streamed to disk under the limit (the form parser already spooled it to disk)
        await save_upload(upload, path, runtime.settings.max_upload_bytes)
        # a raster's header is checked before any pixel is read, and nothing is stored
        # when it is refused (spatial.layers.rasterfile)
        lv, notes = await run_in_threadpool(
            lambda: import_layer(runtime.store, kind, path, meta,
                                 loaded_by=f"{who.name} ({who.id})",
                                 source=LayerSource(path=path, **source_opts)))
    try:
        impact = await run_in_threadpool(runtime.service.impact, kind, lv.version)
    except RedlineError as exc:  # the version is stored: say so, and why there is no impact
        impact = {"error": {"code": exc.code, "message_zh": exc.message_zh,
                            "message_en": exc.message_en}}
    return JSONResponse({"version": lv.public(), "notes": notes, "impact": impact,
                         "activatable": True}, status_code=201)


def _meta(fields: dict[str, str]) -> tuple[SourceMeta, dict[str, Any]]:
    try:
        accuracy = float(fields["accuracy_m"])
        if not 0 <= accuracy <= 10_000:
            raise ValueError
    except (KeyError, ValueError) as exc:
        raise InputError("必须给出图层位置精度 accuracy_m(米，0–10000)",
                         "accuracy_m (metres, 0–10000) is required", code="layer.accuracy_required"
                         ) from exc
    if not fields.get("title", "").strip():
        raise InputError("必须给出图层名称 title", "title is required", code="layer.title_required")
    try:
        field_map = json.loads(fields.get("field_map") or "{}")
        if not isinstance(field_map, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()):
            raise ValueError
    except (ValueError, RecursionError) as exc:  # RecursionError: deeply nested JSON
        raise InputError("field_map 须为 JSON 对象 {源字段: 目标字段}", "field_map must be a JSON object",
                         code="layer.field_map_invalid") from exc
    coverage = [c.strip() for c in fields.get("coverage_adcodes", "").split(",") if c.strip()]
    try:
        holds = json.loads(fields["holds"]) if fields.get("holds", "").strip() else None
        if holds is not None and not (isinstance(holds, dict) and all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
                for k, v in holds.items())):
            raise ValueError
    except (ValueError, RecursionError) as exc:
        raise InputError("holds 须为 JSON 对象 {属性: [取值, …]}，如 {\"class\": [\"mainstem\"]}",
                         "holds must be a JSON object {attribute: [values]}",
                         code="layer.holds_invalid") from exc
    meta = SourceMeta(
        title=fields["title"].strip(), publisher=fields.get("publisher", ""),
        date=fields.get("date", ""), licence=fields.get("licence", ""),
        accuracy_m=accuracy, demo=fields.get("demo", "").lower() in ("1", "true", "yes"),
        coverage_adcodes=coverage or None, geometry_role=fields.get("geometry_role") or None,
        notes=fields.get("notes", ""), holds=holds)
    opts = {"encoding": fields.get("encoding") or None, "table": fields.get("table") or None,
            "crs": fields.get("crs") or None, "field_map": field_map}
    return meta, opts


@router.post("/layers/{kind}/activate", summary="启用版本(含回滚) / Activate a version")
def activate(kind: str, body: ActivateIn, runtime: RuntimeDep, who: AdminDep) -> dict[str, Any]:
    """Make a stored, valid version active (an older one = roll back); atomic and audited."""
    lv = runtime.store.activate(_kind(kind), body.version, actor=f"{who.name} ({who.id})")
    return {"kind": kind, "active": lv.version}


@router.post("/layers/{kind}/rollback", summary="回滚到上一版本 / Roll back")
def rollback(kind: str, runtime: RuntimeDep, who: AdminDep) -> dict[str, Any]:
    """Re-activate the version that was active before the current one."""
    lv = runtime.store.rollback(_kind(kind), actor=f"{who.name} ({who.id})")
    return {"kind": kind, "active": lv.version}


@router.get("/layers/{kind}/versions/{version}/impact", summary="变更影响 / Change impact")
def impact(kind: str, version: str, runtime: RuntimeDep, who: ReviewerDep,
           limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
    """Stored screenings whose verdict or findings would change under this version."""
    return runtime.service.impact(_kind(kind), version, limit)


@router.get("/audit", summary="审计日志 / Audit log")
def audit_log(runtime: RuntimeDep, who: AdminDep, kind: str | None = None,
              limit: int = Query(200, ge=1, le=5000)) -> dict[str, Any]:
    """Append-only log of layer and token changes, newest first."""
    return {"entries": runtime.store.audit_log(kind, limit)}
