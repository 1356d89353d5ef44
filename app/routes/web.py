"""The Chinese web page at ``/`` and the small JSON endpoints it needs (config, rings)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.deps import RuntimeDep
from app.schemas import problem_responses
from app.settings import REPO_ROOT
from spatial import __version__
from spatial.render.basemap import distance_rings

router = APIRouter(responses=problem_responses())
PAGE = REPO_ROOT / "app" / "static" / "index.html"


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The screening page (all scripts and styles served from /static)."""
    return FileResponse(PAGE, media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/api/v1/config", tags=["web"], summary="页面配置 / Page configuration")
def config(runtime: RuntimeDep) -> dict[str, Any]:
    """Optional base-map tiles, whether demo data is active, the versions in use."""
    active = runtime.store.active_versions()
    return {"tile_url": runtime.settings.tile_url, "tile_attribution": runtime.settings.tile_attribution,
            "demo": any(v.meta.demo for v in active.values()), "engine_version": __version__,
            "rules_version": runtime.rules.sha256,
            "layers": {k: {"version": v.version, "title": v.meta.title, "demo": v.meta.demo}
                       for k, v in sorted(active.items())}}


@router.get("/api/v1/basemap/rings", tags=["web"], summary="距离控制线 / Distance rings")
def rings(runtime: RuntimeDep) -> dict[str, Any]:
    """The buffer rings the distance rules test (e.g. 嘉陵江 1 km / 5 km), for display."""
    return runtime.service.geos(distance_rings, runtime.service.cache.active(), runtime.rules)
