"""What a handler is given, with FastAPI's `Depends`: the `Catalog`, the settings and the page
renderer, from what `create_app` stored on `app.state`; and `answer`, how a handler calls the library.

The providers are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool,
a hop per request that `answer` exists to avoid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from catalog.api import Catalog
from catalog.web.photos import DEFAULT_WAITING, PhotoQueue
from catalog.web.responses import PageRenderer

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a phone photo is 2-8 MB; the largest the decoder accepts (89 MP) fits


@dataclass(frozen=True)
class Settings:
    """The server's settings (`catalog serve` options), on `app.state.settings`. Its repr never
    shows the token (a settings object ends up in logs and tracebacks)."""

    max_upload_bytes: int = MAX_UPLOAD_BYTES
    token: str | None = field(default=None, repr=False)
    photo_queue: int = DEFAULT_WAITING  # photo requests that may wait for the encoder beyond the one it encodes
    access_log: bool = False

    def __repr__(self) -> str:
        token = "REDACTED" if self.token else None
        return (
            f"Settings(max_upload_bytes={self.max_upload_bytes}, token={token}, "
            f"photo_queue={self.photo_queue}, access_log={self.access_log})"
        )


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_renderer(request: Request) -> PageRenderer:
    return PageRenderer(request.app.state.templates, request.app.state.catalog)


CatalogDep = Annotated[Catalog, Depends(get_catalog)]
RendererDep = Annotated[PageRenderer, Depends(get_renderer)]


async def answer(catalog: Catalog, method, *args, **kwargs):
    """Run a library call. Answered from memory with nothing to read (`Catalog.answers_from_memory`:
    the run is in memory, and a `where=` filter's rows were found before), on the event loop: the
    call takes well under a millisecond of numpy, less than handing it to a worker thread and back
    costs on a busy machine (p99 465 -> 120 ms at 50 clients; docs/serve.md). Anything else reads
    LanceDB (a new filter is counted and evaluated there; `--no-memory` queries it every time) and
    runs in the thread pool, so it never holds up the requests the loop is answering."""
    if catalog.answers_from_memory(kwargs.get("where")):
        return method(*args, **kwargs)
    return await run_in_threadpool(method, *args, **kwargs)


async def get_photos(request: Request) -> PhotoQueue:
    return request.app.state.photos


PhotosDep = Annotated[PhotoQueue, Depends(get_photos)]
