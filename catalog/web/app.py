"""`catalog serve`: web pages and a JSON API over one `Catalog`, the library's second face.

Every handler parses the request, calls one `Catalog` method and renders its result, a template
for pages (catalog/web/pages.py) or the result's `to_dict()` (what `--json` prints) for the API
(catalog/web/api.py). Handlers are given the `Catalog` with `Depends` (catalog/web/deps.py); this
module only assembles the app: what it keeps on `app.state`, middlewares, error handlers, routers.

Safe by default (docs/serve.md): the app only reads (no ingest, remove or rollback over HTTP);
every value reaches a page through Jinja2 with autoescape on; an upload is capped in bytes here
(BodyLimit, catalog/web/middleware.py) and decoded by content with the ingest's own photo rules
(pixel cap, bomb check) in the library, from memory, never from a path a request names. Errors
are one-line JSON with a 4xx status on /api/… and the same line on the page otherwise; an
unexpected error is logged, and the client gets "internal error" without a traceback
(catalog/web/errors.py).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from catalog.api import Catalog
from catalog.web import api, pages
from catalog.web.deps import MAX_UPLOAD_BYTES, Settings
from catalog.web.errors import ERROR_HANDLERS
from catalog.web.middleware import BodyLimit, SecurityHeaders
from catalog.web.responses import page_templates

STATIC = Path(__file__).parent / "static"


def create_app(catalog: Catalog, *, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> FastAPI:
    """The ASGI app over `catalog` (a `catalog.Catalog`, ideally opened with `memory=True, follow=...`)."""
    app = FastAPI(
        title="catalog",
        summary="Recommendations from linked image and graph latent spaces, over HTTP.",
        description="Every endpoint mirrors a `catalog` command and returns the document its `--json` prints. "
        'Errors are `{"error": message}` with a 4xx status.',
        version=_version(),
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    # What the handlers are given (catalog/web/deps.py) and the error handlers read.
    app.state.catalog = catalog
    app.state.settings = Settings(max_upload_bytes=max_upload_bytes)
    app.state.templates = page_templates()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Added last is outermost: BodyLimit's early 413 gets the security headers too.
    app.add_middleware(BodyLimit, max_bytes=max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    for error, handler in ERROR_HANDLERS.items():
        app.add_exception_handler(error, handler)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _version() -> str:
    from catalog import __version__

    return __version__
