"""三线一单 access lists (生态环境准入清单): upload a version (validated, not yet live), activate,
roll back, validation report and change impact, like a layer. Changes need a gis_admin token."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.datastructures import UploadFile

from app.deps import RuntimeDep
from app.routes.layers import ActivateIn
from app.schemas import problem_responses
from app.security import AdminDep, ReviewerDep
from app.uploads import save_upload, suffix_of
from spatial.errors import InputError, NotFoundError, RedlineError
from spatial.layers.accesslist import KIND, SUFFIXES, import_access_list
from spatial.layers.store import SourceMeta
from spatial.render.report import render_validation

router = APIRouter(prefix="/api/v1/lists", tags=["access lists"], responses=problem_responses())


@router.get("", summary="准入清单版本历史 / Access-list history")
def history(runtime: RuntimeDep) -> dict[str, Any]:
    """All stored list versions and the active one."""
    active = runtime.store.active_versions().get(KIND)
    return {"kind": KIND, "active": active.version if active else None,
            "versions": [v.public() for v in runtime.store.versions(KIND)],
            "activations": [e for e in runtime.store.audit_log(KIND)
                            if e["action"] == "activate"]}


@router.get("/units/{code}", summary="单元准入清单 / A unit's requirements")
def unit(code: str, runtime: RuntimeDep) -> dict[str, Any]:
    """The requirements the active list holds for one control unit."""
    access = runtime.service.layers().tables.get(KIND)
    if access is None:
        raise NotFoundError("没有启用的准入清单", "No access list is active",
                            code="list.none_active")
    rows = access.by_unit.get(code)
    if not rows:
        raise NotFoundError(f"启用的准入清单没有单元 {code}", f"No requirements for unit {code}",
                            code="list.unit_unknown")
    return {"unit_code": code, "version": access.version.version,
            "requirements": [{**r.checklist_item(), "row": r.row, "verdict": r.verdict,
                              "checked": r.when is not None} for r in rows]}


@router.get("/versions/{version}", summary="版本详情 / Version")
def get_version(version: str, runtime: RuntimeDep) -> dict[str, Any]:
    """One version's metadata and validation report."""
    return runtime.store.get_version(KIND, version).public()


@router.get("/versions/{version}/report", response_class=HTMLResponse,
            summary="校验报告 / Validation report (HTML)")
def validation_report(version: str, runtime: RuntimeDep) -> HTMLResponse:
    """The validation report as a readable page."""
    return HTMLResponse(render_validation(runtime.store.get_version(KIND, version).public()))


@router.post("/versions", status_code=201, summary="上传准入清单 / Upload a list",
             openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
                 "schema": {"type": "object", "required": ["file", "title"], "properties": {
                     "file": {"type": "string", "format": "binary",
                              "description": "xlsx, or CSV in UTF-8 or GBK"},
                     "title": {"type": "string"}, "publisher": {"type": "string"},
                     "date": {"type": "string"}, "licence": {"type": "string"},
                     "demo": {"type": "boolean"}, "notes": {"type": "string"},
                     "encoding": {"type": "string"},
                     "field_map": {"type": "string", "description": "JSON {源表头: 字段}"}}}}}}})
async def upload(request: Request, runtime: RuntimeDep, who: AdminDep) -> JSONResponse:
    """Validate and store a new list version (not active); returns it and its change impact."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InputError("请使用 multipart/form-data 上传文件", "Use multipart/form-data",
                         code="request.content_type")
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise InputError("缺少上传文件字段 file", "Multipart body needs a `file` field",
                         code="upload.missing")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not fields.get("title", "").strip():
        raise InputError("必须给出清单名称 title", "title is required", code="layer.title_required")
    try:
        field_map = json.loads(fields.get("field_map") or "{}")
        if not isinstance(field_map, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()):
            raise ValueError
    except (ValueError, RecursionError) as exc:
        raise InputError("field_map 须为 JSON 对象 {源表头: 字段}", "field_map must be a JSON object",
                         code="layer.field_map_invalid") from exc
    suffix = suffix_of(file, "list.csv")
    if suffix not in SUFFIXES:
        raise InputError("准入清单请上传 xlsx 或 csv 文件", "Upload an .xlsx or .csv file",
                         code="upload.unsupported_format")
    meta = SourceMeta(title=fields["title"].strip(), publisher=fields.get("publisher", ""),
                      date=fields.get("date", ""), licence=fields.get("licence", ""),
                      demo=fields.get("demo", "").lower() in ("1", "true", "yes"),
                      notes=fields.get("notes", ""))
    with tempfile.TemporaryDirectory(prefix="list-", dir=runtime.uploads()) as tmp:
        path = Path(tmp) / f"list{suffix}"
        await save_upload(file, path, runtime.settings.max_upload_bytes)
        lv = await run_in_threadpool(import_access_list, runtime.store, path, meta,
                                     runtime.rules.catalogue, loaded_by=f"{who.name} ({who.id})",
                                     encoding=fields.get("encoding") or None,
                                     field_map=field_map)
    try:
        impact_ = await run_in_threadpool(runtime.service.impact, KIND, lv.version)
    except RedlineError as exc:
        impact_ = {"error": {"code": exc.code, "message_zh": exc.message_zh,
                             "message_en": exc.message_en}}
    return JSONResponse({"version": lv.public(), "impact": impact_, "activatable": True},
                        status_code=201)


@router.post("/activate", summary="启用清单版本(含回滚) / Activate a list version")
def activate(body: ActivateIn, runtime: RuntimeDep, who: AdminDep) -> dict[str, Any]:
    """Make a stored, valid list version active; atomic and audited."""
    lv = runtime.store.activate(KIND, body.version, actor=f"{who.name} ({who.id})")
    return {"kind": KIND, "active": lv.version}


@router.post("/rollback", summary="回滚到上一版本 / Roll back")
def rollback(runtime: RuntimeDep, who: AdminDep) -> dict[str, Any]:
    """Re-activate the list version that was active before the current one."""
    lv = runtime.store.rollback(KIND, actor=f"{who.name} ({who.id})")
    return {"kind": KIND, "active": lv.version}


@router.get("/versions/{version}/impact", summary="变更影响 / Change impact")
def impact(version: str, runtime: RuntimeDep, who: ReviewerDep,
           limit: int = Query(500, ge=1, le=5000)) -> dict[str, Any]:
    """Stored screenings whose verdict or findings would change under this list version."""
    return runtime.service.impact(KIND, version, limit)
