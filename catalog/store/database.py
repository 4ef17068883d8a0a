"""The LanceDB database: table schemas, the commit log, and consistent reads.

Four tables live in the database folder, plus content-addressed model files in `models/`:

- `products`: one row per product (styles columns, hashes, the three vectors, photo features);
- `photos`: each distinct photo's thumbnail by the sha256 of its bytes, append-only, written by
  whoever encodes the photos (catalog/store/photos.py explains why it is a table of its own);
- `attributes`: one row per attribute value (`baseColour=Green`) with its graph vector;
- `runs`: the commit log. Every ingest appends one record naming the versions of `products` and
  `attributes` it produced and the model files it used.

Why a commit log: LanceDB versions each table separately, so an ingest that writes two tables
is two commits. Readers therefore never look at "the latest" table version; they check out the
versions named by the newest run record, and a writer appends that record last. A crash between
the table writes and the run record leaves the newest record pointing at the previous, complete
state, and the next writer restores the tables to it before writing. The same record makes
history and rollback one lookup.

The database may be a local folder or a prefix on an object store (`s3://`, `gs://`, `az://`):
`catalog/store/storage.py` holds everything that differs (files beside the tables, the write lock), and
docs/object-storage.md explains how the guarantees hold without `fcntl`.
"""

from __future__ import annotations

import errno
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from catalog.core.columns import ATTRIBUTE_COLUMNS, IMAGE_DIM, NAME_COLUMN, NODE_DIM
from catalog.core.errors import CatalogError
from catalog.core.keys import sql_ids, sql_strings
from catalog.store.photos import PHOTOS, PHOTOS_SCHEMA, legacy_thumbnails, write_fragments
from catalog.store.storage import DbLocation, db_location, open_storage

# 2: products gained `tie_rank`, which a writer must keep (0 on every row it writes); a catalog
# that predates it would write rows without it, so it refuses a database of this version.
SCHEMA_VERSION = 2
# Storage policy: the newest KEEP_RUNS runs stay restorable with `catalog rollback`; table versions
# older than that are deleted when a writer compacts, so many small ingests keep a bounded disk size.
KEEP_RUNS = 20
# Rows per data file of the tables that grow with the catalog. Lance's writer holds a file's rows
# until it closes the file, and compaction merges small files up to about its target size (it may
# make a file up to about twice that), so these bound the memory of a full write and of every
# compaction (instead of the whole table: LanceDB's own `optimize` merges up to 1M rows, and a
# 100k-photo table's thumbnails are ~400 MB). A products row is ~1.4 KB (three vectors, photo
# features, strings): 16,384 rows is ~23 MB; a photos row is its 96-pixel thumbnail, ~4 KB: 8,192
# rows is ~32 MB; attributes rows are small and few. Searches do not slow down with more files
# (benchmarks/README.md, "Data files of bounded rows", with the memory it saves).
FILE_ROWS = {"products": 16_384, PHOTOS: 8_192, "attributes": 16_384}


def _vector(dim: int) -> pa.DataType:
    return pa.list_(pa.float32(), dim)


PRODUCTS_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        *[(column, pa.string()) for column in ATTRIBUTE_COLUMNS],
        (NAME_COLUMN, pa.string()),
        ("image_path", pa.string()),
        ("has_image", pa.bool_()),
        ("row_hash", pa.string()),  # hash of the styles values: detects changed rows
        ("image_hash", pa.string()),  # hash of the image file bytes: detects changed photos
        ("image_stat", pa.string()),  # "size:mtime_ns" of the photo: skips re-hashing unchanged files
        ("encoder_id", pa.string()),  # which encoder made image_vector
        ("image_vector", _vector(IMAGE_DIM)),
        # catalog/core/photo_features.py, measured on the thumbnail (in the photos table, by image_hash): FEATURE_DIM bytes (uint8 values),
        # null without a photo (a binary, not a fixed-size list, so a photo-less row stores nothing),
        # or in a row written before they were stored (then measured from the thumbnail when needed).
        ("photo_features", pa.binary()),
        ("node_vector", _vector(NODE_DIM)),
        ("rec_vector", _vector(NODE_DIM)),
        ("node_source", pa.string()),  # "walks" (trained) or "inferred" (placed incrementally)
        # Place by id among the photo-less products of its combination, as of the last full write
        # (catalog/core/ranking.py `tie_ranks`); 0 for a photo and for a row written since. Lets a
        # search read the first few products of a large tie instead of all of it.
        ("tie_rank", pa.int64()),
        ("run", pa.int64()),  # the run that last wrote this row
    ]
)

ATTRIBUTES_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("column", pa.string()),
        ("value", pa.string()),
        ("degree", pa.int64()),
        ("vector", _vector(NODE_DIM)),
        ("node_source", pa.string()),
        ("run", pa.int64()),
    ]
)

RUNS_SCHEMA = pa.schema(
    [
        ("run", pa.int64()),
        ("kind", pa.string()),  # ingest | rebuild | remove | rollback
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("schema_version", pa.int64()),
        ("products_version", pa.int64()),
        ("attributes_version", pa.int64()),
        ("encoder", pa.string()),  # JSON: EncoderInfo fields + id + head file
        ("node2vec", pa.string()),  # JSON: Node2VecParams
        ("linker", pa.string()),  # JSON: linker params + file
        ("metrics", pa.string()),  # JSON: timings, losses, counts
        ("summary", pa.string()),  # JSON: added/changed/removed/rejected
    ]
)

TABLES = {"products": PRODUCTS_SCHEMA, "attributes": ATTRIBUTES_SCHEMA, PHOTOS: PHOTOS_SCHEMA, "runs": RUNS_SCHEMA}
JSON_FIELDS = ("encoder", "node2vec", "linker", "metrics", "summary")
# What a database folder holds; a writer refuses an uncommitted folder with anything else in it.
# Write failures that say the disk cannot take the change (full, over quota, read-only), not a bug.
DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)
DATABASE_ENTRIES = {".lock", "models", "checkpoints", *(f"{name}.lance" for name in TABLES)}


def _error_number(error: OSError) -> int | None:
    """The errno of a write failure: LanceDB sets it; Lance's own writer (photo data files,
    catalog/store/photos.py) raises a bare OSError whose message ends "(os error 28)"."""
    if error.errno is not None:
        return error.errno
    found = re.search(r"\(os error (\d+)\)", str(error))
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Run:
    """One committed state of the database."""

    run: int
    kind: str
    created_at: datetime
    products_version: int
    attributes_version: int
    encoder: dict[str, Any]
    node2vec: dict[str, Any]
    linker: dict[str, Any]
    metrics: dict[str, Any]
    summary: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Run":
        fields = {name: row[name] for name in cls.__dataclass_fields__}
        for name in JSON_FIELDS:
            fields[name] = json.loads(row[name] or "{}")
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """The run as `catalog history --json` prints it (time in ISO 8601, UTC)."""
        return {
            "run": self.run,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "summary": self.summary,
            "products_version": self.products_version,
            "attributes_version": self.attributes_version,
        }


def default_db_path() -> Path | str:
    return db_location(os.environ.get("CATALOG_DB") or "db")


class Store:
    """A catalog database (a folder, or an object-store prefix). Reads see the newest committed run."""

    def __init__(self, path: Path | str | DbLocation, storage_options: dict[str, str] | None = None):
        self.storage = open_storage(path, storage_options)
        # Shown in messages; a Path for a folder, the URI for an object store.
        self.path = self.storage.root if self.storage.is_local else self.storage.uri
        self._db = None
        self._tables: dict[str, Any] = {}
        self._read_tables: dict[tuple[str, int], Any] = {}  # `table`'s handles, at the run's versions
        self._run: Run | None = None
        self._photos: Any = None  # the photos table once opened (False: the database has none)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | str | DbLocation, storage_options: dict[str, str] | None = None) -> "Store":
        """Open an existing database for reading; a clear error if there is none."""
        store = cls(path, storage_options)
        if not store.storage.exists():
            raise CatalogError(f"no catalog database at {store.path} (run `catalog ingest` first, or pass --db)")
        if not store.storage.has_table("runs"):
            raise CatalogError(f"{store.path} is not a catalog database (no runs table)")
        if store.run is None:
            raise CatalogError(f"the database at {store.path} holds no completed ingest yet")
        store._check_schema()
        return store

    def _check_schema(self) -> None:
        if self.run_schema_version() > SCHEMA_VERSION:
            raise CatalogError(
                f"the database at {self.path} was written by a newer catalog (schema "
                f"{self.run_schema_version()}); upgrade catalog to use it"
            )

    @property
    def db(self):
        if self._db is None:
            import lancedb

            self._db = lancedb.connect(self.storage.lance_uri, storage_options=self.storage.storage_options or None)
        return self._db

    def _raw_table(self, name: str, lock=None):
        """The table at its latest version, created empty if missing (writers only), fenced by `lock`."""
        if name not in self._tables:
            try:
                table = self.db.open_table(name)
            except (FileNotFoundError, ValueError):
                table = self.db.create_table(name, schema=TABLES[name])
            self._tables[name] = FencedTable(table, lock)
        return self._tables[name]

    def table(self, name: str):
        """`products` or `attributes` checked out at the committed version (read-only)."""
        run = self.run
        if run is None:
            raise CatalogError(f"the database at {self.path} holds no completed ingest yet")
        version = run.products_version if name == "products" else run.attributes_version
        # One handle per table and version for the life of this view: opening one reads the
        # table's manifest (~1 ms at 10M products in 610 files), and a `similar` asks four times.
        key = (name, version)
        table = self._read_tables.get(key)
        if table is None:
            table = self.db.open_table(name)
            if table.version != version:
                table.checkout(version)
            self._read_tables[key] = table
        return table

    def photos(self):
        """The photos table (append-only and keyed by content, so a reader needs no pinned version:
        catalog/store/photos.py), or None in a database written before it existed. Opened after the
        run is read, so it holds every photo that run's products name; kept until `refresh`."""
        if self._photos is None:
            _ = self.run
            self._photos = self.db.open_table(PHOTOS) if self.storage.has_table(PHOTOS) else False
        return self._photos or None

    # -- the commit log -------------------------------------------------------------------------

    @property
    def run(self) -> Run | None:
        """The newest committed run (cached for the life of this handle: one consistent view)."""
        if self._run is None:
            runs = self.runs()
            self._run = runs[-1] if runs else None
        return self._run

    def runs(self) -> list[Run]:
        if not self.storage.has_table("runs"):
            return []
        rows = self.db.open_table("runs").to_arrow().sort_by("run").to_pylist()
        return [Run.from_row(row) for row in rows]

    def latest_run_number(self) -> int:
        """The newest committed run now, read afresh (not the cached view): for a reader that follows
        commits. Reads only the `run` column of the commit log (~1 ms)."""
        runs = self.db.open_table("runs").search().select(["run"]).to_arrow().column("run")
        return max(runs.to_pylist(), default=0)

    def run_schema_version(self) -> int:
        rows = self.db.open_table("runs").to_arrow().sort_by("run").column("schema_version").to_pylist()
        return rows[-1] if rows else SCHEMA_VERSION

    def refresh(self) -> None:
        """Forget the cached view so the next read sees the newest committed run."""
        self._run = None
        self._photos = None
        self._tables.clear()
        self._read_tables.clear()

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def writer(self) -> Iterator["Writer"]:
        """Exclusive write access; restores any half-written state left by a crashed writer."""
        self.storage.check_is_folder()
        if not self.storage.has_table("runs"):
            # A location with other things in it is someone else's (a typo in --db): never write into it.
            strangers = sorted(name for name in self.storage.entries() if name not in DATABASE_ENTRIES)
            if strangers:
                raise CatalogError(
                    f"{self.path} is not a catalog database (it holds {strangers[0]!r}); "
                    "give --db a new or empty folder"
                )
        self.storage.prepare()
        with self.storage.write_lock() as lock:
            try:
                self.refresh()
                if self.run is not None:
                    self._check_schema()  # before _recover: a newer catalog's tables are not ours to restore
                self._recover(lock)
                yield Writer(self, lock)
            except OSError as error:
                code = _error_number(error)
                if code not in DISK_ERRORS:
                    raise
                raise CatalogError(
                    f"cannot write to the database folder {self.path}: {os.strerror(code)}; nothing was committed"
                ) from None
            finally:
                self.refresh()

    # -- files beside the tables ---------------------------------------------------------------

    def read_file(self, key: str) -> bytes:
        """A file of the database (`models/...`, `eval.json`) by its path inside the database."""
        try:
            return self.storage.read_bytes(key)
        except FileNotFoundError:
            raise CatalogError(f"{key} is missing from the database at {self.path}") from None

    def local_file(self, key: str) -> Path:
        """A file of the database as a local path (a cached copy when the database is remote)."""
        try:
            return self.storage.local_path(key)
        except FileNotFoundError:
            raise CatalogError(f"{key} is missing from the database at {self.path}") from None

    def save_model(self, prefix: str, data: bytes, suffix: str) -> str:
        """Write a content-addressed model file (never overwritten, so old runs keep theirs); its key."""
        return self.storage.put_content_addressed("models", prefix, data, suffix)

    def _recover(self, lock=None) -> None:
        """Bring products/attributes back to the committed versions if a writer died mid-way."""
        run = self.run
        for name in ("products", "attributes"):
            table = self._raw_table(name, lock)
            committed = 1 if run is None else (run.products_version if name == "products" else run.attributes_version)
            if table.version != committed:
                table.restore(committed)
        self._raw_table("runs", lock)


class FencedTable:
    """A writer's LanceDB table whose every change first checks that the writer still holds the lock.

    On an object store the lock is a lease (catalog/store/lease.py) that a stalled writer can lose
    to another writer: without this check it would go on upserting, deleting, compacting and
    building indexes on top of the new writer's work, and only its run record would be refused.
    Fencing the table itself, not each caller, covers every step that changes the database (the
    pipeline's writes, compaction and cleanup, index builds in catalog/store/index.py, rollback's
    restore) with one rule. On a folder the lock is `fcntl` (`LocalLock.check` does nothing): the
    kernel holds it for as long as the process lives, so it cannot be lost.
    """

    CHANGES = frozenset(
        {
            "add",
            "merge_insert",
            "delete",
            "update",
            "optimize",
            "compact_files",
            "cleanup_old_versions",
            "create_index",
            "create_scalar_index",
            "create_fts_index",
            "drop_index",
            "restore",
            "add_columns",
            "alter_columns",
            "drop_columns",
        }
    )

    def __init__(self, table, lock=None):
        self._table = table
        self._lock = lock

    def check_lock(self) -> None:
        """Raise (CatalogError) if this writer no longer holds the lock: for a change made around the
        table, straight through Lance (a vector index built in segments, catalog/store/index.py)."""
        if self._lock is not None:
            self._lock.check()

    def __getattr__(self, name: str):
        attribute = getattr(self._table, name)
        if name in self.CHANGES:
            self.check_lock()  # raises CatalogError once another writer has taken the lock over
        return attribute


def migrate(table, schema: pa.Schema) -> None:
    """Add the columns a table written by an older catalog lacks (empty/false/zero), in place.

    The new columns are part of the writer's next version, so they commit with its run (and a
    failed ingest leaves the restored, unmigrated state for the next writer to migrate again).
    """
    present = set(table.schema.names)
    defaults = {pa.string(): "CAST('' AS STRING)", pa.bool_(): "false", pa.int64(): "CAST(0 AS BIGINT)"}
    missing = {f.name: defaults[f.type] for f in schema if f.name not in present and f.type in defaults}
    if missing:
        table.add_columns(missing)
    empty = [
        pa.field(f.name, f.type, nullable=True) for f in schema if f.name not in present and f.type not in defaults
    ]
    if empty:  # columns with no SQL default (photo_features): added all null
        table.add_columns(empty)


class Writer:
    """The write side of one logical change. Nothing is visible to readers until `commit`."""

    def __init__(self, store: Store, lock=None):
        self.store = store
        self.lock = lock
        # Fenced (FencedTable): every change checks the lock first, so a writer that lost it stops.
        self.products = store._raw_table("products", lock)
        self.attributes = store._raw_table("attributes", lock)
        self.photos = store._raw_table(PHOTOS, lock)
        self._photos_version: int | None = None  # the photos dataset's version after this writer's last append
        migrate(self.products, PRODUCTS_SCHEMA)
        migrate(self.attributes, ATTRIBUTES_SCHEMA)
        self._move_thumbnails()
        self.runs = store._raw_table("runs", lock)

    def photos_location(self) -> tuple[str, dict[str, str]]:
        """Where the photos table's data files go (its dataset URI and storage options): what an
        encoding worker needs to write them (`catalog.store.photos.write_fragments`)."""
        return self.photos.to_lance().uri, dict(self.store.storage.storage_options or {})

    def append_photos(self, fragments: list) -> None:
        """Commit photo data files written by workers (or by this process) as one Append.

        Fenced like every other change. Visible to readers at once, harmlessly: no products row of a
        committed run names these hashes until this writer's run record does."""
        if not fragments:
            return
        import lance

        self._check_lock()
        uri, options = self.photos_location()
        if self._photos_version is None:
            self._photos_version = self.photos.version
        # Through the dataset's URI, and the LanceDB table left where it was until compaction brings
        # it up to date: each version the table is checked out at stays in its connection's metadata
        # cache (a manifest that lists every file so far), so an append every FLUSH_EVERY photos
        # grew the process quadratically: +55 MB after 100k photos (400 appends), +7 MB after 20k.
        operation = lance.LanceOperation.Append(list(fragments))
        committed = lance.LanceDataset.commit(
            uri, operation, read_version=self._photos_version, storage_options=options or None
        )
        self._photos_version = committed.version

    def _move_thumbnails(self) -> None:
        """A products table written before the photos table: its thumbnails move there and its
        `thumbnail` column is dropped, as part of this writer's run (a failed run is restored with
        the column, and the next writer moves them again; the rows it added stay, unread)."""
        if "thumbnail" not in self.products.schema.names:
            return
        uri, options = self.photos_location()
        fragments = []
        for rows in legacy_thumbnails(self.products, 4096):
            fragments += write_fragments(rows, uri, options)
        self.append_photos(fragments)
        self.photos.checkout_latest()  # read next (`Products.read` measures features from these thumbnails)
        self.products.drop_columns(["thumbnail"])

    @property
    def previous(self) -> Run | None:
        return self.store.run

    def upsert_products(self, rows: pa.Table | pa.RecordBatchReader, replace: bool = False) -> None:
        """Insert or update products by id; with `replace`, the rows become the whole table.

        `replace` takes a stream of record batches (a full ingest or rebuild: every product, written
        as one new table version without holding the table in memory); the rows of the previous
        version stay in the table's history for rollback, and readers keep the version their run
        record names until the next run record.
        """
        if replace:
            import lance

            self._check_lock()  # lance.write_dataset goes around the fenced table
            dataset = self.products.to_lance()
            lance.write_dataset(
                rows.cast(PRODUCTS_SCHEMA),  # LanceDB's add cast to the table's schema; write_dataset does not
                dataset.uri,
                mode="overwrite",
                max_rows_per_file=FILE_ROWS["products"],
                data_storage_version=dataset.data_storage_version,
                storage_options=self.store.storage.storage_options or None,
            )
            self.products.checkout_latest()
            return
        if rows.num_rows:
            rows = rows.select(PRODUCTS_SCHEMA.names).cast(PRODUCTS_SCHEMA)
            self.products.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(rows)

    def delete_products(self, ids: list[int]) -> None:
        if ids:
            self.products.delete(f"id IN ({sql_ids(ids)})")

    def replace_attributes(self, rows: pa.Table) -> None:
        """Upsert attribute rows by key and drop keys that no longer occur."""
        rows = rows.select(ATTRIBUTES_SCHEMA.names).cast(ATTRIBUTES_SCHEMA)
        if rows.num_rows:
            self.attributes.merge_insert("key").when_matched_update_all().when_not_matched_insert_all().execute(rows)
        keep = set(rows.column("key").to_pylist())
        stale = [key for key in self.attributes.to_arrow().column("key").to_pylist() if key not in keep]
        if stale:
            self.attributes.delete(f"key IN ({sql_strings(stale)})")

    def compact(self) -> None:
        """Merge small fragments and delete table versions older than the kept runs.

        Done before the run record is written, so the version the record names is the compacted
        one (a later writer never has to restore an uncompacted state).
        """
        runs = self.store.runs()
        cutoff = None
        if len(runs) >= KEEP_RUNS:
            # The runs kept after this commit are the newest KEEP_RUNS - 1 plus the new one. Their table
            # versions were all written after the run before them was recorded: older ones can go.
            boundary = runs[-KEEP_RUNS].created_at
            cutoff = max(datetime.now(timezone.utc) - boundary, timedelta(seconds=1))
        from catalog.store.index import ensure_index, ensure_indexes  # exact below a row threshold, IVF above it

        indexes = {
            "products": lambda: ensure_indexes(self.products, discard=self.discard_product_index),
            PHOTOS: lambda: [ensure_index(self.photos, "image_hash")],  # thumbnails are looked up by hash
            "attributes": lambda: [],
        }
        self.index_changes = []
        for name, table in (("products", self.products), (PHOTOS, self.photos), ("attributes", self.attributes)):
            self.index_changes += self._compact(table, FILE_ROWS[name], cutoff, indexes[name])
        if cutoff is not None:
            self.runs.optimize(cleanup_older_than=cutoff)

    def _compact(self, table, file_rows: int, cutoff: timedelta | None, ensure_indexes) -> list:
        """What LanceDB's `optimize` does (merge small files, fold new rows into the indexes, delete
        old versions), with files merged only up to about `file_rows` rows (FILE_ROWS), the indexes
        brought up to date by `ensure_indexes` in between (it returns their `IndexChange`s), and old
        versions deleted only past `cutoff` (None: none deleted). Each step is a commit of its own,
        so each checks the lock first (the dataset is not the fenced table)."""
        from catalog.store.index import unindexed_indexes

        self._check_lock()
        # From the table's latest version: the photos table's handle lags its appends (append_photos).
        table.checkout_latest()
        table.to_lance().optimize.compact_files(target_rows_per_fragment=file_rows)
        table.checkout_latest()
        # Before the new rows are folded in: folded into an index, they keep its old centroids and
        # no longer count as unindexed, which hid a stale index from the rebuild that
        # catalog/store/index.py makes once REBUILD_SHARE of the rows are new.
        changes = ensure_indexes()
        dataset = table.to_lance()
        stale = unindexed_indexes(dataset)
        if stale:  # only these: Lance rewrites every vector index it is given, even one with nothing to add
            self._check_lock()
            dataset.optimize.optimize_indices(index_names=stale)
        # Not LanceDB's default of 7 days when there is no cutoff: with fewer than KEEP_RUNS runs every
        # version a run names must stay, or a run older than 7 days could be neither read, restored
        # after a failed ingest, nor rolled back to.
        if cutoff is not None:
            self._check_lock()
            dataset.cleanup_old_versions(older_than=cutoff)
        table.checkout_latest()
        return changes

    def _check_lock(self) -> None:
        if self.lock is not None:
            self.lock.check()

    def discard_product_index(self, uuid: str) -> None:
        """Delete an index segment of the products table that no version refers to: the per-file
        segments a merged image index leaves behind (catalog/store/index.py, `build_in_segments`)."""
        self.store.storage.delete_prefix(f"products.lance/_indices/{uuid}")

    def commit(self, kind: str, *, encoder: dict, node2vec: dict, linker: dict, metrics: dict, summary: dict) -> Run:
        """Append the run record: from here on readers see the new state."""
        previous = self.previous
        record = {
            "run": (previous.run + 1) if previous else 1,
            "kind": kind,
            "created_at": datetime.now(timezone.utc),
            "schema_version": SCHEMA_VERSION,
            "products_version": self.products.version,
            "attributes_version": self.attributes.version,
            "encoder": json.dumps(encoder),
            "node2vec": json.dumps(node2vec),
            "linker": json.dumps(linker),
            "metrics": json.dumps(metrics),
            "summary": json.dumps(summary),
        }
        self.runs.add(pa.Table.from_pylist([record], schema=RUNS_SCHEMA))
        self.store.refresh()
        return self.store.run
