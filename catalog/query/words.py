"""Attribute words: `green` -> baseColour=Green, and `--plus green:2,shoes --minus topwear` -> weighted terms.

Attribute values live in the graph space beside the products, each with a vector; a user names
them by value (case-, space- and punctuation-insensitive), by `column=value`, or with the short
column names of the result tables. An ambiguous or unknown word is an error that lists candidates.
"""

from __future__ import annotations

import difflib
import re

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS, SHORT_NAMES
from catalog.core.errors import CatalogError
from catalog.core.keys import split_key
from catalog.results import Attribute, Term
from catalog.store.database import Store


def load_attributes(store: Store) -> list[Attribute]:
    rows = store.table("attributes").to_arrow().to_pylist()
    return [Attribute(r["key"], r["column"], r["value"], np.asarray(r["vector"], dtype=np.float32)) for r in rows]


def _fold(text: str) -> str:
    """Case-, space- and punctuation-insensitive form: `Navy Blue`, `navy-blue`, `navyblue` match."""
    return re.sub(r"[^0-9a-z]+", "", text.lower())


# The short names the result tables use as headers, accepted wherever a column is named.
COLUMN_ALIASES = {short: column for column, short in SHORT_NAMES.items() if short != column} | {"color": "baseColour"}


def resolve_column(name: str) -> str:
    """`basecolour`, `baseColour` or `colour` -> baseColour; anything else is an error listing the columns."""
    folded = _fold(name)
    for column in ATTRIBUTE_COLUMNS:
        if folded == _fold(column):
            return column
    if folded in COLUMN_ALIASES:
        return COLUMN_ALIASES[folded]
    raise CatalogError(f"unknown attribute column {name!r}; columns are {', '.join(ATTRIBUTE_COLUMNS)}")


def resolve_attribute(word: str, attributes: list[Attribute]) -> Attribute:
    """`green` -> baseColour=Green; `column=value` is always accepted; ambiguity is an error."""
    word = word.strip()
    if "=" in word:
        name, value = (part.strip() for part in word.split("=", 1))
        column = resolve_column(name)
        matches = [a for a in attributes if a.column == column and _fold(a.value) == _fold(value)]
        if matches:
            return matches[0]
        candidates = [a.key for a in attributes if a.column == column]
        raise CatalogError(f"unknown attribute {word!r}{_suggest(value, candidates)}")
    matches = [a for a in attributes if _fold(a.value) == _fold(word)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise CatalogError(
            f"{word!r} is ambiguous: it could be {' or '.join(a.key for a in matches)}; write one of those"
        )
    raise CatalogError(f"unknown attribute {word!r}{_suggest(word, [a.key for a in attributes])}")


def _suggest(word: str, keys: list[str]) -> str:
    by_value = {_fold(split_key(key)[1]): key for key in keys}
    close = [by_value[v] for v in difflib.get_close_matches(_fold(word), list(by_value), n=5, cutoff=0.6)]
    return f"; did you mean {', '.join(close)}?" if close else "; see `catalog attributes` for the known values"


def parse_terms(plus: list[str], minus: list[str], attributes: list[Attribute]) -> list[Term]:
    """`--plus green:2,shoes --minus topwear` -> weighted terms. Each option may repeat and holds a comma list."""
    terms = []
    for sign, options in ((1.0, plus), (-1.0, minus)):
        for option in options:
            for word in filter(None, (w.strip() for w in option.split(","))):
                name, weight = word, 1.0
                if re.search(r":[-+]?[0-9.]+$", word):
                    name, _, number = word.rpartition(":")
                    weight = float(number)
                terms.append(Term(resolve_attribute(name, attributes), sign * weight))
    return terms
