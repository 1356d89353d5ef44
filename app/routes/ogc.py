"""OGC API – Features, Part 1 (read-only) over the active layers, so QGIS and GDAL can open them.

One collection per active layer kind; items are GeoJSON in CRS84 with ``bbox``, ``limit`` and
``offset``; feature ids are 1-based positions within the active version.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlencode

import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from shapely.geometry import box, mapping

from app.deps import RuntimeDep
from app.schemas import problem_responses
from spatial.errors import NotFoundError, RedlineError
from spatial.layers.kinds import KINDS
from spatial.layers.layerset import IndexedLayer

router = APIRouter(prefix="/ogc", tags=["ogc"], responses=problem_responses())
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """JSON sent, and documented in the OpenAPI schema, as ``application/geo+json``."""

    media_type = GEOJSON


#: a feature id: 1-based, ASCII digits (``str.isdigit`` also accepts '²' and '٣'), short
FEATURE_ID = re.compile(r"[0-9]{1,18}")


class QueryParamInvalid(RedlineError, ValueError):
    """An invalid query parameter value. OGC API - Features (/req/core/query-param-invalid)
    requires 400: the error mapping (app/errors.py) answers 400 for a domain error it does not
    list, and this one is deliberately not an InputError (422)."""

    default_code = "ogc.query_invalid"


def _bbox_invalid(detail_zh: str, detail_en: str) -> QueryParamInvalid:
    return QueryParamInvalid(f"bbox 无效：{detail_zh}(格式 minLon,minLat,maxLon,maxLat，WGS84 经纬度)",
                             f"Invalid bbox: {detail_en} (minLon,minLat,maxLon,maxLat in CRS84)",
                             code="ogc.bbox_invalid")


def parse_bbox(text: str) -> list[tuple[float, float, float, float]]:
    """The lon/lat boxes of a ``bbox`` parameter: 4 numbers, or 6 with heights (ignored);
    west > east is a box across the antimeridian (OGC API - Features 1, 7.15.3): two boxes."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError as exc:
        raise _bbox_invalid("须为逗号分隔的数字", "not comma-separated numbers") from exc
    if len(values) == 6:
        west, south, bottom, east, north, top = values
        if not bottom <= top:
            raise _bbox_invalid("最低高程大于最高高程", "bottom above top")
    elif len(values) == 4:
        west, south, east, north = values
    else:
        raise _bbox_invalid(f"须为 4 个(或含高程的 6 个)数字，实为 {len(values)} 个",
                            f"needs 4 (or 6) numbers, not {len(values)}")
    if not all(math.isfinite(v) for v in values):
        raise _bbox_invalid("包含非有限数值(nan/inf)", "numbers must be finite")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90
            and -90 <= north <= 90):
        raise _bbox_invalid("超出经纬度范围", "outside -180..180, -90..90")
    if south > north:
        raise _bbox_invalid("南边界大于北边界", "south above north")
    if west > east:
        return [(west, south, 180.0, north), (-180.0, south, east, north)]
    return [(west, south, east, north)]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


@router.get("", summary="OGC API 入口 / Landing page")
def landing(request: Request) -> dict[str, Any]:
    """Links to the conformance declaration, the collections and the API definition."""
    base = _base(request)
    return {"title": "重庆生态红线筛查图层 / Chongqing red-line screening layers",
            "description": "Active protected-zone layers, read-only (OGC API - Features).",
            "links": [
                {"href": base, "rel": "self", "type": "application/json", "title": "this document"},
                {"href": str(request.base_url) + "openapi.json", "rel": "service-desc",
                 "type": "application/vnd.oai.openapi+json;version=3.0", "title": "API definition"},
                {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json",
                 "title": "conformance"},
                {"href": f"{base}/collections", "rel": "data", "type": "application/json",
                 "title": "collections"}]}


@router.get("/conformance", summary="OGC 符合性 / Conformance")
def conformance() -> dict[str, Any]:
    """The conformance classes implemented."""
    return {"conformsTo": CONFORMANCE}


def _collection(lay: IndexedLayer, base: str) -> dict[str, Any]:
    bbox = [float(v) for v in shapely.total_bounds(lay.geoms)]
    meta = lay.version.meta
    demo = "; DEMO, not legal boundaries" if meta.demo else ""
    return {
        "id": lay.kind, "title": meta.title or KINDS[lay.kind].title_zh,
        "description": f"{KINDS[lay.kind].title_zh}; version {lay.version.version}; "
                       f"accuracy ±{meta.accuracy_m:g} m{demo}",
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "itemType": "feature", "crs": [CRS84], "storageCrs": CRS84,
        "links": [
            {"href": f"{base}/collections/{lay.kind}", "rel": "self", "type": "application/json"},
            {"href": f"{base}/collections/{lay.kind}/items", "rel": "items", "type": GEOJSON}],
    }


@router.get("/collections", summary="图层集合 / Collections")
def collections(request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """One collection per active layer kind."""
    base = _base(request)
    layers = runtime.service.cache.active().layers
    return {"collections": [_collection(lay, base) for _, lay in sorted(layers.items())],
            "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}]}


def _layer(runtime: Any, collection_id: str) -> IndexedLayer:
    lay = runtime.service.cache.active().layers.get(collection_id)
    if lay is None:
        raise NotFoundError(f"没有该图层集合：{collection_id}", f"No collection {collection_id}",
                            code="ogc.collection_not_found")
    return lay


@router.get("/collections/{collection_id}", summary="图层集合 / Collection")
def collection(collection_id: str, request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    """A collection's description and extent."""
    return _collection(_layer(runtime, collection_id), _base(request))


def _feature(lay: IndexedLayer, i: int) -> dict[str, Any]:
    return {"type": "Feature", "id": i + 1, "geometry": mapping(lay.geoms[i]),
            "properties": lay.attrs[i]}


@router.get("/collections/{collection_id}/items", summary="要素 / Items",
            response_class=GeoJSONResponse)
def items(collection_id: str, request: Request, runtime: RuntimeDep,
          bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat (CRS84); 6 "
                                   "numbers with heights also; minLon > maxLon crosses the "
                                   "antimeridian"),
          limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0)
          ) -> GeoJSONResponse:
    """Features, optionally within ``bbox``, paged with ``limit``/``offset``."""
    lay = _layer(runtime, collection_id)
    if bbox:
        idx = sorted({int(i) for b in parse_bbox(bbox)
                      for i in lay.tree.query(box(*b), predicate="intersects")})
    else:
        idx = list(range(len(lay.geoms)))
    page = idx[offset:offset + limit]
    base = f"{_base(request)}/collections/{collection_id}/items"
    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
    if offset + limit < len(idx):
        query = {"limit": limit, "offset": offset + limit, **({"bbox": bbox} if bbox else {})}
        links.append({"href": f"{base}?{urlencode(query)}", "rel": "next", "type": GEOJSON})
    body = {"type": "FeatureCollection", "features": [_feature(lay, i) for i in page],
            "numberMatched": len(idx), "numberReturned": len(page), "links": links}
    return GeoJSONResponse(body)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="单个要素 / Item",
            response_class=GeoJSONResponse)
def item(collection_id: str, feature_id: str, runtime: RuntimeDep) -> GeoJSONResponse:
    """One feature by its id."""
    lay = _layer(runtime, collection_id)
    if not FEATURE_ID.fullmatch(feature_id) or not 1 <= int(feature_id) <= len(lay.geoms):
        raise NotFoundError(f"没有该要素：{feature_id}", f"No feature {feature_id}",
                            code="ogc.feature_not_found")
    return GeoJSONResponse(_feature(lay, int(feature_id) - 1))
