"""OGC API – Features, Part 1 (read-only) over the active layers, so QGIS and GDAL can open them.

One collection per active layer kind; items are GeoJSON in CRS84 with ``bbox``, ``limit`` and
``offset``; feature ids are 1-based positions within the active version.
"""

from __future__ import annotations

from typing import Any

import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from shapely.geometry import box, mapping

from app.deps import EngineDep
from app.schemas import problem_responses
from spatial.errors import InputError, NotFoundError
from spatial.layerkinds import KINDS
from spatial.layerset import IndexedLayer

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
def collections(request: Request, engine: EngineDep) -> dict[str, Any]:
    """One collection per active layer kind."""
    base = _base(request)
    layers = engine.service.cache.active().layers
    return {"collections": [_collection(lay, base) for _, lay in sorted(layers.items())],
            "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json"}]}


def _layer(engine: Any, collection_id: str) -> IndexedLayer:
    lay = engine.service.cache.active().layers.get(collection_id)
    if lay is None:
        raise NotFoundError(f"没有该图层集合：{collection_id}", f"No collection {collection_id}",
                            code="ogc.collection_not_found")
    return lay


@router.get("/collections/{collection_id}", summary="图层集合 / Collection")
def collection(collection_id: str, request: Request, engine: EngineDep) -> dict[str, Any]:
    """A collection's description and extent."""
    return _collection(_layer(engine, collection_id), _base(request))


def _feature(lay: IndexedLayer, i: int) -> dict[str, Any]:
    return {"type": "Feature", "id": i + 1, "geometry": mapping(lay.geoms[i]),
            "properties": lay.attrs[i]}


@router.get("/collections/{collection_id}/items", summary="要素 / Items",
            response_class=GeoJSONResponse)
def items(collection_id: str, request: Request, engine: EngineDep,
          bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat"),
          limit: int = Query(100, ge=1, le=10_000), offset: int = Query(0, ge=0)
          ) -> GeoJSONResponse:
    """Features, optionally within ``bbox``, paged with ``limit``/``offset``."""
    lay = _layer(engine, collection_id)
    if bbox:
        try:
            west, south, east, north = (float(v) for v in bbox.split(","))
        except ValueError as exc:
            raise InputError("bbox 须为 minLon,minLat,maxLon,maxLat", "bbox must be 4 numbers",
                             code="ogc.bbox_invalid") from exc
        idx = sorted(int(i) for i in lay.tree.query(box(west, south, east, north),
                                                    predicate="intersects"))
    else:
        idx = list(range(len(lay.geoms)))
    page = idx[offset:offset + limit]
    base = f"{_base(request)}/collections/{collection_id}/items"
    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
    if offset + limit < len(idx):
        query = f"limit={limit}&offset={offset + limit}" + (f"&bbox={bbox}" if bbox else "")
        links.append({"href": f"{base}?{query}", "rel": "next", "type": GEOJSON})
    body = {"type": "FeatureCollection", "features": [_feature(lay, i) for i in page],
            "numberMatched": len(idx), "numberReturned": len(page), "links": links}
    return GeoJSONResponse(body)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="单个要素 / Item",
            response_class=GeoJSONResponse)
def item(collection_id: str, feature_id: str, engine: EngineDep) -> GeoJSONResponse:
    """One feature by its id."""
    lay = _layer(engine, collection_id)
    if not feature_id.isdigit() or not 1 <= int(feature_id) <= len(lay.geoms):
        raise NotFoundError(f"没有该要素：{feature_id}", f"No feature {feature_id}",
                            code="ogc.feature_not_found")
    return GeoJSONResponse(_feature(lay, int(feature_id) - 1))
