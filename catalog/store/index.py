"""Indexes on the products table: exact search for small catalogs, IVF above a row threshold.

Why the threshold is 20,000 rows (`python -m benchmarks.search`, benchmarks/README.md; 2 cores):
LanceDB's exact (flat) cosine scan of 32-d node vectors reads and decodes the whole column on
every query, so its p50 grows with the rows: 5.0 ms at 10k, 6.3 ms at 20k, 7.3 ms at 30k and
9.7-10.4 ms at the full 44,446-row catalog (quiet machine), which is the 10 ms budget with no
room for a loaded one (13.5 ms at load average 5); 17 ms at 100k, 137 ms at 1M. An IVF_FLAT
index with NPROBES probes answers in 4.1-5.4 ms from 20k to 44k rows with recall@10 of 0.999 to
1.0, and in ~10-19 ms at 1M rows with recall 0.998. Below 20k the two cost the same (a fixed
~4 ms per query), so small catalogs keep exact results.

IVF_FLAT rather than IVF_PQ: the vectors are small (32 and 128 floats), so storing them whole
costs little and the distances it returns are exact; a miss only comes from an unprobed partition.

Above the threshold the filters of a search need indexes too: `nearest` always prefilters
(`id NOT IN (the query product)`, `has_image = true`) and `get_product` looks a row up by id, and
without a scalar index each of those scans the whole column (~20 ms at 1M rows).

The image vectors' index is built in segments (`build_in_segments`): k-means centroids trained once
on a bounded sample, then one IVF segment per ~SEGMENT_ROWS rows (Lance's distributed index build,
`create_index_uncommitted`, every segment against the same centroids), merged into one segment
and committed as one index. LanceDB's one-call build holds every vector and its partition
assignment while it shuffles them into partitions: on the 100k-photo database it grew the process
by ~300 MB (+100 MB at 20k), on 1M 128-d vectors by 715 MB; in segments of 16,384 rows it grows by
~140 MB at 100k (+80 at 20k) and ~290 MB at 1M, the k-means sample included, with the same
recall and latency (benchmarks/README.md, "The image index built in segments"). It takes ~2× the
time (73 s against 34 s at 1M, Lance's merge of the segments most of the added time), nothing
beside the encoding of as many photos (~15 ms each). The node vectors keep the one-call build:
a photo-less ingest is quick (the index ~10% of a 1M run's 185 s; in segments the node index at
1M took 52 s against 11 s), and its peak is the graph stage, not the index.

Rows written after an index was built are not lost: LanceDB scans them flat and merges them with
the indexed results (we never ask for `fast_search`). Once they are a large share of the table
the flat part dominates again, so the index is rebuilt. Every full ingest re-embeds the graph and
so rewrites every row, which means a rebuild (IVF centroids trained on the old vectors would not
fit the new ones): ~75 s for all four indexes at 1M rows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

# Vector columns searched by `catalog.query.search.nearest` (rec and graph both search node_vector),
# then the scalar columns its filters and `get_product` use.
VECTOR_COLUMNS = ("node_vector", "image_vector")
INDEXED_COLUMNS = (*VECTOR_COLUMNS, "id", "has_image", "tie_rank")

SEARCHED_ROWS = {"image_vector": "has_image = true"}  # the rows a search of the column can return

ROWS_THRESHOLD = 20_000  # below this many rows, search stays exact (no index)
SEGMENTED_COLUMNS = ("image_vector",)  # vector columns whose index is built in segments (see above)
SEGMENT_ROWS = 16_384  # rows per segment: one products data file (FILE_ROWS in catalog/store/database.py)
# At most this many photos train the segments' k-means (Lance's default of 256 per partition up
# to it: 256 at 20k-65k photos, 207 at 100k, 65 at 1M), so the training sample stops growing with the
# catalog. k-means quality with 64 per partition: recall@10 the same within noise at 100k (0.907-0.917).
TRAINING_ROWS = 65_536
REBUILD_SHARE = 0.1  # rebuild once rows outside the index exceed this share of the table
# IVF partitions probed per query, at least. At 1M rows (1,000 partitions) recall@10 was 0.986 with
# 5, 0.990 with 10, 0.995 with 20, 0.998 with 40, and latency the same within noise (~12 ms CPU).
NPROBES = 40


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


def find_index(table, column: str):
    """The index on `column` (an IndexConfig), or None."""
    return next((index for index in table.list_indices() if list(index.columns) == [column]), None)


def _config(column: str, rows: int):
    from lancedb.index import Bitmap, BTree, IvfFlat

    if column in VECTOR_COLUMNS:
        return IvfFlat(distance_type="cosine", num_partitions=num_partitions(rows))
    # A bitmap suits a column of few values (has_image; tie_rank, at most TIE_RANKS + 2); a B-tree
    # finds one id among many.
    return Bitmap() if column in ("has_image", "tie_rank") else BTree()


def ensure_index(
    table, column: str, rows_threshold: int = ROWS_THRESHOLD, segment_rows: int = SEGMENT_ROWS, discard=None
) -> IndexChange:
    """No index on `column` below `rows_threshold` rows; an up-to-date one at or above it.

    `table` is a writer's fenced table (`FencedTable`: the ingest writer's `products`). Call this after the
    products are written and before their new rows are folded into the indexes (folded in, they
    no longer count as unindexed, which would hide a stale index) and before the run is committed
    (so the run records the indexed version): `Writer.compact` calls it between merging the data
    files and folding the rest in.
    An index is rebuilt when more than REBUILD_SHARE of the rows were written after it.
    """
    started = time.perf_counter()
    # Products without a photo hold a zero image vector, which cosine search never returns (and
    # k-means cannot train on): only the others count.
    rows = table.count_rows(SEARCHED_ROWS.get(column))
    existing = find_index(table, column)

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

    segmented = column in SEGMENTED_COLUMNS and build_in_segments(
        table, column, num_partitions(rows), segment_rows, rows, discard
    )
    if not segmented:
        table.create_index(column, config=_config(column, rows), replace=True)
    return IndexChange(column, "rebuilt" if existing else "built", rows, 0, time.perf_counter() - started)


def ensure_indexes(
    table, rows_threshold: int = ROWS_THRESHOLD, segment_rows: int = SEGMENT_ROWS, discard=None
) -> list[IndexChange]:
    """`ensure_index` for every column the search path uses (see INDEXED_COLUMNS); `discard`: see
    `build_in_segments`."""
    return [ensure_index(table, column, rows_threshold, segment_rows, discard) for column in INDEXED_COLUMNS]


def unindexed_indexes(dataset) -> list[str]:
    """Names of the dataset's indexes that rows written since they were built are missing from:
    the ones `optimize_indices` has something to fold into. Given no names, Lance rewrites every
    vector index, even one that covers every row (on a fresh 100k-photo table: both IVF indexes,
    6-8 s and +230 MB, the peak of the ingest's write)."""
    names = [index.name for index in dataset.describe_indices()]
    return [name for name in names if dataset.stats.index_stats(name)["num_unindexed_rows"] > 0]


def fragment_groups(dataset, rows: int) -> list[list[int]]:
    """The dataset's data files (fragment ids) in order, grouped into runs of about `rows` rows."""
    groups: list[list[int]] = [[]]
    held = 0
    for fragment in dataset.get_fragments():
        count = fragment.count_rows()
        if held and held + count > rows:  # a group never grows past `rows` unless one file does
            groups.append([])
            held = 0
        groups[-1].append(fragment.fragment_id)
        held += count
    return groups if groups[0] else []


def build_in_segments(
    table, column: str, partitions: int, segment_rows: int, searched_rows: int | None = None, discard=None
) -> bool:
    """Build `column`'s IVF_FLAT index one segment of data files at a time (see the module's
    docstring), replacing any index on it in one commit. False, having built nothing, when the
    table's files make a single segment: the one-call build is then the same work.

    The segments are written under the table's `_indices/` and published only by the last call,
    after the writer's lock is checked (Lance's calls go around the fenced table); a writer that
    dies before it leaves unreferenced files and the table unchanged. Merging writes a new
    segment and leaves the per-file ones, which no version refers to (about one index's worth of
    files): `discard(uuid)` deletes each after the commit (the writer passes one that deletes the
    folder through the database's storage, catalog/store/database.py).

    `searched_rows`: the rows with a vector search can return (the photos); Lance samples the
    training vectors from every row and drops the zero vectors of products without a photo, so
    the sample rate is raised by the table's share of them to train on ~TRAINING_ROWS photos.
    """
    from lance.indices import IndicesBuilder

    dataset = table.to_lance()
    groups = fragment_groups(dataset, segment_rows)
    if len(groups) < 2:
        return False
    # Lance trains on sample_rate rows per partition and refuses more than the table holds.
    total = dataset.count_rows()
    wanted = min(256, TRAINING_ROWS // partitions) * total / max(searched_rows or total, 1)
    sample_rate = max(2, min(math.ceil(wanted), total // partitions))
    model = IndicesBuilder(dataset, column).train_ivf(partitions, distance_type="cosine", sample_rate=sample_rate)
    segments = [
        dataset.create_index_uncommitted(
            column,
            "IVF_FLAT",
            metric="cosine",
            num_partitions=partitions,
            ivf_centroids=model.centroids,
            fragment_ids=group,
            replace=True,
        )
        for group in groups
    ]
    merged = dataset.merge_existing_index_segments(segments)
    table.check_lock()
    dataset.commit_existing_index_segments(f"{column}_idx", column, [merged])
    table.checkout_latest()
    if discard is not None:
        for segment in segments:
            if str(segment.uuid) != str(merged.uuid):
                discard(str(segment.uuid))
    return True


def tune_query(query, bounded: bool = False):
    """Recall settings for a vector query; an exact scan (no index) ignores them.

    NPROBES is a minimum; with no maximum, a narrow filter may probe further partitions to fill k.
    `bounded` probes exactly NPROBES: for a query that cannot fill its limit, such as the range
    query completing a tie (`catalog.query.search`), no maximum means every partition, a full scan (at
    1M rows `similar --space graph` with ties took 40-41 ms of CPU that way, 23.5-24 with NPROBES).
    """
    return query.nprobes(NPROBES) if bounded else query.minimum_nprobes(NPROBES).maximum_nprobes(0)
