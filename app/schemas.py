"""Request and response schemas of the HTTP API (documentation and validation)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from spatial.ruleset import Activity, Flag, Nature, ProjectType


class ProjectIn(BaseModel):
    """Project attributes as submitted."""

    model_config = ConfigDict(extra="forbid")

    industry: str | None = Field(None, max_length=16, description="GB/T 4754-2017 code, e.g. C2614",
                                 examples=["C2614"])
    nature: Nature | None = Field(None, description="new 新建 / expansion 扩建 / rebuild 改建 / "
                                                   "relocation 搬迁")
    type: ProjectType = "project"
    activity: list[Activity] = Field(default_factory=list, max_length=10)
    flags: list[Flag] = Field(default_factory=list, max_length=10)
    name: str | None = Field(None, max_length=200)


class ScreeningCreate(BaseModel):
    """A screening request with the site as GeoJSON (geometry, Feature or FeatureCollection)."""

    model_config = ConfigDict(extra="forbid")

    site: dict[str, Any] | str = Field(
        ..., description="GeoJSON geometry/Feature/FeatureCollection, or WKT text",
        examples=[{"type": "Point", "coordinates": [106.45, 29.58]}])
    crs: str | None = Field(None, max_length=200,
                            description="Site CRS: EPSG code, gcj02 or bd09; default WGS84/CGCS2000")
    radius_m: float | None = Field(None, gt=0, le=50_000, description="Point sites: radius")
    corridor_width_m: float | None = Field(None, gt=0, le=100_000,
                                           description="Line sites: corridor width")
    accuracy_m: float = Field(0.0, ge=0, le=1000, description="Positional accuracy of the site")
    project: ProjectIn = Field(default_factory=lambda: ProjectIn())


class VerdictOut(BaseModel):
    """The verdict document (DESIGN §5); fields beyond these are documented there."""

    model_config = ConfigDict(extra="allow")

    id: str
    verdict: Literal["forbid", "restrict", "pass", "indeterminate"]
    summary_zh: str
    site: dict[str, Any]
    project: dict[str, Any]
    findings: list[dict[str, Any]]
    not_evaluated: list[dict[str, Any]]
    layers: list[dict[str, Any]]
    rules_version: str
    engine_version: str
    created_at: str
    links: dict[str, str]


PROBLEM_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)


def problem_responses() -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the RFC 9457 problems any route may return."""
    return {s: {"model": Problem, "content": {"application/problem+json": {}},
                "description": "Problem details (RFC 9457) with a stable `code`"}
            for s in PROBLEM_STATUSES}


class Problem(BaseModel):
    """RFC 9457 problem details with a stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    message_zh: str
    message_en: str
    instance: str | None = None


def json_or_file_body(json_schema: str, *, accuracy: bool = True) -> dict[str, Any]:
    """OpenAPI ``requestBody`` of a route taking either JSON (``json_schema``) or a multipart
    upload with the file and the same options as form fields."""
    fields: dict[str, Any] = {
        "file": {"type": "string", "format": "binary"},
        "project": {"type": "string", "description": "ProjectIn as JSON text"},
        "crs": {"type": "string"}, "radius_m": {"type": "number"},
        "corridor_width_m": {"type": "number"}}
    if accuracy:
        fields["accuracy_m"] = {"type": "number"}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{json_schema}"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": fields}}}}}
