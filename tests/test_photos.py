"""The photos table (catalog/store/photos.py): thumbnails by the hash of the photo's bytes, written
as encoding goes, read by id through the committed products version; and a database written before
it existed, whose thumbnails still sit in the products rows, read as it is and moved by its next
writer."""

from __future__ import annotations

import shutil

import lancedb
import pyarrow as pa
import pytest

from catalog import Catalog
from catalog.core.errors import CatalogError
from catalog.store.database import Store
from ingest.pipeline import ingest
from tests.conftest import FakeEncoder, product_rows
from tests.test_faults import catalog_files  # noqa: F401 - fixture
from tests.test_streaming import OPTIONS


@pytest.fixture
def ingested(tmp_path, catalog_files, monkeypatch):  # noqa: F811
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    db = tmp_path / "db"
    ingest(db, catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    return db


def make_legacy(db, legacy):
    """The database as catalog wrote it before the photos table: each products row with its thumbnail,
    no photos table, the same models and run record (naming version 1 of each table)."""
    store = Store.open(db)
    rows = product_rows(db)
    products = store.table("products").to_arrow().sort_by("id")
    thumbnails = [rows[i]["thumbnail"] for i in products.column("id").to_pylist()]
    products = products.add_column(
        products.schema.get_field_index("image_path") + 1, "thumbnail", pa.array(thumbnails, pa.binary())
    )
    old = lancedb.connect(legacy)
    old.create_table("products", products)
    old.create_table("attributes", store.table("attributes").to_arrow())
    run = store.db.open_table("runs").to_arrow().to_pylist()[-1]
    old.create_table(
        "runs",
        pa.Table.from_pylist(
            [{**run, "products_version": 1, "attributes_version": 1}], store.db.open_table("runs").schema
        ),
    )
    shutil.copytree(db / "models", legacy / "models")
    return {i: r["thumbnail"] for i, r in rows.items()}


def test_a_database_from_before_the_photos_table_is_read_then_moved_by_its_next_writer(
    tmp_path,
    ingested,
    catalog_files,
    monkeypatch,  # noqa: F811
):
    legacy = tmp_path / "legacy"
    expected = make_legacy(ingested, legacy)
    with_photo = sorted(i for i, t in expected.items() if t)
    assert len(with_photo) > 10
    # Read as it is: the thumbnails come from the products rows.
    assert Catalog(legacy).thumbnails(with_photo) == {i: expected[i] for i in with_photo}
    assert Store.open(legacy).photos() is None

    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    report = ingest(legacy, catalog_files["all_csv"], catalog_files["images"], OPTIONS)
    assert report.summary["mode"] == "incremental"
    store = Store.open(legacy)
    assert "thumbnail" not in store.table("products").schema.names  # moved, then dropped
    now = product_rows(legacy)
    assert {i: now[i]["thumbnail"] for i in with_photo} == {i: expected[i] for i in with_photo}
    assert sum(1 for r in now.values() if r["thumbnail"]) > len(with_photo)  # the new photos too

    # Rolled back to the run written before the photos table: read from its products rows again.
    catalog = Catalog(legacy)
    catalog.rollback(1)
    assert "thumbnail" in Store.open(legacy).table("products").schema.names
    assert Catalog(legacy).thumbnails(with_photo) == {i: expected[i] for i in with_photo}


def test_a_writer_that_lost_its_lock_adds_no_photo(ingested):
    """The photos table is fenced like the others: its Append checks the lock first."""

    class Lost:
        def check(self):
            raise CatalogError("another writer holds the lock")

    store = Store.open(ingested)
    before = store.photos().count_rows()
    with store.writer() as writer:
        from catalog.store.photos import photo_rows, write_fragments

        uri, options = writer.photos_location()
        fragments = write_fragments(photo_rows(["f" * 64], [b"\xff\xd8 not a photo"]), uri, options)
        writer.lock = Lost()
        with pytest.raises(CatalogError, match="another writer"):
            writer.append_photos(fragments)
    assert Store.open(ingested).photos().count_rows() == before


def test_photo_appends_leave_the_writers_lance_cache_flat_and_compaction_sees_them_all(ingested, monkeypatch):
    """An ingest appends to the photos table every FLUSH_EVERY photos. Each version a LanceDB table
    is checked out at stays in its connection's metadata cache, and each version's manifest lists
    every file so far, so checking the table out after each append grew the writer quadratically
    (+55 MB over a 100k-photo ingest). The appends now go through the dataset's URI; the cache must
    not grow with them, and the compaction of the run must still see every appended row."""
    from catalog.store.photos import photo_rows, write_fragments

    session = lancedb.Session()  # the writer's connection's caches, made visible to measure them
    connect = lancedb.connect
    monkeypatch.setattr(lancedb, "connect", lambda uri, **options: connect(uri, session=session, **options))
    store = Store.open(ingested)
    before = store.photos().count_rows()
    sizes = []
    with store.writer() as writer:
        uri, options = writer.photos_location()
        for n in range(40):
            writer.append_photos(write_fragments(photo_rows([f"{n:064x}"], [b"\xff\xd8 thumb"]), uri, options))
            sizes.append(session.size_bytes)
        writer.compact()
        assert writer.photos.count_rows() == before + 40
    assert sizes[-1] <= sizes[4] + 4096, sizes  # old code: 6x (a manifest per version, each listing every file)
    assert Store.open(ingested).photos().count_rows() == before + 40
