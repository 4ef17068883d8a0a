"""`--where` filters: checked before the search, so a mistake is a one-line error that says what to fix.

A filter names only catalog columns (those of FILTER_COLUMNS), text values take single quotes,
and a filter that matches no product is an error (with the values the column does take). LanceDB
runs the filter inside the vector search (prefilter), so -k results still come back.
"""

from __future__ import annotations

import difflib
import re

from catalog.core.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS
from catalog.core.errors import CatalogError
from catalog.query.words import load_attributes
from catalog.store.database import Store

# Columns a --where filter may name: the catalog's own, plus where a row's node vector came from.
FILTER_COLUMNS = (*DISPLAY_COLUMNS, "has_image", "node_source", "run")
_SQL_WORDS = {"and", "or", "not", "in", "is", "null", "like", "ilike", "between", "true", "false"}
_TOKEN = re.compile(r"""'(?:[^']|'')*'|"[^"]*"|`[^`]*`|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|\S""")


def check_where(store: Store, where: str) -> str:
    """A --where filter that names only catalog columns and matches some product, or a one-line error.

    Checked here rather than left to LanceDB because its messages for a misspelt column or a
    double-quoted string (`gender = "Women"` names a column in SQL) are long and internal.
    """
    where = where.strip()
    if not where:
        raise CatalogError("empty --where filter")
    tokens = _TOKEN.findall(where)
    if any(t.startswith("'") and (len(t) < 2 or not t.endswith("'")) for t in tokens):
        raise CatalogError(f"bad --where filter {where!r}: unclosed quote")
    depth = 0
    for index, token in enumerate(tokens):
        depth += (token == "(") - (token == ")")
        if depth < 0:
            break
        following = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token[0] == '"' or token[0] == "`":
            name = token[1:-1]
        elif re.fullmatch(r"[A-Za-z_]\w*", token) and token.lower() not in _SQL_WORDS and following != "(":
            name = token
        else:
            continue
        if name.lower() not in {c.lower() for c in FILTER_COLUMNS}:  # lance resolves names case-insensitively
            hint = ""
            if token[0] == '"':
                hint = f" (text values take single quotes: '{name}')"
            else:
                close = difflib.get_close_matches(name, FILTER_COLUMNS, n=1, cutoff=0.5)
                hint = f"; did you mean {close[0]}?" if close else f"; columns are {', '.join(FILTER_COLUMNS)}"
            raise CatalogError(f"bad --where filter: unknown column {name!r}{hint}")
    if depth != 0:
        raise CatalogError(f"bad --where filter {where!r}: unbalanced parentheses")
    try:
        matching = store.table("products").count_rows(where)
    except Exception as error:  # lance reports a syntax or type error as a generic error
        raise CatalogError(f"bad --where filter {where!r}: {filter_message(error)}") from None
    if matching == 0:
        raise CatalogError(f"no product matches --where {where!r}{_value_hint(store, where)}")
    return where


def filter_message(error: Exception) -> str:
    """The useful part of a lance filter error: no echoed SQL, no Rust source paths."""
    message = _first_line(error)
    if "could not convert to literal of type 'Utf8'" in message:
        return "catalog columns hold text, so quote the value (year = '2012')"
    message = re.sub(r",? /\S+\.rs:\d+:\d+", "", message)
    parser = re.search(r"sql parser error: (.*?)\)?$", message)
    if parser:
        return parser.group(1)
    return re.sub(r"^Invalid (user )?input, ", "", message)


def _value_hint(store: Store, where: str) -> str:
    """For `column = 'value'` with a value the column never takes: the values it does take."""
    attributes = None
    for column, value in re.findall(r"\b(\w+)\s*=\s*'((?:[^']|'')*)'", where):
        if column in ATTRIBUTE_COLUMNS:
            attributes = attributes if attributes is not None else load_attributes(store)
            values = sorted(a.value for a in attributes if a.column == column)
            if value.replace("''", "'") not in values:
                shown = ", ".join(values[:12]) + (", …" if len(values) > 12 else "")
                return f"; {column} is never {value!r} (values: {shown})"
    return ""


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
