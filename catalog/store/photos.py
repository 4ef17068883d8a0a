"""The `photos` table: each distinct photo's thumbnail, keyed by the sha256 of the photo's bytes.

Why thumbnails live in a table of their own, not in the products rows:

- **Workers write it.** With `--engine ray` the machines that read and encode the photos write
  these rows themselves, as Lance data files (`write_fragments`, Lance's distributed write), and
  hand the driver only the files' metadata; the driver commits them in one `Append`
  (`Writer.append_photos`). The bytes never pass through the driver, which receives only what
  training needs (ids, hashes, vectors, photo features). The products rows, which the driver
  writes after training, hold no photo bytes at all.
- **It needs no pinning, so it needs no place in the run record.** A row's key is its content:
  a row never changes once written, only new rows are added, and a products row names its photo
  by `image_hash`. Readers look thumbnails up by the hashes of the products version their run
  record names, so rows a failed or unfinished run added are simply never asked for, and history
  and rollback keep working with the tables they always had (an old products version's hashes are
  all here: nothing is ever deleted).
- **It doubles as the encoding checkpoint's thumbnail store**: an ingest appends its photos as it
  encodes them (every FLUSH_EVERY photos, ingest/checkpoints.py), so a resumed ingest has them.
- **Rewriting a product is cheap**: a full ingest or rebuild rewrites every products row (new
  node vectors) without reading back and rewriting every thumbnail.

The same photo bytes under two products are one row. A photo re-added after a crash may be two
rows with the same hash and bytes; either answers. Databases written before this table existed
keep their thumbnails in the products table's `thumbnail` column until their next writer moves
them here (`migrate_thumbnails`); `thumbnails_of` reads either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from catalog.core.keys import sql_ids, sql_strings

PHOTOS = "photos"
PHOTOS_SCHEMA = pa.schema([("image_hash", pa.string()), ("thumbnail", pa.binary())])
LOOKUP_ROWS = 1024  # hashes per `IN (...)` query


def photo_rows(hashes: Iterable[str], thumbnails: Iterable[bytes]) -> pa.Table:
    return pa.table([pa.array(list(hashes), pa.string()), pa.array(list(thumbnails), pa.binary())], PHOTOS_SCHEMA)


def write_fragments(rows: pa.Table, uri: str, storage_options: dict[str, str] | None = None) -> list:
    """Write `rows` as new data files of the photos dataset at `uri`, committing nothing: the
    `FragmentMetadata` to hand to `Writer.append_photos`. Runs on a Ray worker or in the ingest."""
    import lance.fragment

    if rows.num_rows == 0:
        return []
    return lance.fragment.write_fragments(
        rows, uri, schema=PHOTOS_SCHEMA, storage_options=storage_options or None, mode="append"
    )


def thumbnails_by_hash(photos, hashes: Iterable[str]) -> dict[str, bytes]:
    """{image_hash: thumbnail} for the hashes the photos table (a LanceDB table, or None) holds."""
    wanted = sorted({h for h in hashes if h})
    found: dict[str, bytes] = {}
    if photos is None:
        return found
    for start in range(0, len(wanted), LOOKUP_ROWS):
        chunk = wanted[start : start + LOOKUP_ROWS]
        rows = photos.search().where(f"image_hash IN ({sql_strings(chunk)})").select(list(PHOTOS_SCHEMA.names))
        table = rows.limit(None).to_arrow()
        for digest, thumbnail in zip(table.column("image_hash").to_pylist(), table.column("thumbnail").to_pylist()):
            if thumbnail:
                found[digest] = thumbnail
    return found


def thumbnails_of(products, photos, ids: Iterable[int]) -> dict[int, bytes]:
    """{product id: thumbnail} for those of `ids` that have a photo: hashes from `products` (the
    version a reader or writer is pinned to), bytes from `photos`; or, in a products version written
    before the photos table, from its own `thumbnail` column."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    legacy = "thumbnail" in products.schema.names
    column = "thumbnail" if legacy else "image_hash"
    found: dict[int, str | bytes] = {}
    for start in range(0, len(ids), LOOKUP_ROWS):
        chunk = ids[start : start + LOOKUP_ROWS]
        query = products.search().where(f"id IN ({sql_ids(chunk)}) AND has_image = true").select(["id", column])
        table = query.limit(None).to_arrow()
        found.update(zip(table.column("id").to_pylist(), table.column(column).to_pylist()))
    if legacy:
        return {i: t for i, t in found.items() if t}
    by_hash = thumbnails_by_hash(photos, (str(h) for h in found.values() if h))
    return {i: by_hash[h] for i, h in found.items() if h in by_hash}  # type: ignore[index]


def legacy_thumbnails(products, batch_rows: int) -> Iterator[pa.Table]:
    """(image_hash, thumbnail) of a products table that still holds thumbnails, a batch at a time."""
    query = products.search().where("has_image = true").select(["image_hash", "thumbnail"])
    for batch in query.to_batches(batch_rows):
        table = pa.Table.from_batches([batch]).filter(pa.compute.is_valid(batch.column("thumbnail")))
        yield table.select(list(PHOTOS_SCHEMA.names)).cast(PHOTOS_SCHEMA)
