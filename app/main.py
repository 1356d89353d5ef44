"""Application factory: ``create_app(settings)``; no work happens at import time."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import errors, hardening
from app.limits import BodyLimit
from app.routes import batch, layers, meta, ogc, screenings, web
from app.settings import REPO_ROOT, Settings
from app.state import open_engine
from spatial import __version__


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service: validates rules and seeds the data directory before serving."""
    settings = settings or Settings()
    engine = open_engine(settings)
    app = FastAPI(
        title="重庆生态红线与环境分区管控选址筛查 / Chongqing red-line site screening",
        version=__version__,
        description="提交场址与项目属性，返回禁止/限制/通过/无法判定及逐条依据。"
                    "Demo layers are illustrative, not legal boundaries.",
    )
    app.state.engine = engine
    errors.install(app)
    app.add_middleware(BodyLimit, default_bytes=settings.max_body_bytes,
                       larger={"/api/v1/layers/": settings.max_upload_bytes,
                               "/api/v1/screenings/batch": settings.max_upload_bytes})
    hardening.install(app, settings)
    app.include_router(batch.router)  # before /screenings/{id}, which would match "batch"
    app.include_router(screenings.router)
    app.include_router(meta.router)
    app.include_router(layers.router)
    app.include_router(ogc.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=REPO_ROOT / "app" / "static"), name="static")
    engine.service.cache.active()  # index the active layers now, not on the first request
    engine.jobs().resume_interrupted()  # batch jobs of a crashed or restarted process
    return app
