"""Errors as answers: one-line JSON (`{"error": message}`) with a 4xx status on /api/…, the same line
on the error page otherwise. An unexpected error is logged, and the client gets "internal error"
without a traceback. `create_app` installs `ERROR_HANDLERS`."""

from __future__ import annotations

import html

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.core.errors import CatalogError, NotFound
from catalog.web.deps import get_renderer, get_settings
from catalog.web.middleware import UploadTooLarge
from catalog.web.photos import Busy
from catalog.web.responses import json_response


async def error_response(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
    if request.url.path.startswith("/api/"):
        return json_response({"error": message}, status, headers=headers)
    render = await get_renderer(request)
    try:
        page = render("error.html", status, title=f"Error {status}", page=None, error=message)
    except Exception:  # the database itself is unreadable: a plain page still says why
        page = HTMLResponse(f"<!doctype html><title>Error</title><p>{html.escape(message)}</p>", status_code=status)
    page.headers.update(headers or {})
    return page


async def not_found(request: Request, error: NotFound):
    return await error_response(request, 404, str(error))


async def bad_request(request: Request, error: CatalogError):
    return await error_response(request, 400, str(error))


async def too_large(request: Request, error: UploadTooLarge):
    limit = (await get_settings(request)).max_upload_bytes
    return await error_response(request, 413, f"upload too large: the limit is {limit // (1024 * 1024)} MB")


async def busy(request: Request, error: Busy):
    return await error_response(request, 503, str(error), {"Retry-After": str(error.retry_after)})


async def invalid(request: Request, error: RequestValidationError):
    return await error_response(request, 400, _validation_message(error))


async def http_error(request: Request, error: StarletteHTTPException):
    message = error.detail if isinstance(error.detail, str) else "bad request"
    if error.status_code == 404 and message == "Not Found":
        message = f"no such page: {request.url.path}"
    return await error_response(request, error.status_code, message)


async def unexpected(request: Request, error: Exception):
    # Starlette re-raises it after this answer, so uvicorn logs the traceback on the server's side.
    return await error_response(request, 500, f"internal error ({type(error).__name__}); see the server's log")


ERROR_HANDLERS = {
    NotFound: not_found,
    CatalogError: bad_request,
    UploadTooLarge: too_large,
    Busy: busy,
    RequestValidationError: invalid,
    StarletteHTTPException: http_error,
    Exception: unexpected,
}


def _validation_message(error: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: `k: Input should be less than or equal to 60`."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else item.get("msg", "invalid"))
    return "; ".join(parts) or "bad request"
