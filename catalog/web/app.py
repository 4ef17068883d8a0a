"""`catalog serve`: web pages and a JSON API over one `Catalog`, the library's second face.

Every handler parses the request, calls one `Catalog` method and renders its result, a template
for pages or the result's `to_dict()` (what `--json` prints) for the API. Nothing else lives here.

Safe by default (docs/serve.md): the app only reads (no ingest, remove or rollback over HTTP);
every value reaches a page through Jinja2 with autoescape on; an upload is capped in bytes here
and decoded by content with the ingest's own photo rules (pixel cap, bomb check) in the library,
from memory, never from a path a request names. Errors are one-line JSON with a 4xx status on
/api/… and the same line on the page otherwise; an unexpected error is logged, and the client
gets "internal error" without a traceback.
"""

from __future__ import annotations

import json
import math
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.core.columns import ATTRIBUTE_COLUMNS, SHORT_NAMES
from catalog.core.errors import CatalogError, NotFound
from catalog.core.spaces import SPACE_HEADINGS

HERE = Path(__file__).parent

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a phone photo is 2-8 MB; the largest the decoder accepts (89 MP) fits
MAX_K = 60
# space: (heading, what it is), from the --html page's headings ("Rec: photo → ... → graph space")
SPACE_TITLES = {space: tuple(heading.split(": ", 1)) for space, heading in SPACE_HEADINGS.items()}
K = Annotated[int, Query(ge=1, le=MAX_K, description="How many results.")]


class UploadTooLarge(Exception):
    pass


def create_app(catalog, *, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> FastAPI:
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
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    templates.globals.update(SHORT=SHORT_NAMES, SPACE_TITLES=SPACE_TITLES, ATTRIBUTE_COLUMNS=ATTRIBUTE_COLUMNS)
    templates.filters["when"] = _when
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(BodyLimit, max_bytes=max_upload_bytes)
    app.add_middleware(SecurityHeaders)

    async def answer(method, *args, **kwargs):
        """Run a library call. From memory (`Catalog(memory=True)`), on the event loop: the call
        takes well under a millisecond of numpy, less than handing it to a worker thread and back
        costs on a busy machine (p99 465 -> 120 ms at 50 clients; docs/serve.md). Otherwise (each
        call a LanceDB query) in the thread pool, so calls overlap while LanceDB works."""
        if catalog.memory:
            return method(*args, **kwargs)
        return await run_in_threadpool(method, *args, **kwargs)

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("error", None)
        context.setdefault("run", catalog.run)
        return HTMLResponse(templates.get_template(name).render(**context), status_code=status)

    # -- errors ---------------------------------------------------------------------------------

    def error_response(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return json_response({"error": message}, status)
        try:
            return page("error.html", status, title=f"Error {status}", page=None, error=message)
        except Exception:  # the database itself is unreadable: a plain page still says why
            return HTMLResponse(f"<!doctype html><title>Error</title><p>{_escape(message)}</p>", status_code=status)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound):
        return error_response(request, 404, str(error))

    @app.exception_handler(CatalogError)
    async def bad_request(request: Request, error: CatalogError):
        return error_response(request, 400, str(error))

    @app.exception_handler(UploadTooLarge)
    async def too_large(request: Request, error: UploadTooLarge):
        return error_response(request, 413, f"upload too large: the limit is {max_upload_bytes // (1024 * 1024)} MB")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        return error_response(request, 400, _validation_message(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        message = error.detail if isinstance(error.detail, str) else "bad request"
        if error.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path}"
        return error_response(request, error.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        # Starlette re-raises it after this answer, so uvicorn logs the traceback on the server's side.
        return error_response(request, 500, f"internal error ({type(error).__name__}); see the server's log")

    # -- JSON API -------------------------------------------------------------------------------

    @app.get("/api/similar/{id}", tags=["api"], summary="catalog similar ID")
    async def api_similar(id: int, k: K = 6, space: str = "rec", where: str | None = None):
        """Products most similar to a catalog product, in one space (`rec`, `image`, `graph`) or `all`."""
        return json_response((await answer(catalog.similar, id, k=k, space=space, where=where)).to_dict())

    @app.get("/api/query", tags=["api"], summary="catalog query --id ID [--plus ...] [--minus ...]")
    async def api_query(
        id: Annotated[list[int], Query()],
        plus: Annotated[list[str], Query()] = [],  # noqa: B006
        minus: Annotated[list[str], Query()] = [],  # noqa: B006
        where: str | None = None,
        k: K = 6,
    ):
        """Search the graph space from one or more products, with weighted attribute arithmetic
        (`plus=green:2&plus=shoes&minus=topwear`)."""
        return json_response((await answer(catalog.query, ids=id, plus=plus, minus=minus, where=where, k=k)).to_dict())

    @app.post("/api/query", tags=["api"], summary="catalog query --image PHOTO [--plus ...] [--minus ...]")
    async def api_query_photo(request: Request):
        """The same from a photo: a multipart form with `image` (the file) and `plus`, `minus`, `where`, `k` fields."""
        form = await read_form(request)
        image = await upload(form, "image")
        result = await run_in_threadpool(
            catalog.query,
            image=image,
            plus=form.getlist("plus"),
            minus=form.getlist("minus"),
            where=form.get("where") or None,
            k=_int(form.get("k"), 6, 1, MAX_K, "k"),
        )
        return json_response(result.to_dict())

    @app.get("/api/infer", tags=["api"], summary="catalog infer --id ID")
    def api_infer(id: int, top: Annotated[int, Query(ge=1, le=50)] = 3):
        """The likely attributes of a product's photo, `top` values per column, beside its catalog values."""
        return json_response(catalog.infer(id=id, top=top).to_dict())

    @app.post("/api/infer", tags=["api"], summary="catalog infer --image PHOTO")
    async def api_infer_photo(request: Request):
        """The likely attributes of a photo: a multipart form with `image` and optionally `top`."""
        form = await read_form(request)
        image = await upload(form, "image")
        result = await run_in_threadpool(catalog.infer, image=image, top=_int(form.get("top"), 3, 1, 50, "top"))
        return json_response(result.to_dict())

    @app.get("/api/products/{id}", tags=["api"], summary="catalog show ID")
    async def api_product(id: int):
        """One product: its values, photo or not, node-vector source, run, and attribute degrees."""
        return json_response((await answer(catalog.product, id)).to_dict())

    @app.get("/api/products", tags=["api"], summary="browse products")
    async def api_products(
        request: Request,
        q: str = "",
        page: Annotated[int, Query(ge=1)] = 1,
        per_page: Annotated[int, Query(ge=1, le=200)] = 24,
    ):
        """Products whose name holds every word of `q` (or whose id is `q`), filtered by attribute
        columns given as further parameters (`gender=Women&season=Summer`), a page at a time."""
        found = await answer(catalog.browse, q, column_filters(request), page=page, per_page=per_page)
        return json_response(found.to_dict())

    @app.get("/api/attributes", tags=["api"], summary="catalog attributes [COLUMN]")
    def api_attributes(column: str | None = None):
        """Every attribute value with its product count (one column: short names like `colour` work)."""
        return json_response(catalog.attributes(column).to_dict())

    @app.get("/api/info", tags=["api"], summary="catalog info")
    def api_info():
        """Counts, encoder, node2vec and linker parameters and metrics, versions, disk use."""
        return json_response(catalog.info().to_dict())

    @app.get("/api/history", tags=["api"], summary="catalog history")
    def api_history():
        """The runs (ingest, remove, rebuild, rollback), oldest first."""
        return json_response(catalog.history().to_dict())

    @app.post("/api/photo", tags=["api"], summary="a photo's Rec and image-space results and inferred attributes")
    async def api_photo(request: Request):
        """What the Photo page shows: a multipart form with `image`, optionally `k` and `top`."""
        form = await read_form(request)
        image = await upload(form, "image")
        result = await run_in_threadpool(
            catalog.photo, image, k=_int(form.get("k"), 6, 1, MAX_K, "k"), top=_int(form.get("top"), 3, 1, 50, "top")
        )
        return json_response(result.to_dict())

    # -- pages ----------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def browse_page(request: Request, q: str = "", page_number: Annotated[int, Query(alias="page", ge=1)] = 1):
        filters = column_filters(request)
        result = catalog.browse(q, filters, page=page_number, per_page=24)

        def page_url(n: int) -> str:
            return "/?" + urlencode({**({"q": q} if q else {}), **filters, "page": n})

        return page(
            "browse.html",
            title="Browse",
            page="Browse",
            result=result,
            q=q,
            filters=filters,
            choices=attribute_choices(),
            page_url=page_url,
        )

    @app.get("/product/{id}", response_class=HTMLResponse, include_in_schema=False)
    async def product_page(id: int):
        return await answer(product_view, id)

    def product_view(id: int) -> HTMLResponse:
        product = catalog.product(id)
        results = catalog.similar(id, k=6, space="all")
        row = {"id": product.id, **product.values, **product.to_dict()}
        missing = None
        if not product.has_image:
            missing = "This product has no photo, so it has no image or Rec vector: only the graph space is shown."
        ordered = {space: results.results[space] for space in ("image", "graph", "rec") if space in results.results}
        return page(
            "product.html",
            title=product.name or f"product {id}",
            page=None,
            product=row,
            results=ordered,
            target=results.query.target(),
            missing=missing,
        )

    @app.get("/arithmetic", response_class=HTMLResponse, include_in_schema=False)
    def arithmetic_page(request: Request):
        params = request.query_params
        form = ArithmeticForm.parse(
            params.get("id"), params.getlist("plus"), params.getlist("minus"), params.get("where"), params.get("k")
        )
        return arithmetic(form, None)

    @app.post("/arithmetic", response_class=HTMLResponse, include_in_schema=False)
    async def arithmetic_post(request: Request):
        data = await read_form(request)
        form = ArithmeticForm.parse(
            data.get("id"), data.getlist("plus"), data.getlist("minus"), data.get("where"), data.get("k")
        )
        form.edit(data.get("add"), data.get("add_key"), data.get("add_weight"), data.get("remove"))
        photo = data.get("photo")
        image = await upload(data, "photo") if _is_file(photo) else None
        return await run_in_threadpool(arithmetic, form, image)

    def arithmetic(form: "ArithmeticForm", image: bytes | None) -> HTMLResponse:
        result, error, status = None, None, 200
        try:
            if image is not None or form.id is not None:
                found = catalog.query(
                    image=image,
                    ids=[] if image is not None else [form.id],
                    plus=form.plus(),
                    minus=form.minus(),
                    where=form.where,
                    k=form.k,
                )
                item = found.query.items[0] if found.query.items else None
                result = {
                    "label": found.query.label(),  # "photo upload +baseColour=Green×2" for a photo
                    "item": item,
                    "results": found.results,
                    "target": found.query.target(),
                }
        except NotFound as e:
            error, status = str(e), 404
        except CatalogError as e:
            error, status = str(e), 400
        return page(
            "arithmetic.html",
            status,
            title="Arithmetic",
            page="Arithmetic",
            form=form,
            result=result,
            error=error,
            choices=attribute_choices(),
        )

    @app.get("/photo", response_class=HTMLResponse, include_in_schema=False)
    def photo_page():
        return page("photo.html", title="Photo", page="Photo", result=None, k=6)

    @app.post("/photo", response_class=HTMLResponse, include_in_schema=False)
    async def photo_post(request: Request):
        data = await read_form(request)
        k = _int(data.get("k"), 6, 1, MAX_K, "k")
        image = await upload(data, "photo")
        started = time.perf_counter()
        try:
            found = await run_in_threadpool(catalog.photo, image, k=k, top=3)
        except CatalogError as e:
            return page(
                "photo.html",
                404 if isinstance(e, NotFound) else 400,
                title="Photo",
                page="Photo",
                result=None,
                k=k,
                error=str(e),
            )
        result = {
            "label": "your photo",
            "seconds": time.perf_counter() - started,
            "results": found.results,
            "target": found.target(),
            "inferred": found.inferred,
        }
        return page("photo.html", title="Photo", page="Photo", result=result, k=k)

    @app.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
    def catalog_page():
        info = catalog.info().to_dict()
        evaluation = catalog.last_evaluation()
        spaces = [s for s in ("rec", "image", "graph", "random") if evaluation and s in evaluation.get("precision", {})]
        return page(
            "catalog.html",
            title="Catalog",
            page="Catalog",
            info=info,
            history=[run.to_dict() for run in catalog.history()],
            evaluation=evaluation,
            eval_spaces=spaces,
        )

    @app.get("/catalog/eval.png", include_in_schema=False)
    def eval_plot():
        return Response(catalog.evaluation_plot(), media_type="image/png", headers={"Cache-Control": "no-cache"})

    @app.get("/thumb/{id}.jpg", include_in_schema=False)
    def thumbnail(id: int):
        jpeg = catalog.thumbnail(id)
        # Cached by the browser for a while: a thumbnail changes only with its product's photo, and
        # pages link it with ?run=N, so a new run is a new URL.
        headers = {"Cache-Control": "public, max-age=3600"}
        if jpeg is None:
            return Response((HERE / "static" / "nophoto.svg").read_bytes(), media_type="image/svg+xml", headers=headers)
        return Response(jpeg, media_type="image/jpeg", headers=headers)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return RedirectResponse("/static/favicon.svg", status_code=301)

    # -- request helpers ------------------------------------------------------------------------

    def attribute_choices() -> dict[str, list]:
        choices: dict[str, list] = {column: [] for column in ATTRIBUTE_COLUMNS}
        for value in catalog.attributes():
            choices.setdefault(value.column, []).append(value)
        return choices

    async def read_form(request: Request):
        try:
            return await request.form(max_files=1, max_fields=100)
        except UploadTooLarge:
            raise
        except Exception as error:  # a malformed multipart body
            if isinstance(error, StarletteHTTPException):
                raise CatalogError(f"bad form: {error.detail}") from None
            raise CatalogError(f"bad form: {error}") from None

    async def upload(form, field: str) -> bytes:
        file = form.get(field)
        if not _is_file(file):
            raise CatalogError(f"no photo uploaded: send it as the multipart file field {field!r}")
        data = await file.read()
        if not data:
            raise CatalogError("the uploaded photo is empty")
        return data

    return app


def column_filters(request: Request) -> dict[str, str]:
    """`gender=Women&season=Summer`: attribute columns given as query parameters (empty = any)."""
    return {c: request.query_params[c] for c in ATTRIBUTE_COLUMNS if request.query_params.get(c)}


class ArithmeticForm:
    """The arithmetic page's state, carried in the form itself: product, terms, filter, k."""

    def __init__(self, id: int | None, terms: list[dict], where: str | None, k: int):
        self.id, self.terms, self.where, self.k = id, terms, where, k

    @classmethod
    def parse(cls, id, plus, minus, where, k) -> "ArithmeticForm":
        terms = [cls._term(sign, text) for sign, texts in ((1, plus), (-1, minus)) for text in texts if text.strip()]
        product = None
        if id not in (None, ""):
            product = _int(id, 0, 0, 2**62, "id")
        return cls(product, terms, (where or "").strip() or None, _int(k, 6, 1, MAX_K, "k"))

    @staticmethod
    def _term(sign: int, text: str) -> dict:
        key, _, weight = text.strip().rpartition(":")
        if not key or not _is_number(weight):
            key, weight = text.strip(), "1"
        return {"sign": sign, "key": key, "weight": _weight(weight)}

    def edit(self, add: str | None, key: str | None, weight: str | None, remove: str | None) -> None:
        """The builder's buttons: add or subtract the chosen value, or drop a chip."""
        if remove not in (None, ""):
            index = _int(remove, 0, 0, 1000, "remove")
            if index < len(self.terms):
                del self.terms[index]
        if add in ("plus", "minus") and key:
            self.terms.append({"sign": 1 if add == "plus" else -1, "key": key, "weight": _weight(weight or "1")})

    def plus(self) -> list[str]:
        return [f"{t['key']}:{t['weight']}" for t in self.terms if t["sign"] > 0]

    def minus(self) -> list[str]:
        return [f"{t['key']}:{t['weight']}" for t in self.terms if t["sign"] < 0]


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` is refused (413) without being read whole."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = json_response(
                {"error": f"upload too large: the limit is {self.max_bytes // (1024 * 1024)} MB"},
                413,
                headers={"Connection": "close"},
            )
            return await response(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise UploadTooLarge()
            return message

        return await self.app(scope, counted, send)


# Pages load only this server's own scripts, styles and images (thumbnails; a chosen photo's preview
# is a blob: URL): markup that got past escaping could still not run a script from anywhere. The
# bars of the score charts are inline style attributes. /api/docs (Swagger UI from a CDN) is exempt.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    """ASGI middleware: a content security policy on pages, and no MIME sniffing anywhere."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        policy = scope["path"] != "/api/docs"

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                if policy:
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, with_headers)


def json_response(document: Any, status: int = 200, headers: dict | None = None) -> Response:
    """The document as `--json` prints it (datetimes as ISO 8601), without FastAPI's re-encoding pass."""
    body = json.dumps(document, ensure_ascii=False, default=_json_default, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


def _when(value) -> str:
    """A run's time as `2026-11-30 18:15 UTC` (ISO 8601 strings and datetimes alike)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return f"{value:%Y-%m-%d %H:%M} UTC" if isinstance(value, datetime) else str(value)


def _validation_message(error: RequestValidationError) -> str:
    """FastAPI's validation errors as one line: `k: Input should be less than or equal to 60`."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else item.get("msg", "invalid"))
    return "; ".join(parts) or "bad request"


def _int(text, default: int, low: int, high: int, name: str) -> int:
    if text in (None, ""):
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        raise CatalogError(f"{name} must be a whole number, not {str(text)[:40]!r}") from None
    if not low <= value <= high:
        raise CatalogError(f"{name} must be between {low} and {high}")
    return value


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _weight(text: str) -> float:
    if not _is_number(text) or float(text) <= 0:
        raise CatalogError(f"a weight must be a positive number, not {str(text)[:40]!r}")
    return float(f"{float(text):g}")


def _is_file(value) -> bool:
    return hasattr(value, "read") and hasattr(value, "filename") and bool(getattr(value, "filename", ""))


def _escape(text: str) -> str:
    import html

    return html.escape(text)


def _version() -> str:
    from catalog import __version__

    return __version__
