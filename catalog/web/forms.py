"""Reading what a request sends: attribute filters in the query, multipart forms and their uploaded
photo (the size cap is BodyLimit's, catalog/web/middleware.py), bounded numbers, and the arithmetic
page's form. A bad value is a `CatalogError`, answered 400."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import Query, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.web.middleware import UploadTooLarge

MAX_K = 60
K = Annotated[int, Query(ge=1, le=MAX_K, description="How many results.")]


def column_filters(request: Request) -> dict[str, str]:
    """`gender=Women&season=Summer`: attribute columns given as query parameters (empty = any)."""
    return {c: request.query_params[c] for c in ATTRIBUTE_COLUMNS if request.query_params.get(c)}


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
    if not is_file(file):
        raise CatalogError(f"no photo uploaded: send it as the multipart file field {field!r}")
    data = await file.read()
    if not data:
        raise CatalogError("the uploaded photo is empty")
    return data


def is_file(value) -> bool:
    return hasattr(value, "read") and hasattr(value, "filename") and bool(getattr(value, "filename", ""))


def int_field(text, default: int, low: int, high: int, name: str) -> int:
    """A form field as a whole number from `low` to `high`; `default` when it is absent or empty."""
    if text in (None, ""):
        return default
    try:
        value = int(str(text).strip())
    except ValueError:
        raise CatalogError(f"{name} must be a whole number, not {str(text)[:40]!r}") from None
    if not low <= value <= high:
        raise CatalogError(f"{name} must be between {low} and {high}")
    return value


class ArithmeticForm:
    """The arithmetic page's state, carried in the form itself: product, terms, filter, k."""

    def __init__(self, id: int | None, terms: list[dict], where: str | None, k: int):
        self.id, self.terms, self.where, self.k = id, terms, where, k

    @classmethod
    def parse(cls, id, plus, minus, where, k) -> "ArithmeticForm":
        terms = [cls._term(sign, text) for sign, texts in ((1, plus), (-1, minus)) for text in texts if text.strip()]
        product = None
        if id not in (None, ""):
            product = int_field(id, 0, 0, 2**62, "id")
        return cls(product, terms, (where or "").strip() or None, int_field(k, 6, 1, MAX_K, "k"))

    @classmethod
    def from_fields(cls, fields) -> "ArithmeticForm":
        """From the query string (GET) or the posted form (POST): the same fields either way."""
        return cls.parse(
            fields.get("id"), fields.getlist("plus"), fields.getlist("minus"), fields.get("where"), fields.get("k")
        )

    @staticmethod
    def _term(sign: int, text: str) -> dict:
        key, _, weight = text.strip().rpartition(":")
        if not key or not _is_number(weight):
            key, weight = text.strip(), "1"
        return {"sign": sign, "key": key, "weight": _weight(weight)}

    def edit(self, add: str | None, key: str | None, weight: str | None, remove: str | None) -> None:
        """The builder's buttons: add or subtract the chosen value, or drop a chip."""
        if remove not in (None, ""):
            index = int_field(remove, 0, 0, 1000, "remove")
            if index < len(self.terms):
                del self.terms[index]
        if add in ("plus", "minus") and key:
            self.terms.append({"sign": 1 if add == "plus" else -1, "key": key, "weight": _weight(weight or "1")})

    def plus(self) -> list[str]:
        return [f"{t['key']}:{t['weight']}" for t in self.terms if t["sign"] > 0]

    def minus(self) -> list[str]:
        return [f"{t['key']}:{t['weight']}" for t in self.terms if t["sign"] < 0]


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _weight(text: str) -> float:
    if not _is_number(text) or float(text) <= 0:
        raise CatalogError(f"a weight must be a positive number, not {str(text)[:40]!r}")
    return float(f"{float(text):g}")
