"""Application factory: ``create_app(settings)``; no work happens at import time."""

from __future__ import annotations

import re
from html import escape

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, swagger_ui_default_parameters
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app import errors, hardening, schemas
from app.limits import BodyLimit
from app.routes import batch, layers, lists, meta, ogc, screenings, web
from app.settings import REPO_ROOT, Settings
from app.state import open_runtime
from spatial import __version__
from spatial.render.mapview import script_json

_SWAGGER = "/static/vendor/swagger-ui"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service: validates rules and seeds the data directory before serving."""
    settings = settings or Settings()
    runtime = open_runtime(settings)
    app = FastAPI(
        title="重庆生态红线与环境分区管控选址筛查 / Chongqing red-line site screening",
        version=__version__,
        description="提交场址与项目属性，返回禁止/限制/通过/无法判定及逐条依据。"
                    "Demo layers are illustrative, not legal boundaries.",
        docs_url=None, redoc_url=None,  # /docs is served below, offline and without inline script
    )
    app.state.runtime = runtime
    errors.install(app)
    app.add_middleware(BodyLimit, default_bytes=settings.max_body_bytes,
                       larger={"/api/v1/layers/": settings.max_upload_bytes,
                               "/api/v1/screenings/batch": settings.max_upload_bytes})
    hardening.install(app, settings)
    app.include_router(batch.router)  # before /screenings/{id}, which would match "batch"
    app.include_router(screenings.router)
    app.include_router(meta.router)
    app.include_router(layers.router)
    app.include_router(lists.router)
    app.include_router(ogc.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=REPO_ROOT / "app" / "static"), name="static")
    _install_docs(app)
    # bodies the routes parse themselves (JSON or multipart): their schemas into /openapi.json
    schemas.install_openapi(app, schemas.ScreeningCreate, batch.BatchIn)
    runtime.service.cache.active()  # index the active layers now, not on the first request
    runtime.jobs().resume_interrupted()  # batch jobs of a crashed or restarted process
    if settings.sandbox_warm:  # start the screening sandbox's workers in the background
        runtime.sandbox().warm()
    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from our own vendored copy (app/static/vendor/swagger-ui), started
    by /static/swagger-init.js from a JSON block, so the page needs no inline script."""
    assert app.openapi_url
    page = swagger_page(app.openapi_url, app.title)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)


def swagger_page(openapi_url: str, title: str) -> str:
    """FastAPI's Swagger UI page on local assets, its inline start script replaced by a JSON
    configuration block and an external script."""
    html = bytes(get_swagger_ui_html(
        openapi_url=openapi_url, title=escape(title) + " - Swagger UI",
        swagger_js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{_SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{_SWAGGER}/favicon-32x32.png",
        oauth2_redirect_url=None).body).decode()
    config = {"url": openapi_url, **swagger_ui_default_parameters}
    html, n = re.subn(r"<script>(?:(?!</script>).)*SwaggerUIBundle\((?:(?!</script>).)*</script>",
                      lambda _: (f'<script type="application/json" id="swagger-config">'
                                 f'{script_json(config)}</script>'
                                 '<script src="/static/swagger-init.js"></script>'),
                      html, flags=re.DOTALL)
    if n != 1:
        raise RuntimeError("FastAPI's Swagger UI page changed: its start script was not found")
    return html
