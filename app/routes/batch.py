"""Batch screening: small batches answer at once, larger ones become jobs with progress,
cancel and downloadable results (GeoJSON, CSV). Reviewer token required."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.deps import RuntimeDep
from app.links import job_links, with_job_links
from app.schemas import ProjectIn, json_or_file_body, problem_responses
from app.security import ReviewerDep
from app.uploads import read_form, request_invalid, save_upload, suffix_of, upload_dir
from spatial.batch import chunks as batch
from spatial.batch.output import BatchWriter
from spatial.errors import InputError, TooLargeError

router = APIRouter(prefix="/api/v1/screenings/batch", tags=["batch"],
                   responses=problem_responses())
Mode = Literal["auto", "sync", "job"]


class BatchIn(BaseModel):
    """A FeatureCollection of sites; feature properties industry/nature/type override project."""

    model_config = ConfigDict(extra="forbid")
    sites: dict[str, Any] = Field(..., description="GeoJSON FeatureCollection")
    project: ProjectIn = Field(default_factory=lambda: ProjectIn())
    crs: str | None = Field(None, max_length=200)
    radius_m: float | None = Field(None, gt=0, le=50_000)
    corridor_width_m: float | None = Field(None, gt=0, le=100_000)


@router.post(
    "", summary="批量筛查(小批量同步返回，大批量创建任务；需审批员令牌) / Batch (reviewer)",
    responses={202: {"description": "任务已创建 / job created"}},
    openapi_extra=json_or_file_body("BatchIn", accuracy=False),
)
async def create_batch(request: Request, runtime: RuntimeDep, who: ReviewerDep,
                       mode: Annotated[Mode, Query(description="auto：小批量同步、其余建任务")]
                       = "auto") -> JSONResponse:
    """One row per site (verdict, rule ids, nearest distances, or an error row); each row equals
    screening that site alone. ``mode=auto`` answers up to ``batch_sync_max`` sites at once and
    turns larger inventories into a job (202 + Location)."""
    settings = runtime.settings
    features, opts = await _read_batch(request, settings.max_upload_bytes)
    if len(features) > settings.batch_max_sites:
        raise TooLargeError(f"一个批量任务最多 {settings.batch_max_sites} 个地块，请拆分",
                            f"At most {settings.batch_max_sites} sites per batch",
                            code="batch.too_large")
    if mode == "sync" and len(features) > settings.batch_sync_max:
        raise TooLargeError(f"同步批量筛查最多 {settings.batch_sync_max} 个地块，请改用任务(mode=job)",
                            f"At most {settings.batch_sync_max} sites per synchronous batch",
                            code="batch.too_large")
    if mode == "sync" or (mode == "auto" and len(features) <= settings.batch_sync_max):
        # screened in the sandbox: bounded in time and memory like a single screening
        rows = await runtime.sandboxed("batch_rows", features, opts)
        return JSONResponse({"total": len(rows), "counts": batch.counts(rows), "rows": rows})
    job = await run_in_threadpool(runtime.jobs().submit, features, opts, created_by=who.name)
    return JSONResponse(with_job_links(job), status_code=202,
                        headers={"Location": job_links(job["id"])["self"]})


@router.get("", summary="批量任务列表 / Batch jobs")
def list_jobs(runtime: RuntimeDep, who: ReviewerDep,
              limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Most recent jobs first, with their progress."""
    return [with_job_links(j) for j in runtime.jobs().list(limit)]


@router.get("/{job_id}", summary="批量任务进度 / Batch job status")
def job_status(job_id: str, runtime: RuntimeDep, who: ReviewerDep) -> dict[str, Any]:
    """done/total, rate (sites/s), ETA (s), counts per verdict and result links."""
    return with_job_links(runtime.jobs().status(job_id))


@router.post("/{job_id}/cancel", summary="取消批量任务 / Cancel a batch job")
def cancel_job(job_id: str, runtime: RuntimeDep, who: ReviewerDep) -> dict[str, Any]:
    """Stop a queued or running job; rows finished so far stay available."""
    return with_job_links(runtime.jobs().cancel(job_id))


@router.get("/{job_id}/results", summary="批量任务结果(GeoJSON/CSV) / Batch results",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}}})
def job_results(job_id: str, runtime: RuntimeDep, who: ReviewerDep,
                format: Literal["geojson", "csv"] = Query("geojson")) -> StreamingResponse:
    """The rows finished so far, in site order; ``Redline-Complete: false`` while running."""
    jobs = runtime.jobs()
    status = jobs.status(job_id)
    rows = jobs.rows(job_id)

    def chunks() -> Any:
        buf = _Buffer()
        writer = BatchWriter(None, format, stream=buf)  # type: ignore[arg-type]
        yield buf.take()
        for row in rows:
            writer.write([row])
            if buf.size() > 65536:
                yield buf.take()
        writer.end()
        yield buf.take()

    media = "text/csv; charset=utf-8" if format == "csv" else "application/geo+json"
    name = f"redline-batch-{job_id}.{format}"
    return StreamingResponse(chunks(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Redline-Complete": "true" if status["status"] == "done" else "false"})


class _Buffer:
    """A text sink that hands out what was written since the last ``take``."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        """Nothing to flush."""

    def size(self) -> int:
        return sum(len(p) for p in self.parts)

    def take(self) -> bytes:
        out = "".join(self.parts).encode("utf-8")
        self.parts.clear()
        return out


async def _read_batch(request: Request, limit: int) -> tuple[list[Any], batch.BatchOptions]:
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith("multipart/form-data"):
        return await _from_multipart(request, limit)
    if not (ctype.startswith("application/json") or not ctype):
        raise InputError("不支持的内容类型，请使用 application/json 或 multipart/form-data",
                         f"Unsupported content type: {ctype}", code="request.content_type")
    raw = await request.body()
    try:  # up to REDLINE_MAX_UPLOAD_BYTES of JSON: parse off the event loop
        body = await run_in_threadpool(BatchIn.model_validate_json, raw)
    except ValidationError as exc:
        raise request_invalid(exc) from exc
    features = batch.features_of(body.sites)
    return features, batch.BatchOptions(body.project.model_dump(exclude_none=True), body.crs,
                                        body.radius_m, body.corridor_width_m)


async def _from_multipart(request: Request, limit: int) -> tuple[list[Any], batch.BatchOptions]:
    upload, fields, project = await read_form(request)
    try:
        body = BatchIn.model_validate({"sites": {}, **fields})
    except ValidationError as exc:
        raise request_invalid(exc) from exc
    with tempfile.TemporaryDirectory(prefix="batch-", dir=upload_dir(request)) as tmp:
        path = Path(tmp) / f"sites{suffix_of(upload, 'sites.geojson')}"
        await save_upload(upload, path, limit)
        features, file_crs = await run_in_threadpool(batch.read_sites, path)
    return features, batch.BatchOptions(project, body.crs or file_crs, body.radius_m,
                                        body.corridor_width_m)
