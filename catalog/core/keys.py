"""Names and quoting shared by every layer: attribute keys, SQL literals, file hashes.

One home each, so the store, the search and the writers quote and name things the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def attribute_key(column: str, value: str) -> str:
    """The graph node name of an attribute value, e.g. `baseColour=Green`."""
    return f"{column}={value}"


def split_key(key: str) -> tuple[str, str]:
    """`baseColour=Green` -> ("baseColour", "Green"); a value may itself contain `=`."""
    column, _, value = key.partition("=")
    return column, value


def sql_string(value: str) -> str:
    """A SQL string literal for a LanceDB filter: single quotes, inner quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_strings(values: Iterable[str]) -> str:
    """`'a', 'b'` for `column IN (...)`."""
    return ", ".join(sql_string(v) for v in values)


def sql_ids(ids: Iterable[int]) -> str:
    """`1, 2, 3` for `id IN (...)`: every id forced to an integer, so nothing else gets into the SQL."""
    return ", ".join(str(int(i)) for i in ids)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (photos, weights files), read in blocks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
