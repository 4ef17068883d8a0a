"""What a handler is given, with FastAPI's `Depends`: the `Catalog`, the settings and the page
renderer, from what `create_app` stored on `app.state`; and `answer`, how a handler calls the library.

The providers are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool,
a hop per request that `answer` exists to avoid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from catalog.api import Catalog
from catalog.web.responses import PageRenderer

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a phone photo is 2-8 MB; the largest the decoder accepts (89 MP) fits


@dataclass(frozen=True)
class Settings:
    """The server's settings (`catalog serve` options), on `app.state.settings`."""

    max_upload_bytes: int = MAX_UPLOAD_BYTES


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_renderer(request: Request) -> PageRenderer:
    return PageRenderer(request.app.state.templates, request.app.state.catalog)


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
RendererDep = Annotated[PageRenderer, Depends(get_renderer)]


async def answer(catalog: Catalog, method, *args, **kwargs):
    """Run a library call. From memory (`Catalog(memory=True)`), on the event loop: the call
    takes well under a millisecond of numpy, less than handing it to a worker thread and back
    costs on a busy machine (p99 465 -> 120 ms at 50 clients; docs/serve.md). Otherwise (each
    call a LanceDB query) in the thread pool, so calls overlap while LanceDB works."""
    if catalog.memory:
        return method(*args, **kwargs)
    return await run_in_threadpool(method, *args, **kwargs)
