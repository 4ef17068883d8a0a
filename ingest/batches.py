"""The catalog in an ingest's memory, and its rows on their way to the products table in batches.

An ingest needs the whole catalog for a few things (which rows changed, the graph, the linker), but
never all of a product's bytes at once. So it holds, per product, only what those stages read:

- `Products.frame`: the scalar columns (`HELD_COLUMNS`: id, attribute values, name, hashes, flags);
- `Products.vectors`: image, node and rec vectors as float32 matrices aligned with the frame;
- `Products.features`: the photo features as a uint8 matrix (FEATURE_DIM bytes a row), not as one
  Python bytes object per row (a photo-less product's row is zeros, never written to, so the
  matrix, allocated zeroed, costs it no resident memory; nor do its image and rec vectors).

Thumbnails are never in the ingest's memory beyond the photos being encoded: they live in the
photos table (catalog/store/photos.py), written as the photos are encoded (by the Ray workers with
`--engine ray`), so a products row carries none and rewriting it never reads one back.

`product_batches` turns the state into Arrow record batches of BATCH_ROWS rows (a few thousand:
each one is about a MB, and the per-batch overhead of Arrow and LanceDB is negligible at that size). A full run (first ingest, rebuild) streams them into one Lance commit
(`Writer.upsert_products(..., replace=True)`); an incremental run upserts the changed rows one batch at a time.
Either way the run record is written last, so readers never see half a run (catalog/store/database.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from catalog.core.columns import IMAGE_DIM, NODE_DIM
from catalog.core.errors import CatalogError
from catalog.core.photo_features import COLUMN as FEATURES
from catalog.core.photo_features import FEATURE_DIM, photo_features, to_stored
from catalog.store.database import PRODUCTS_SCHEMA
from catalog.store.photos import thumbnails_of

VECTOR_DIMS = {"image_vector": IMAGE_DIM, "node_vector": NODE_DIM, "rec_vector": NODE_DIM}
# Bytes that no stage but the write reads: kept out of the ingest's memory as Python objects.
UNHELD = (FEATURES,)
HELD_COLUMNS = [name for name in PRODUCTS_SCHEMA.names if name not in VECTOR_DIMS and name not in UNHELD]


def batch_rows() -> int:
    """Rows per record batch (CATALOG_INGEST_BATCH_ROWS; the tests make it tiny to get many batches)."""
    return int(os.environ.get("CATALOG_INGEST_BATCH_ROWS") or 4096)


@dataclass
class Products:
    """The catalog as an ingest holds it: scalar columns, vectors and photo features, aligned by row."""

    frame: pd.DataFrame
    vectors: dict[str, np.ndarray]
    features: np.ndarray  # (rows, FEATURE_DIM) uint8; zeros for a product without a photo

    @classmethod
    def empty(cls) -> Products:
        frame = PRODUCTS_SCHEMA.empty_table().select(HELD_COLUMNS).to_pandas()
        return cls(frame, _zeros(0), _no_features(0))

    @classmethod
    def read(cls, table, photos=None) -> Products:
        """The held columns of a LanceDB products table, read one batch at a time (never thumbnails,
        except those in `photos` of rows written before photo features were stored, whose features are
        measured here)."""
        count = table.count_rows()
        vectors, features = _zeros(count), np.zeros((count, FEATURE_DIM), np.uint8)
        parts: list[pa.RecordBatch] = []
        start = 0
        columns = [*HELD_COLUMNS, *VECTOR_DIMS, FEATURES]
        for batch in table.search().select(columns).to_batches(batch_rows()):
            rows = batch.num_rows
            photo = np.flatnonzero(batch.column("has_image").to_numpy(zero_copy_only=False))
            for name, dim in VECTOR_DIMS.items():
                matrix = _matrix(batch.column(name), dim)
                # Only rows that hold something are copied: a photo-less row's zeros stay untouched pages.
                wanted = np.arange(rows) if name == "node_vector" else photo
                vectors[name][start + wanted] = matrix[wanted]
            stored = batch.column(FEATURES)
            for n in photo:
                value = stored[int(n)].as_py()
                if value is not None and len(value) == FEATURE_DIM:
                    features[start + n] = np.frombuffer(value, np.uint8)
            parts.append(batch.select(HELD_COLUMNS))
            start += rows
        if start != count:  # a writer would have had to change the table under our lock
            raise RuntimeError(f"read {start} products of {count}")
        missing = np.flatnonzero(_has_image(parts) & ~features.any(axis=1))
        if missing.size:
            _measure_missing_features(table, photos, parts, missing, features)
        held = pa.Table.from_batches(parts, schema=PRODUCTS_SCHEMA.empty_table().select(HELD_COLUMNS).schema)
        return cls(held.to_pandas(), vectors, features)

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, index: np.ndarray) -> Products:
        index = np.asarray(index, np.int64)
        taken = Products(self.frame.iloc[index].reset_index(drop=True), _zeros(len(index)), _no_features(len(index)))
        taken._copy_from(self, index, np.arange(len(index)))
        return taken

    def extend(self, additions: pd.DataFrame) -> None:
        """Append new products (frame rows with HELD_COLUMNS) with zero vectors and features."""
        old, new = len(self.frame), len(additions)
        frame = additions.reset_index(drop=True) if old == 0 else pd.concat([self.frame, additions], ignore_index=True)
        grown = Products(frame, _zeros(old + new), _no_features(old + new))
        grown._copy_from(self, np.arange(old), np.arange(old))
        self.frame, self.vectors, self.features = grown.frame, grown.vectors, grown.features

    def _copy_from(self, other: Products, source: np.ndarray, target: np.ndarray) -> None:
        """Rows `source` of `other` into rows `target`: node vectors always, the photo columns only
        where there is a photo, so a photo-less row's zeros are never written (never resident)."""
        self.vectors["node_vector"][target] = other.vectors["node_vector"][source]
        photo = other.frame["has_image"].to_numpy(bool)[source]
        source, target = source[photo], target[photo]
        for name in ("image_vector", "rec_vector"):
            self.vectors[name][target] = other.vectors[name][source]
        self.features[target] = other.features[source]

    def drop_arrays(self) -> None:
        """Let go of the vectors and features (the frame stays): for after the products are written."""
        self.vectors, self.features = _zeros(0), _no_features(0)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id (-1 where an id is not held), by binary search: no dict of a million ints."""
        held = self.frame["id"].to_numpy(np.int64)
        order = np.argsort(held, kind="stable")
        ids = np.asarray(ids, np.int64)
        found = np.searchsorted(held[order], ids)
        found = np.minimum(found, max(len(held) - 1, 0))
        if len(held) == 0:
            return np.full(len(ids), -1, np.int64)
        rows = order[found]
        return np.where(held[rows] == ids, rows, -1)

    def record_batch(self, rows: np.ndarray) -> pa.RecordBatch:
        """The products table's rows `rows` (positions)."""
        part = self.frame.iloc[rows]
        has_image = part["has_image"].to_numpy(bool)
        columns = []
        for field in PRODUCTS_SCHEMA:
            if field.name in VECTOR_DIMS:
                matrix = np.ascontiguousarray(self.vectors[field.name][rows], np.float32)
                _check_finite(matrix, part["id"].to_numpy(np.int64), field.name)
                flat = pa.array(matrix.reshape(-1))
                columns.append(pa.FixedSizeListArray.from_arrays(flat, VECTOR_DIMS[field.name]))
            elif field.name == FEATURES:
                stored = self.features[rows]
                values = [stored[n].tobytes() if has_image[n] and stored[n].any() else None for n in range(len(rows))]
                columns.append(pa.array(values, pa.binary()))
            else:
                columns.append(pa.array(part[field.name].to_numpy(dtype=object), field.type, from_pandas=True))
        return pa.RecordBatch.from_arrays(columns, schema=PRODUCTS_SCHEMA)


def _check_finite(matrix: np.ndarray, ids: np.ndarray, column: str) -> None:
    """A NaN or infinite vector would poison cosine search: fail the write (the database stays at its
    previous run), as LanceDB's `add` did before the full write went through Lance itself."""
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        raise CatalogError(f"product {int(ids[np.argmax(bad)])}: its {column} is not finite (NaN or infinite)")


def _no_features(rows: int) -> np.ndarray:
    return np.zeros((rows, FEATURE_DIM), np.uint8)


def _zeros(rows: int) -> dict[str, np.ndarray]:
    return {name: np.zeros((rows, dim), np.float32) for name, dim in VECTOR_DIMS.items()}


def _matrix(column: pa.Array, dim: int) -> np.ndarray:
    flat = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, np.float32).reshape(-1, dim)


def _has_image(parts: list[pa.RecordBatch]) -> np.ndarray:
    if not parts:
        return np.zeros(0, bool)
    return np.concatenate([p.column("has_image").to_numpy(zero_copy_only=False) for p in parts]).astype(bool)


def _measure_missing_features(table, photos, parts, missing: np.ndarray, features: np.ndarray) -> None:
    """Rows written before photo features were stored: measure them on their thumbnails, a batch at a time."""
    ids = np.concatenate([p.column("id").to_numpy() for p in parts])
    position = {int(ids[n]): int(n) for n in missing}
    wanted = sorted(position)
    for start in range(0, len(wanted), batch_rows()):
        for product_id, thumbnail in thumbnails_of(table, photos, wanted[start : start + batch_rows()]).items():
            features[position[product_id]] = to_stored(photo_features(thumbnail))


def product_batches(state: Products, rows: np.ndarray) -> Iterator[pa.RecordBatch]:
    """The products table's rows at positions `rows` as record batches of about BATCH_ROWS rows."""
    size = batch_rows()
    rows = np.asarray(rows, np.int64)
    for start in range(0, len(rows), size):
        yield state.record_batch(rows[start : start + size])
