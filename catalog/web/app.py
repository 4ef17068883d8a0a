"""`catalog serve`: web pages and a JSON API over one `Catalog`, the library's second face.

Every handler parses the request, calls one `Catalog` method and renders its result, a template
for pages (catalog/web/pages.py) or the result's `to_dict()` (what `--json` prints) for the API
(catalog/web/api.py). Handlers are given the `Catalog` with `Depends` (catalog/web/deps.py); this
module only assembles the app: what it keeps on `app.state`, middlewares, error handlers, routers,
and what runs while it lives (the run opened off the loop, the metrics' run gauges kept current).

Safe by default (docs/serve.md): the app only reads (no ingest, remove or rollback over HTTP);
with a token, nothing but /healthz and the static files answers without it (catalog/web/auth.py);
every value reaches a page through Jinja2 with autoescape on; an upload is capped in bytes here
(BodyLimit, catalog/web/middleware.py) and decoded by content with the ingest's own photo rules
(pixel cap, bomb check) in the library, from memory, never from a path a request names; photo
encodes queue a bounded number deep (catalog/web/photos.py). Errors are one-line JSON with a 4xx
status on /api/… and the same line on the page otherwise; an unexpected error is logged, and the
client gets "internal error" without a traceback (catalog/web/errors.py).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from catalog.api import Catalog
from catalog.web import api, docs, ops, pages
from catalog.web.auth import TokenAuth
from catalog.web.deps import Settings
from catalog.web.errors import ERROR_HANDLERS
from catalog.web.middleware import BodyLimit, SecurityHeaders
from catalog.web.observe import Observe, configure_access_log, forget_dead_workers, observe_run
from catalog.web.photos import PhotoQueue
from catalog.web.responses import page_templates

STATIC = Path(__file__).parent / "static"
WATCH_SECONDS = 1.0  # how often a worker refreshes its run gauges (and looks for a newer run)


def create_app(catalog: Catalog, settings: Settings | None = None) -> FastAPI:
    """The ASGI app over `catalog` (a `catalog.Catalog`, ideally opened with `memory=True, follow=...`)."""
    settings = settings or Settings()
    app = FastAPI(
        title="catalog",
        summary="Recommendations from linked image and graph latent spaces, over HTTP.",
        description="Every endpoint mirrors a `catalog` command and returns the document its `--json` prints. "
        'Errors are `{"error": message}` with a 4xx status (503 with `Retry-After` when the photo queue is full).'
        + (" Every request needs the header `Authorization: Bearer <token>`." if settings.token else ""),
        version=_version(),
        docs_url=None,  # our own page (catalog/web/docs.py), with Swagger UI served from the package
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    # What the handlers are given (catalog/web/deps.py) and the error handlers read.
    app.state.catalog = catalog
    app.state.settings = settings
    app.state.templates = page_templates()
    app.state.photos = PhotoQueue(settings.photo_queue)
    app.state.unavailable = None
    # Mounted before /static, which would otherwise take /static/docs/... too.
    app.mount("/static/docs", StaticFiles(directory=docs.swagger_ui_folder()), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Added last is outermost: Observe times and counts everything (401s included), the security
    # headers go on every answer, the token is checked before an upload is read, and BodyLimit
    # counts the body of an authorised request.
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    if settings.token:
        app.add_middleware(TokenAuth, token=settings.token)
        _declare_bearer(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Observe, access_log=settings.access_log)
    if settings.access_log:
        configure_access_log()
    for error, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(error, handler)
    app.include_router(ops.router)
    app.include_router(docs.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Before the first request: the committed run opened (and copied into memory) in a thread, so
    no request ever waits for it on the loop. While serving: the run gauges, refreshed every second."""
    catalog = app.state.catalog
    forget_dead_workers()
    try:
        await run_in_threadpool(observe_run, catalog)
    except Exception as error:  # /healthz says why; requests try again (and answer with the error)
        app.state.unavailable = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        logging.getLogger("catalog").error("cannot open %s: %s", catalog.path, app.state.unavailable)
    watcher = asyncio.create_task(_watch(app))
    try:
        yield
    finally:
        watcher.cancel()


async def _watch(app: FastAPI) -> None:
    catalog = app.state.catalog
    while True:
        await asyncio.sleep(WATCH_SECONDS)
        try:
            await run_in_threadpool(observe_run, catalog)
            app.state.unavailable = None
        except Exception as error:  # logged by /healthz's answer; keep serving what is loaded
            logging.getLogger("catalog").debug("run gauges not refreshed: %s", error)


def _declare_bearer(app: FastAPI) -> None:
    """The OpenAPI document says every operation takes a bearer token (the docs page's Authorize)."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = plain()
            schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
                "type": "http",
                "scheme": "bearer",
                "description": "The server's --token / CATALOG_TOKEN.",
            }
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _version() -> str:
    from catalog import __version__

    return __version__
