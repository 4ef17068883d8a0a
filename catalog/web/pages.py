"""The HTML pages (Browse, Product, Arithmetic, Photo, Catalog) and the images they link: each
parses the request, calls `Catalog` and renders a template from catalog/web/templates/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from catalog.api import Catalog
from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError, NotFound
from catalog.web.deps import CatalogDep, PhotosDep, RendererDep, answer
from catalog.web.forms import MAX_K, ArithmeticForm, column_filters, int_field, is_file, read_form, upload
from catalog.web.responses import PageRenderer

STATIC = Path(__file__).parent / "static"

# Pages are for people: none of them is in the API's OpenAPI schema.
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def browse_page(
    catalog: CatalogDep,
    render: RendererDep,
    request: Request,
    q: str = "",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
):
    filters = column_filters(request)
    result = catalog.browse(q, filters, page=page_number, per_page=24)

    def page_url(n: int) -> str:
        return "/?" + urlencode({**({"q": q} if q else {}), **filters, "page": n})

    return render(
        "browse.html",
        title="Browse",
        page="Browse",
        result=result,
        q=q,
        filters=filters,
        choices=attribute_choices(catalog),
        page_url=page_url,
    )


@router.get("/product/{id}", response_class=HTMLResponse)
async def product_page(catalog: CatalogDep, render: RendererDep, id: int):
    return await answer(catalog, product_view, catalog, render, id)


def product_view(catalog: Catalog, render: PageRenderer, id: int) -> HTMLResponse:
    product = catalog.product(id)
    results = catalog.similar(id, k=6, space="all")
    row = {"id": product.id, **product.values, **product.to_dict()}
    missing = None
    if not product.has_image:
        missing = "This product has no photo, so it has no image or Rec vector: only the graph space is shown."
    ordered = {space: results.results[space] for space in ("image", "graph", "rec") if space in results.results}
    return render(
        "product.html",
        title=product.name or f"product {id}",
        page=None,
        product=row,
        results=ordered,
        target=results.query.target(),
        missing=missing,
    )


@router.get("/arithmetic", response_class=HTMLResponse)
def arithmetic_page(catalog: CatalogDep, render: RendererDep, request: Request):
    return arithmetic(catalog, render, ArithmeticForm.from_fields(request.query_params), None)


@router.post("/arithmetic", response_class=HTMLResponse)
async def arithmetic_post(catalog: CatalogDep, render: RendererDep, photos: PhotosDep, request: Request):
    # In the photo queue (catalog/web/photos.py) whether or not a photo comes: the form is read
    # inside the slot, and only then is it known.
    async with photos.slot():
        data = await read_form(request)
        form = ArithmeticForm.from_fields(data)
        form.edit(data.get("add"), data.get("add_key"), data.get("add_weight"), data.get("remove"))
        photo = data.get("photo")
        image = await upload(data, "photo") if is_file(photo) else None
        if image is not None:
            return await photos.run(arithmetic, catalog, render, form, image)
    return await run_in_threadpool(arithmetic, catalog, render, form, image)


def arithmetic(catalog: Catalog, render: PageRenderer, form: ArithmeticForm, image: bytes | None) -> HTMLResponse:
    """The Arithmetic page: the form as posted, and its results once it names a product or a photo.
    A bad term is shown on the page beside the form (with its 4xx status), so it can be fixed there."""
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
    return render(
        "arithmetic.html",
        status,
        title="Arithmetic",
        page="Arithmetic",
        form=form,
        result=result,
        error=error,
        choices=attribute_choices(catalog),
    )


@router.get("/photo", response_class=HTMLResponse)
def photo_page(render: RendererDep):
    return render("photo.html", title="Photo", page="Photo", result=None, k=6)


@router.post("/photo", response_class=HTMLResponse)
async def photo_post(catalog: CatalogDep, render: RendererDep, photos: PhotosDep, request: Request):
    async with photos.slot():
        data = await read_form(request)
        k = int_field(data.get("k"), 6, 1, MAX_K, "k")
        image = await upload(data, "photo")
        started = time.perf_counter()
        try:
            found = await photos.run(catalog.photo, image, k=k, top=3)
        except CatalogError as e:
            status = 404 if isinstance(e, NotFound) else 400
            return render("photo.html", status, title="Photo", page="Photo", result=None, k=k, error=str(e))
    result = {
        "label": "your photo",
        "seconds": time.perf_counter() - started,
        "results": found.results,
        "target": found.target(),
        "inferred": found.inferred,
    }
    return render("photo.html", title="Photo", page="Photo", result=result, k=k)


@router.get("/catalog", response_class=HTMLResponse)
def catalog_page(catalog: CatalogDep, render: RendererDep):
    info = catalog.info().to_dict()
    evaluation = catalog.last_evaluation()
    spaces = [s for s in ("rec", "image", "graph", "random") if evaluation and s in evaluation.get("precision", {})]
    return render(
        "catalog.html",
        title="Catalog",
        page="Catalog",
        info=info,
        history=[run.to_dict() for run in catalog.history()],
        evaluation=evaluation,
        eval_spaces=spaces,
    )


@router.get("/catalog/eval.png")
def eval_plot(catalog: CatalogDep):
    return Response(catalog.evaluation_plot(), media_type="image/png", headers={"Cache-Control": "no-cache"})


@router.get("/thumb/{id}.jpg")
def thumbnail(catalog: CatalogDep, id: int):
    jpeg = catalog.thumbnail(id)
    # Cached by the browser for a while: a thumbnail changes only with its product's photo, and
    # pages link it with ?run=N, so a new run is a new URL.
    headers = {"Cache-Control": "public, max-age=3600"}
    if jpeg is None:
        return Response((STATIC / "nophoto.svg").read_bytes(), media_type="image/svg+xml", headers=headers)
    return Response(jpeg, media_type="image/jpeg", headers=headers)


@router.get("/favicon.ico")
def favicon():
    return RedirectResponse("/static/favicon.svg", status_code=301)


def attribute_choices(catalog: Catalog) -> dict[str, list]:
    """The pages' attribute pickers: every value with its count, by column, every column present."""
    choices: dict[str, list] = {column: [] for column in ATTRIBUTE_COLUMNS}
    for value in catalog.attributes():
        choices.setdefault(value.column, []).append(value)
    return choices
