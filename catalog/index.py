"""Vector indexes on the products table: exact search for small catalogs, IVF above a threshold.

Why a threshold (measured by `python -m benchmarks.search`, see benchmarks/README.md): a flat
cosine scan over 32-d node vectors is exact and takes a few milliseconds at the full 44k
catalog, well inside the 10 ms budget, so an index there would only cost build time and recall.
The scan grows linearly with the rows; an IVF_FLAT index keeps a query near constant by
scanning only the `NPROBES` partitions closest to it.

Rows written after an index was built are not lost: LanceDB scans them flat and merges them with
the indexed results (we never ask for `fast_search`). Once they are a large share of the table
the flat part dominates again, so the index is rebuilt. Every ingest re-embeds the graph and so
rewrites every node vector; in practice that means a rebuild after each full ingest.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

# Columns searched by `catalog.search.nearest` (rec and graph both search node_vector).
INDEXED_COLUMNS = ("node_vector", "image_vector")

ROWS_THRESHOLD = 200_000  # below this many rows, search stays exact (no index)
REBUILD_SHARE = 0.1  # rebuild once rows outside the index exceed this share of the table
NPROBES = 20  # IVF partitions scanned per query: recall@10 >= 0.98 at 1M rows (benchmark)


@dataclass(frozen=True)
class IndexChange:
    """What `ensure_index` did to one column, for the ingest summary."""

    column: str
    action: str  # "exact" (no index, none needed) | "kept" | "built" | "rebuilt" | "dropped"
    rows: int
    unindexed_rows: int  # rows searched by flat scan after the call
    seconds: float


def num_partitions(rows: int) -> int:
    """About sqrt(rows) partitions (LanceDB's own rule), so each holds about sqrt(rows) vectors.

    At most rows / 256: k-means trains on 256 samples per partition and leaves partitions empty
    (with a warning) when the table holds fewer.
    """
    return max(1, min(int(math.sqrt(rows)), rows // 256))


def vector_index(table, column: str):
    """The vector index on `column`, or None."""
    for index in table.list_indices():
        if column in index.columns and index.index_type.upper().startswith("IVF"):
            return index
    return None


def ensure_index(table, column: str, rows_threshold: int = ROWS_THRESHOLD) -> IndexChange:
    """Make `column` exact below `rows_threshold` rows and IVF-indexed at or above it.

    `table` is a writable LanceDB table (the ingest writer's `products`); call this after the
    products are written and before the run is committed, so the run records the indexed version.
    An index is rebuilt when more than REBUILD_SHARE of the rows were written after it.
    """
    started = time.perf_counter()
    rows = table.count_rows()
    existing = vector_index(table, column)

    if rows < rows_threshold:
        if existing is None:
            return IndexChange(column, "exact", rows, rows, 0.0)
        # A table that shrank below the threshold goes back to exact search.
        table.drop_index(existing.name)
        return IndexChange(column, "dropped", rows, rows, time.perf_counter() - started)

    if existing is not None:
        unindexed = table.index_stats(existing.name).num_unindexed_rows
        if unindexed <= REBUILD_SHARE * rows:
            return IndexChange(column, "kept", rows, unindexed, 0.0)

    from lancedb.index import IvfFlat

    table.create_index(column, config=IvfFlat(distance_type="cosine", num_partitions=num_partitions(rows)), replace=True)
    return IndexChange(column, "rebuilt" if existing else "built", rows, 0, time.perf_counter() - started)


def tune_query(query):
    """Recall settings for a vector query; an exact scan (no index) ignores them.

    Only the minimum is set: with a narrow filter LanceDB may probe further partitions to fill k.
    """
    return query.minimum_nprobes(NPROBES)
