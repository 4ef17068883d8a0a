"""The API's documents as JSON Schemas in /api/openapi.json, for clients generated from it.

Each model describes what a result's `to_dict()` gives (what the matching command's `--json`
prints): documentation only. Handlers return the library's document as it is (`json_response`),
never through these models, so a request pays no validation; `tests/test_serve.py` checks that real
answers validate against the published schema, with every object's keys declared.

The photo uploads read their multipart form by hand (to count its bytes against the upload cap
before anything is parsed: catalog/web/middleware.py), so FastAPI cannot see their fields: their
request bodies are declared here (`multipart`) and attached with `openapi_extra`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, create_model

from catalog.core.columns import DISPLAY_COLUMNS
from catalog.core.photos import IMAGE_FORMATS

_COLUMNS: dict[str, Any] = {
    column: (str | None, Field(description=f"The catalog's `{column}` (null when the cell was empty)."))
    for column in DISPLAY_COLUMNS
    if column != "id"
}

ProductRow = create_model(  # type: ignore[call-overload]
    "ProductRow",
    __doc__="A product's catalog columns: what a result row, a browse row and a query item hold.",
    id=(int, Field(description="The product's id (styles.csv's `id`).")),
    **_COLUMNS,
)

ResultRow = create_model(  # type: ignore[call-overload]
    "ResultRow",
    __doc__="One result: the product, and its cosine to the query in the space searched.",
    id=(int, ...),
    score=(float, Field(description="Cosine similarity to the query, rounded to 4 decimals.")),
    **_COLUMNS,
)


class Term(BaseModel):
    """One arithmetic term as applied (subtracted values included)."""

    attribute: str = Field(description="`column=value`, e.g. `baseColour=Green`.")
    weight: float = Field(description="Positive: added; negative: subtracted.")


class SearchDocument(BaseModel):
    """`catalog similar --json`, `catalog query --json`."""

    query: ProductRow | list[ProductRow] | None = Field(  # type: ignore[valid-type]
        description="The queried product; a list for several (`id=A&id=B`); null for a photo."
    )
    image: str | None = Field(description='"upload" for a photo query, else null.')
    terms: list[Term]
    where: str | None = Field(description="The filter as applied (stripped), or null.")
    results: list[ResultRow] | dict[str, list[ResultRow]] = Field(  # type: ignore[valid-type]
        description="One space: a list, best first. `space=all`: an object keyed by space (`image`, "
        "`graph`, `rec`); a space the product has no vector in is left out."
    )


class Scored(BaseModel):
    value: str
    score: float


class InferenceDocument(BaseModel):
    """`catalog infer --json`: per attribute column, the likeliest values, best first."""

    query: ProductRow | None = Field(description="The product (`id=`), or null for a photo.")  # type: ignore[valid-type]
    image: str | None
    attributes: dict[str, list[Scored]]


class PhotoDocument(BaseModel):
    """A photo's Rec and image-space results and its likely attribute values (the Photo page)."""

    image: str | None
    results: dict[str, list[ResultRow]] = Field(description="`image` and `rec`, best first.")  # type: ignore[valid-type]
    attributes: dict[str, list[Scored]]


class ProductDocument(ProductRow):  # type: ignore[valid-type, misc]
    """`catalog show --json`."""

    has_image: bool
    image_path: str | None = Field(description="The photo it was ingested from, or null.")
    node_source: str = Field(description='"walks" (trained by node2vec) or "inferred" (placed incrementally).')
    run: int = Field(description="The run that last wrote the product.")
    encoder_id: str | None
    shared_with: dict[str, int] = Field(description="Per column, how many products share this product's value.")


class ProductPageDocument(BaseModel):
    """One page of products matching a browse (name words, attribute filters), in id order."""

    total: int
    page: int
    per_page: int
    pages: int
    products: list[ProductRow]  # type: ignore[valid-type]


class AttributeCountDocument(BaseModel):
    """`catalog attributes --json`: one row."""

    column: str
    value: str
    products: int


class RunDocument(BaseModel):
    """`catalog history --json`: one run."""

    run: int
    kind: str = Field(description="ingest, remove, rebuild or rollback.")
    created_at: str = Field(description="ISO 8601, UTC.")
    summary: dict[str, Any]
    products_version: int
    attributes_version: int


class InfoRun(BaseModel):
    run: int
    kind: str
    created_at: str
    runs: int = Field(description="Runs in the commit log.")


class InfoDocument(BaseModel):
    """`catalog info --json`."""

    database: str
    run: InfoRun
    products: int
    with_image: int
    attribute_values: int
    node_source: dict[str, int]
    encoder: dict[str, Any]
    node2vec: dict[str, Any]
    linker: dict[str, Any]
    metrics: dict[str, Any]
    summary: dict[str, Any]
    versions: dict[str, Any]
    disk_bytes: int = Field(description="Bytes under the database, measured once per run.")
    ranking: dict[str, Any] = Field(default_factory=dict)


class ErrorDocument(BaseModel):
    """Every error: one line, no traceback."""

    error: str


class HealthDocument(BaseModel):
    status: str = Field(description='"ok", or "unavailable" (with 503).')
    run: int | None = None
    products: int | None = None
    memory: bool | None = Field(
        default=None, description="Whether answers come from an in-memory copy of the run (false: from LanceDB)."
    )
    snapshot_age_seconds: float | None = None
    error: str | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDocument, "description": "A bad parameter, word, filter or photo."},
    401: {"model": ErrorDocument, "description": "The server has a token and the request did not carry it."},
    404: {"model": ErrorDocument, "description": "No such product."},
}
UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    413: {"model": ErrorDocument, "description": "The upload is over the server's cap (`--max-upload-mb`)."},
    503: {
        "model": ErrorDocument,
        "description": "The photo queue is full (`--photo-queue`): retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    },
}


def multipart(description: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` declaring a multipart body: the file field `image` and these others."""
    properties = {
        "image": {
            "type": "string",
            "format": "binary",
            "description": f"The photo ({', '.join(IMAGE_FORMATS)}, known by content); capped by --max-upload-mb.",
        },
        **fields,
    }
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["image"], "properties": properties}}
            },
        }
    }


def k_field(default: int = 6, high: int = 60) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": high, "default": default, "description": "How many results."}


def top_field() -> dict[str, Any]:
    return {
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "default": 3,
        "description": "Values per attribute column.",
    }


def terms_field(sign: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string"},
        "description": f"Attribute words to {sign}, each `word` or `word:WEIGHT` (a field per term, or comma lists).",
    }
