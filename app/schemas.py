"""Request and response schemas of the HTTP API (documentation and validation)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, get_args

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import models_json_schema

from spatial.ruleset import Activity, Flag, Nature, ProjectType
from spatial.sites.crs import CHONGQING_BOUNDS
from spatial.verdict import VerdictDocument

# -- what screens, documented so that a reader or a schema-driven generator knows --------------
# A screening or batch body is one of two alternatives (``by_crs``): without `crs` (or with a
# lon/lat one) the site is lon/lat near Chongqing; with another `crs` it is in that system.
# Not one site schema with a general branch beside the Chongqing one: a generator (schemathesis
# canonicalises the schema first) drops a branch another one subsumes, and then never draws a
# site that screens.

_W, _S, _E, _N = CHONGQING_BOUNDS
_REF = "#/components/schemas/"
LONLAT: dict[str, Any] = {
    "title": "重庆经纬度 / Lon/lat near Chongqing", "type": "array", "minItems": 2, "maxItems": 2,
    "description": f"[经度, 纬度]，WGS84/CGCS2000，重庆市范围(经度 {_W:g}–{_E:g}°，纬度 {_S:g}–{_N:g}°)",
    "prefixItems": [{"type": "number", "minimum": _W, "maximum": _E},
                    {"type": "number", "minimum": _S, "maximum": _N}]}
_POS = {"$ref": f"{_REF}ChongqingLonLat"}
_GEOM = {"$ref": f"{_REF}ChongqingGeometry"}


def _geometry(kind: str, coordinates: dict[str, Any], note: str = "") -> dict[str, Any]:
    return {"title": f"{kind}{note}", "type": "object", "required": ["type", "coordinates"],
            "properties": {"type": {"const": kind}, "coordinates": coordinates}}


def _array(items: dict[str, Any], min_items: int) -> dict[str, Any]:
    return {"type": "array", "minItems": min_items, "items": items}


_LINE, _RING = _array(_POS, 2), _array(_POS, 4)
GEOMETRY: dict[str, Any] = {
    "title": "GeoJSON 几何(重庆经纬度) / GeoJSON geometry in Chongqing lon/lat",
    "anyOf": [
        _geometry("Point", _POS, "(radius_m 为半径，缺省 50 米)"),
        _geometry("MultiPoint", _array(_POS, 1)),
        _geometry("LineString", _LINE, "(corridor_width_m 为廊道宽度，缺省 20 米)"),
        _geometry("MultiLineString", _array(_LINE, 1)),
        _geometry("Polygon", _array(_RING, 1), "(环首尾坐标相同；面积不超过 2000 平方公里)"),
        _geometry("MultiPolygon", _array(_array(_RING, 1), 1)),
        {"title": "GeometryCollection(同一维度)", "type": "object",
         "required": ["type", "geometries"],
         "properties": {"type": {"const": "GeometryCollection"}, "geometries": _array(_GEOM, 1)}},
    ]}
_FEATURE = {"title": "Feature", "type": "object", "required": ["type", "geometry"],
            "properties": {"type": {"const": "Feature"}, "geometry": _GEOM,
                           "properties": {"type": ["object", "null"]}}}
_WKT = {"title": "WKT 文本(可带 SRID=…; 前缀) / WKT text", "type": "string", "minLength": 1}
_LON_LAT_TEXT = r"(10[5-9]|110)(\.[0-9]{1,6})? (2[89]|3[0-2])(\.[0-9]{1,6})?"
_WKT_LONLAT = {
    "title": "WKT 文本(重庆经纬度) / WKT in Chongqing lon/lat", "type": "string",
    "pattern": rf"^(POINT|MULTIPOINT|LINESTRING|MULTILINESTRING|POLYGON|MULTIPOLYGON) ?\(+"
               rf"{_LON_LAT_TEXT}(\)*, ?\(*{_LON_LAT_TEXT})*\)+$"}
SITE_LONLAT: dict[str, Any] = {
    "description": "场址：GeoJSON 几何、要素或要素集合，或 WKT 文本，经纬度(经度在前)。"
                   "Site: GeoJSON geometry, Feature or FeatureCollection, or WKT, in lon/lat",
    "anyOf": [_GEOM, _FEATURE,
              {"title": "FeatureCollection", "type": "object", "required": ["type", "features"],
               "properties": {"type": {"const": "FeatureCollection"},
                              "features": _array(_FEATURE, 1)}},
              {"title": "WKT 点(重庆经纬度) / WKT point", "type": "string",
               "pattern": rf"^POINT ?\({_LON_LAT_TEXT}\)$"},
              _WKT_LONLAT],
    "examples": [{"type": "Point", "coordinates": [106.451142, 29.618444]}]}
GEOJSON_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                 "MultiPolygon", "GeometryCollection", "Feature", "FeatureCollection"]
_ANY_GEOJSON = {"title": "GeoJSON 几何、要素或要素集合", "type": "object", "required": ["type"],
                "properties": {"type": {"enum": GEOJSON_TYPES}}}
SITE_IN_CRS: dict[str, Any] = {
    "description": "场址：GeoJSON 或 WKT，坐标为 crs 所指坐标系 / GeoJSON or WKT in the `crs` given",
    "anyOf": [_ANY_GEOJSON, _WKT]}
CRS_LONLAT: dict[str, Any] = {
    "description": "不给或为经纬度坐标系：WGS84/CGCS2000 经纬度，GCJ-02(gcj02)，BD-09(bd09)",
    "anyOf": [{"enum": ["EPSG:4490", "EPSG:4326", "gcj02", "bd09"]}, {"type": "null"}]}
CRS_ANY: dict[str, Any] = {
    "description": "场址坐标系：EPSG 代码(如 EPSG:4545)、gcj02 或 bd09 / Site CRS: EPSG code, "
                   "gcj02 or bd09", "type": "string", "minLength": 1, "maxLength": 200}
#: GB/T 4754-2017: 门类字母，或门类字母 + 其下大类(2 位)[+ 中类/小类]; every catalogued code
INDUSTRY_PATTERN = (r"^([A-T]|(A0[1-5]|B(0[6-9]|1[0-2])|C(1[3-9]|[23][0-9]|4[0-3])|D4[4-6]|"
                    r"E(4[7-9]|50)|F5[12]|G(5[3-9]|60)|H6[12]|I6[3-5]|J6[6-9]|K70|L7[12]|M7[3-5]|"
                    r"N7[6-9]|O8[0-2]|P83|Q8[45]|R(8[6-9]|90)|S9[1-6]|T97)([0-9]{1,2})?)$")
INDUSTRY_SCHEMA: dict[str, Any] = {
    "description": "GB/T 4754-2017 行业代码，如 C2614；纯数字(2614)与小写也可，按同一代码处理 "
                   "(GB/T 4754-2017 code, e.g. C2614)",
    "anyOf": [{"title": "标准写法", "type": "string", "pattern": INDUSTRY_PATTERN},
              {"title": "其他写法", "type": "string", "maxLength": 16}, {"type": "null"}],
    "examples": ["C2614"]}
_SITE_PROPERTIES: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "industry/nature/type/radius_m/corridor_width_m 覆盖批量的同名选项；id 或 name 为地块标识",
    "properties": {"industry": INDUSTRY_SCHEMA, "nature": {"enum": list(get_args(Nature))},
                   "type": {"enum": list(get_args(ProjectType))},
                   "radius_m": {"type": "number", "exclusiveMinimum": 0, "maximum": 50_000},
                   "corridor_width_m": {"type": "number", "exclusiveMinimum": 0,
                                        "maximum": 100_000},
                   "id": {"type": ["string", "integer"]}, "name": {"type": "string"}}}


def _sites(geometry: dict[str, Any], note: str) -> dict[str, Any]:
    return {"description": f"GeoJSON FeatureCollection，每个要素一个地块，{note}；要素属性可覆盖项目属性",
            "type": "object", "required": ["type", "features"],
            "properties": {"type": {"const": "FeatureCollection"}, "features": _array(
                {"type": "object", "required": ["type", "geometry"],
                 "properties": {"type": {"const": "Feature"}, "geometry": geometry,
                                "properties": _SITE_PROPERTIES}}, 1)}}


#: per body model: the site property, its schema in lon/lat and in a given `crs`
BODY_SITES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "ScreeningCreate": ("site", SITE_LONLAT, SITE_IN_CRS),
    "BatchIn": ("sites", _sites(_GEOM, "经纬度"),
                _sites({"type": "object", "required": ["type"]}, "坐标为 crs 所指坐标系")),
}
EXTRA_COMPONENTS: dict[str, dict[str, Any]] = {"ChongqingLonLat": LONLAT,
                                               "ChongqingGeometry": GEOMETRY}


class ProjectIn(BaseModel):
    """Project attributes as submitted."""

    model_config = ConfigDict(extra="forbid")

    industry: Annotated[str | None, WithJsonSchema(INDUSTRY_SCHEMA)] = Field(None, max_length=16)
    nature: Nature | None = Field(None, description="new 新建 / expansion 扩建 / rebuild 改建 / "
                                                   "relocation 搬迁")
    type: ProjectType = "project"
    activity: list[Activity] = Field(default_factory=list, max_length=10)
    flags: list[Flag] = Field(default_factory=list, max_length=10)
    name: str | None = Field(None, max_length=200)


class ScreeningCreate(BaseModel):
    """A screening request with the site as GeoJSON (geometry, Feature or FeatureCollection)."""

    model_config = ConfigDict(extra="forbid")

    site: dict[str, Any] | str  # documented by BODY_SITES
    crs: str | None = Field(None, max_length=200)
    radius_m: float | None = Field(None, gt=0, le=50_000, description="Point sites: radius")
    corridor_width_m: float | None = Field(None, gt=0, le=100_000,
                                           description="Line sites: corridor width")
    accuracy_m: float = Field(0.0, ge=0, le=1000, description="Positional accuracy of the site")
    project: ProjectIn = Field(default_factory=lambda: ProjectIn())


#: the verdict document, as the engine defines it (spatial.verdict): the response model of the
#: screening routes, so the OpenAPI schema is generated from the one definition
VerdictOut = VerdictDocument


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
        "project": {"$ref": f"{_REF}ProjectIn", "description": "项目属性，JSON 文本 / ProjectIn "
                                                             "as JSON text"},
        "crs": {"type": "string", "maxLength": 200},
        "radius_m": {"type": "number", "exclusiveMinimum": 0, "maximum": 50_000},
        "corridor_width_m": {"type": "number", "exclusiveMinimum": 0, "maximum": 100_000}}
    if accuracy:
        fields["accuracy_m"] = {"type": "number", "minimum": 0, "maximum": 1000}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{json_schema}"}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": fields, "additionalProperties": False},
                                "encoding": {"project": {"contentType": "application/json"}}}}}}


def add_body_schemas(schema: dict[str, Any], models: Iterable[type[BaseModel]]) -> None:
    """Put the JSON bodies that routes parse themselves (JSON or multipart, so FastAPI never
    sees them as body parameters) into the OpenAPI ``components``, where
    ``json_or_file_body`` refers to them; nested models and enums come along."""
    _, defs = models_json_schema([(m, "validation") for m in models],
                                 ref_template=_REF + "{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, body in {**defs.get("$defs", {}), **EXTRA_COMPONENTS}.items():
        if name in BODY_SITES:
            body = by_crs(body, *BODY_SITES[name])
        components.setdefault(name, body)


def by_crs(body: dict[str, Any], prop: str, lonlat: dict[str, Any],
           in_crs: dict[str, Any]) -> dict[str, Any]:
    """A body model's schema as its two alternatives: the site ``prop`` in lon/lat (``crs``
    absent or a lon/lat system), or in the coordinate system ``crs`` names."""
    props = body["properties"]
    title = props[prop].get("title")
    return {
        "title": body.get("title"), "description": body.get("description"),
        "anyOf": [
            {**body, "title": f"{body.get('title')}(经纬度 / lon/lat)",
             "properties": {**props, prop: {"title": title, **lonlat},
                            "crs": {"title": "Crs", **CRS_LONLAT}}},
            {**body, "title": f"{body.get('title')}(其他坐标系 / in crs)",
             "properties": {**props, prop: {"title": title, **in_crs},
                            "crs": {"title": "Crs", **CRS_ANY}},
             "required": [*body.get("required", []), "crs"]},
        ]}


def install_openapi(app: FastAPI, *body_models: type[BaseModel]) -> None:
    """Have ``app.openapi()`` (and /openapi.json) include the ``body_models``' schemas."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            add_body_schemas(schema, body_models)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
