"""The catalog in an ingest's memory, and its rows on their way to the products table in batches.

An ingest needs the whole catalog for a few things (which rows changed, the graph, the linker), but
never all of a product's bytes at once. So it holds, per product, only what those stages read:

- `Products.frame`: the scalar columns (`HELD_COLUMNS`: id, attribute values, name, hashes, flags);
- `Products.vectors`: image, node and rec vectors as float32 matrices aligned with the frame;
- `Products.features`: the photo features as a uint8 matrix (FEATURE_DIM bytes a row), not as one
  Python bytes object per row.

Only the node vectors are in memory: the graph stage makes them all at once and the tie ranks read
them all. The columns only a photo fills (image and rec vectors, features: ~1 KB a photo) wait in
`Spool`s, matrices in temporary files that each read or write maps for its rows alone, so the
ingest's memory holds ~0.5 KB a product instead of ~1.5 KB a photo, and the stages read them a
slice at a time (the linker its sample, the translation and the write a batch). A photo-less
product's rows are zeros never written (holes in a sparse file).

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
import tempfile
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
PHOTO_VECTORS = ("image_vector", "rec_vector")  # only a photo fills them: spooled, with the features
SLICE_ROWS = 65_536  # rows copied at a time between spools: a slice is ~50 MB at most
# Bytes that no stage but the write reads: kept out of the ingest's memory as Python objects.
UNHELD = (FEATURES,)
HELD_COLUMNS = [name for name in PRODUCTS_SCHEMA.names if name not in VECTOR_DIMS and name not in UNHELD]


def batch_rows() -> int:
    """Rows per record batch (CATALOG_INGEST_BATCH_ROWS; the tests make it tiny to get many batches)."""
    return int(os.environ.get("CATALOG_INGEST_BATCH_ROWS") or 4096)


class Spool:
    """A (rows, dim) matrix kept in an unnamed temporary file instead of the process's memory.

    `spool[rows]` reads a copy of those rows, `spool[rows] = values` writes them; each maps the file
    only for that access, so what the pages hold is the kernel's page cache (given back under
    pressure, and never the process's resident memory) once the access returns. Single rows written
    one at a time (the encoder's results) are buffered and written BUFFER_ROWS at a time. The file
    (in TMPDIR) is unlinked at once, so it goes with its descriptor, or with the process, killed or
    not. Rows never written read as zeros (a sparse file's holes).
    """

    BUFFER_ROWS = 4096

    def __init__(self, rows: int, dim: int, dtype):
        self.dtype, self.dim = np.dtype(dtype), dim
        self._file = tempfile.TemporaryFile(prefix="catalog-ingest-")
        self._rows = 0
        self._pending: dict[int, np.ndarray] = {}
        self.resize(rows)

    @property
    def shape(self) -> tuple[int, int]:
        return (self._rows, self.dim)

    def __len__(self) -> int:
        return self._rows

    def resize(self, rows: int) -> None:
        """Grow (new rows are zeros) or shrink to `rows` rows, in place."""
        self._flush()
        self._file.truncate(rows * self.dim * self.dtype.itemsize)
        self._rows = rows

    def _map(self) -> np.ndarray:
        return np.memmap(self._file, self.dtype, "r+", shape=(self._rows, self.dim))

    def __getitem__(self, rows) -> np.ndarray:
        self._flush()
        if self._rows == 0:
            return np.zeros((0, self.dim), self.dtype)[rows]
        mapped = self._map()
        try:
            return np.array(mapped[rows])  # a copy: the mapping goes when this returns
        finally:
            del mapped

    def __setitem__(self, rows, values) -> None:
        if isinstance(rows, (int, np.integer)):
            self._pending[int(rows)] = np.asarray(values, self.dtype)
            if len(self._pending) >= self.BUFFER_ROWS:
                self._flush()
            return
        self._flush()
        if self._rows:
            mapped = self._map()
            mapped[rows] = values
            del mapped

    def _flush(self) -> None:
        if not self._pending:
            return
        rows = np.fromiter(self._pending, np.int64, len(self._pending))
        values = np.stack(list(self._pending.values()))
        self._pending = {}
        self[rows] = values

    def rows_holding_data(self) -> np.ndarray:
        """Positions of the rows that are not all zeros, read a slice at a time."""
        found = [
            start + np.flatnonzero(self[start : start + SLICE_ROWS].any(axis=1))
            for start in range(0, self._rows, SLICE_ROWS)
        ]
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def close(self) -> None:
        self._pending = {}
        self._file.close()


@dataclass
class Products:
    """The catalog as an ingest holds it: scalar columns, vectors and photo features, aligned by row."""

    frame: pd.DataFrame
    vectors: dict[str, np.ndarray | Spool]  # node_vector in memory; PHOTO_VECTORS spooled
    features: Spool  # (rows, FEATURE_DIM) uint8; zeros for a product without a photo

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
        vectors, features = _zeros(count), _no_features(count)
        parts: list[pa.RecordBatch] = []
        start = 0
        columns = [*HELD_COLUMNS, *VECTOR_DIMS, FEATURES]
        for batch in table.search().select(columns).to_batches(batch_rows()):
            rows = batch.num_rows
            photo = np.flatnonzero(batch.column("has_image").to_numpy(zero_copy_only=False))
            for name, dim in VECTOR_DIMS.items():
                matrix = _matrix(batch.column(name), dim)
                # Only rows that hold something are copied: a photo-less row's zeros stay holes.
                wanted = np.arange(rows) if name == "node_vector" else photo
                vectors[name][start + wanted] = matrix[wanted]
            stored = batch.column(FEATURES)
            found = [(n, stored[int(n)].as_py()) for n in photo]
            found = [(n, value) for n, value in found if value is not None and len(value) == FEATURE_DIM]
            if found:
                features[start + np.array([n for n, _ in found])] = np.frombuffer(
                    b"".join(value for _, value in found), np.uint8
                ).reshape(-1, FEATURE_DIM)
            # A copy (take), not a selection: a batch imported from Lance frees its buffers only when
            # every column of it is gone, so keeping its held columns kept its vectors and features
            # (~1.9 KB a photo: +190 MB held through the whole ingest at 100k photos).
            parts.append(batch.select(HELD_COLUMNS).take(np.arange(rows)))
            start += rows
        if start != count:  # a writer would have had to change the table under our lock
            raise RuntimeError(f"read {start} products of {count}")
        measured = np.zeros(count, bool)
        measured[features.rows_holding_data()] = True
        missing = np.flatnonzero(_has_image(parts) & ~measured)
        if missing.size:
            _measure_missing_features(table, photos, parts, missing, features)
        held = pa.Table.from_batches(parts, schema=PRODUCTS_SCHEMA.empty_table().select(HELD_COLUMNS).schema)
        return cls(held.to_pandas(), vectors, features)

    def __len__(self) -> int:
        return len(self.frame)

    def take(self, index: np.ndarray) -> Products:
        """These rows (positions), as a new Products; this one's spools are closed."""
        index = np.asarray(index, np.int64)
        taken = Products(self.frame.iloc[index].reset_index(drop=True), _zeros(len(index)), _no_features(len(index)))
        taken.vectors["node_vector"][:] = self.vectors["node_vector"][index]
        photo = np.flatnonzero(self.frame["has_image"].to_numpy(bool)[index])
        for start in range(0, len(photo), SLICE_ROWS):  # a slice of the photo columns at a time
            target = photo[start : start + SLICE_ROWS]
            for name in PHOTO_VECTORS:
                taken.vectors[name][target] = self.vectors[name][index[target]]
            taken.features[target] = self.features[index[target]]
        self.drop_arrays()
        return taken

    def extend(self, additions: pd.DataFrame) -> None:
        """Append new products (frame rows with HELD_COLUMNS) with zero vectors and features."""
        old, new = len(self.frame), len(additions)
        self.frame = (
            additions.reset_index(drop=True) if old == 0 else pd.concat([self.frame, additions], ignore_index=True)
        )
        node = np.zeros((old + new, NODE_DIM), np.float32)
        node[:old] = self.vectors["node_vector"]
        self.vectors["node_vector"] = node
        for spool in (*(self.vectors[name] for name in PHOTO_VECTORS), self.features):
            spool.resize(old + new)  # the new rows are the file's new zeros: nothing is copied

    def reset_rec_vectors(self) -> None:
        """Every rec vector zero again (a full training translates every photo anew)."""
        spool = self.vectors["rec_vector"]
        spool.resize(0)
        spool.resize(len(self.frame))

    def drop_arrays(self) -> None:
        """Let go of the vectors and features (the frame stays): for after the products are written."""
        for name in PHOTO_VECTORS:
            self.vectors[name].close()
        self.features.close()
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


def set_cells(frame: pd.DataFrame, rows: np.ndarray, **columns) -> None:
    """`frame.loc[rows, column] = values` for each column given, one assignment a column.

    Never a cell at a time: a string column (pandas' `str` dtype, held in Arrow) is copied whole by
    every assignment, so setting an ingest's photo paths, stats and hashes one product at a time
    cost ~0.2 ms a cell at 100k products and grew with the catalog (an ingest quadratic in its
    photos, its memory churned by a column-sized copy per photo).
    """
    if len(rows):
        for column, values in columns.items():
            frame.loc[rows, column] = values


def _check_finite(matrix: np.ndarray, ids: np.ndarray, column: str) -> None:
    """A NaN or infinite vector would poison cosine search: fail the write (the database stays at its
    previous run), as LanceDB's `add` did before the full write went through Lance itself."""
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        raise CatalogError(f"product {int(ids[np.argmax(bad)])}: its {column} is not finite (NaN or infinite)")


def _no_features(rows: int) -> Spool:
    return Spool(rows, FEATURE_DIM, np.uint8)


def _zeros(rows: int) -> dict[str, np.ndarray | Spool]:
    """Zero node vectors in memory, zero photo vectors in spools."""
    return {
        name: Spool(rows, dim, np.float32) if name in PHOTO_VECTORS else np.zeros((rows, dim), np.float32)
        for name, dim in VECTOR_DIMS.items()
    }


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
