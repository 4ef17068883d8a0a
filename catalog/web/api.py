"""The JSON API under /api/…: every endpoint mirrors a `catalog` command, calls one `Catalog` method
and returns its result's `to_dict()`, the document the command's `--json` prints.

Each route declares its document (catalog/web/schemas.py) for /api/openapi.json; the document is
returned as the library made it (`json_response`), not rebuilt through the model.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from catalog.web import schemas
from catalog.web.deps import CatalogDep, PhotosDep, answer
from catalog.web.forms import MAX_K, K, column_filters, int_field, read_form, upload
from catalog.web.responses import json_response

router = APIRouter(prefix="/api", tags=["api"], responses=schemas.ERRORS)

# The endpoints that take a photo go through the photo queue (catalog/web/photos.py): one encode at
# a time, in a worker thread, a bounded number waiting on the loop. Those that read LanceDB (info,
# history, attributes, infer from a stored photo) are plain `def`: FastAPI runs them in its thread pool.


@router.get("/similar/{id}", summary="catalog similar ID", response_model=schemas.SearchDocument)
async def api_similar(catalog: CatalogDep, id: int, k: K = 6, space: str = "rec", where: str | None = None):
    """Products most similar to a catalog product, in one space (`rec`, `image`, `graph`) or `all`."""
    return json_response((await answer(catalog, catalog.similar, id, k=k, space=space, where=where)).to_dict())


@router.get("/query", summary="catalog query --id ID [--plus ...] [--minus ...]", response_model=schemas.SearchDocument)
async def api_query(
    catalog: CatalogDep,
    id: Annotated[list[int], Query()],
    plus: Annotated[list[str], Query()] = [],  # noqa: B006
    minus: Annotated[list[str], Query()] = [],  # noqa: B006
    where: str | None = None,
    k: K = 6,
):
    """Search the graph space from one or more products, with weighted attribute arithmetic
    (`plus=green:2&plus=shoes&minus=topwear`)."""
    found = await answer(catalog, catalog.query, ids=id, plus=plus, minus=minus, where=where, k=k)
    return json_response(found.to_dict())


@router.post(
    "/query",
    summary="catalog query --image PHOTO [--plus ...] [--minus ...]",
    response_model=schemas.SearchDocument,
    responses=schemas.UPLOAD_ERRORS,
    openapi_extra=schemas.multipart(
        "The photo and the query's terms.",
        plus=schemas.terms_field("add"),
        minus=schemas.terms_field("subtract"),
        where={"type": "string", "description": "A SQL filter on catalog columns, e.g. `gender = 'Women'`."},
        k=schemas.k_field(),
    ),
)
async def api_query_photo(catalog: CatalogDep, photos: PhotosDep, request: Request):
    """The same from a photo: a multipart form with `image` (the file) and `plus`, `minus`, `where`, `k` fields."""
    async with photos.slot():
        form = await read_form(request)
        image = await upload(form, "image")
        result = await photos.run(
            catalog.query,
            image=image,
            plus=form.getlist("plus"),
            minus=form.getlist("minus"),
            where=form.get("where") or None,
            k=int_field(form.get("k"), 6, 1, MAX_K, "k"),
        )
    return json_response(result.to_dict())


@router.get("/infer", summary="catalog infer --id ID", response_model=schemas.InferenceDocument)
def api_infer(catalog: CatalogDep, id: int, top: Annotated[int, Query(ge=1, le=50)] = 3):
    """The likely attributes of a product's photo, `top` values per column, beside its catalog values."""
    return json_response(catalog.infer(id=id, top=top).to_dict())


@router.post(
    "/infer",
    summary="catalog infer --image PHOTO",
    response_model=schemas.InferenceDocument,
    responses=schemas.UPLOAD_ERRORS,
    openapi_extra=schemas.multipart("The photo.", top=schemas.top_field()),
)
async def api_infer_photo(catalog: CatalogDep, photos: PhotosDep, request: Request):
    """The likely attributes of a photo: a multipart form with `image` and optionally `top`."""
    async with photos.slot():
        form = await read_form(request)
        image = await upload(form, "image")
        top = int_field(form.get("top"), 3, 1, 50, "top")
        result = await photos.run(catalog.infer, image=image, top=top)
    return json_response(result.to_dict())


@router.get("/products/{id}", summary="catalog show ID", response_model=schemas.ProductDocument)
async def api_product(catalog: CatalogDep, id: int):
    """One product: its values, photo or not, node-vector source, run, and attribute degrees."""
    return json_response((await answer(catalog, catalog.product, id)).to_dict())


@router.get("/products", summary="browse products", response_model=schemas.ProductPageDocument)
async def api_products(
    catalog: CatalogDep,
    request: Request,
    q: str = "",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 24,
):
    """Products whose name holds every word of `q` (or whose id is `q`), filtered by attribute
    columns given as further parameters (`gender=Women&season=Summer`), a page at a time."""
    found = await answer(catalog, catalog.browse, q, column_filters(request), page=page, per_page=per_page)
    return json_response(found.to_dict())


@router.get("/attributes", summary="catalog attributes [COLUMN]", response_model=list[schemas.AttributeCountDocument])
def api_attributes(catalog: CatalogDep, column: str | None = None):
    """Every attribute value with its product count (one column: short names like `colour` work)."""
    return json_response(catalog.attributes(column).to_dict())


@router.get("/info", summary="catalog info", response_model=schemas.InfoDocument)
def api_info(catalog: CatalogDep):
    """Counts, encoder, node2vec and linker parameters and metrics, versions, disk use."""
    return json_response(catalog.info().to_dict())


@router.get("/history", summary="catalog history", response_model=list[schemas.RunDocument])
def api_history(catalog: CatalogDep):
    """The runs (ingest, remove, rebuild, rollback), oldest first."""
    return json_response(catalog.history().to_dict())


@router.post(
    "/photo",
    summary="a photo's Rec and image-space results and inferred attributes",
    response_model=schemas.PhotoDocument,
    responses=schemas.UPLOAD_ERRORS,
    openapi_extra=schemas.multipart("The photo.", k=schemas.k_field(), top=schemas.top_field()),
)
async def api_photo(catalog: CatalogDep, photos: PhotosDep, request: Request):
    """What the Photo page shows: a multipart form with `image`, optionally `k` and `top`."""
    async with photos.slot():
        form = await read_form(request)
        image = await upload(form, "image")
        k, top = int_field(form.get("k"), 6, 1, MAX_K, "k"), int_field(form.get("top"), 3, 1, 50, "top")
        result = await photos.run(catalog.photo, image, k=k, top=top)
    return json_response(result.to_dict())
