"""Products move in record batches (ingest/batches.py): the tables do not depend on the batch size,
and a kill between two batches loses nothing.

CATALOG_INGEST_BATCH_ROWS makes the batches tiny, so the demo's 120 products cross many of them:
the CSV rows, the photos' thumbnails (written to the photos table as they are encoded, every
FLUSH_EVERY photos), and the writes (one streamed overwrite for a full run, one upsert per batch for
an incremental one).
"""

from __future__ import annotations

import signal

import numpy as np
import pytest

import tests.test_faults as faults
from catalog.query.search import thumbnails
from catalog.store.database import FILE_ROWS, Store
from ingest.batches import Products, Spool
from ingest.graph_space import Node2VecParams
from ingest.pipeline import IngestOptions, ingest, rebuild
from tests.conftest import FAST_INGEST, FakeEncoder
from tests.test_faults import (  # noqa: F401 - fixtures
    Ingest,
    assert_complete,
    assert_readable,
    catalog_files,
    db,
    in_process,
    snapshot,
)

# One Word2Vec thread: the same graph vectors on every run in this process (docs/design.md, "Reproducibility").
OPTIONS = IngestOptions(
    weights="random", image_size=64, node2vec=Node2VecParams(num_walks=5, walk_length=10, workers=1)
)


def tables(db) -> tuple[list[dict], list[dict], dict[int, bytes]]:
    """The products and attributes rows, and every product's thumbnail (from the photos table)."""
    store = Store.open(db)
    products = store.table("products").to_arrow().sort_by("id").to_pylist()
    attributes = store.table("attributes").to_arrow().sort_by("key").to_pylist()
    return products, attributes, thumbnails(store, [p["id"] for p in products])


def fragment_rows(db, table: str) -> list[int]:
    import lance

    return [f.count_rows() for f in lance.dataset(str(db / f"{table}.lance")).get_fragments()]


def test_small_batches_give_the_same_tables_as_one_batch(tmp_path, catalog_files, monkeypatch):
    """Full ingest, incremental ingest and rebuild with batches of 7 rows and data files of at most 9
    products and 5 photos, against one batch of 4096 and the default files (FILE_ROWS)."""
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    outcomes, files = {}, {}
    for rows, file_rows in ((4096, dict(FILE_ROWS)), (7, {**FILE_ROWS, "products": 9, "photos": 5})):
        monkeypatch.setenv("CATALOG_INGEST_BATCH_ROWS", str(rows))
        monkeypatch.setattr("catalog.store.database.FILE_ROWS", file_rows)
        path = tmp_path / f"db-{rows}"
        first = ingest(path, catalog_files["base_csv"], catalog_files["images"], OPTIONS)
        after_first = tables(path)
        added = ingest(path, catalog_files["all_csv"], catalog_files["images"], OPTIONS)
        after_add = tables(path)
        files[rows] = (fragment_rows(path, "products"), fragment_rows(path, "photos"))
        rebuilt = rebuild(path, OPTIONS)
        outcomes[rows] = (first.summary, added.summary, rebuilt.summary, after_first, after_add, tables(path))
    assert outcomes[7] == outcomes[4096]
    # Products written and compacted into files of about FILE_ROWS rows (Lance holds a file's rows
    # until it closes it), photos merged up to theirs: LanceDB's own optimize merges each into one.
    (products, photos), (default_products, default_photos) = files[7], files[4096]
    assert len(products) > 10 and max(products) < 2 * 9 and sum(products) == sum(default_products)
    assert len(photos) > 1 and sum(photos) == sum(default_photos)
    assert len(default_products) == len(default_photos) == 1
    summary, added, _, (products, _, thumbs), _, _ = outcomes[7]
    assert summary["mode"] == "full" and added["mode"] == "incremental" and added["added"] == 20
    with_photo = [p for p in products if p["has_image"]]
    assert len(with_photo) > 14 and all(thumbs[p["id"]] and p["photo_features"] for p in with_photo)
    assert sorted(thumbs) == sorted(p["id"] for p in with_photo)
    assert all(p["photo_features"] is None for p in products if not p["has_image"])


def test_the_state_never_holds_thumbnails_and_the_photos_table_has_them(tmp_path, catalog_files, monkeypatch):
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    monkeypatch.setattr("ingest.checkpoints.FLUSH_EVERY", 4)  # many appends to the photos table
    ingest(tmp_path / "db", catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    store = Store.open(tmp_path / "db")
    state = Products.read(store.table("products"))
    assert "thumbnail" not in state.frame and "photo_features" not in state.frame
    assert "thumbnail" not in store.table("products").schema.names
    stored = store.table("products").to_arrow().sort_by("id")
    order = np.argsort(state.frame["id"].to_numpy())
    assert state.frame["id"].to_numpy()[order].tolist() == stored.column("id").to_pylist()
    vectors = np.asarray(stored.column("image_vector").to_pylist(), np.float32)
    assert np.array_equal(state.vectors["image_vector"][order], vectors)
    # One row per photo, keyed by the photo's hash; every product with a photo finds its thumbnail.
    photos = store.photos().to_arrow()
    with_photo = stored.filter(stored.column("has_image"))
    assert sorted(photos.column("image_hash").to_pylist()) == sorted(with_photo.column("image_hash").to_pylist())
    found = thumbnails(store, with_photo.column("id").to_pylist())
    assert len(found) == with_photo.num_rows and all(t[:2] == b"\xff\xd8" for t in found.values())  # JPEGs


def test_the_frame_read_from_lance_owns_its_strings(tmp_path, catalog_files, monkeypatch):
    """The held columns are copied out of the batches Lance returns: a batch's memory is freed only
    once every column of it is, so a frame that kept its strings kept its vectors and features
    too (~1.9 KB a photo through the whole ingest). The copies are Arrow's own allocations."""
    import pyarrow as pa

    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    ingest(tmp_path / "db", catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    table = Store.open(tmp_path / "db").table("products")
    before = pa.total_allocated_bytes()
    state = Products.read(table)
    text = state.frame.select_dtypes(include="str")
    characters = sum(len(value.encode()) for column in text for value in text[column])
    assert len(text.columns) > 10 and characters > 1000
    assert pa.total_allocated_bytes() - before >= characters


def test_checkpoints_are_cleared_without_being_read(tmp_path, catalog_files, monkeypatch):
    """After the commit the checkpoints are deleted, not loaded first (they hold ~1 KB a photo)."""
    import ingest.checkpoints as checkpoints

    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    monkeypatch.setattr("ingest.checkpoints.FLUSH_EVERY", 4)  # checkpoints written during the encoding
    reads = []
    read = checkpoints._read
    monkeypatch.setattr("ingest.checkpoints._read", lambda storage, key: reads.append(key) or read(storage, key))
    written = []
    write = checkpoints.EncodeCheckpoints.flush
    monkeypatch.setattr(
        "ingest.checkpoints.EncodeCheckpoints.flush", lambda self: written.append(len(self._pending)) or write(self)
    )
    ingest(tmp_path / "db", catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    assert sum(written) > 4 and reads == []
    assert not Store.open(tmp_path / "db").storage.keys("checkpoints")


def test_a_spool_reads_back_what_was_written_and_zeros_elsewhere():
    spool = Spool(10, 3, np.float32)
    assert spool.shape == (10, 3) and not spool[:].any()  # never written: zeros
    spool[np.array([1, 4])] = [[1, 2, 3], [4, 5, 6]]
    spool[7] = [7, 8, 9]  # one row: buffered, and read back all the same
    assert spool[np.array([4, 7, 1])].tolist() == [[4, 5, 6], [7, 8, 9], [1, 2, 3]]
    assert spool.rows_holding_data().tolist() == [1, 4, 7]
    spool.resize(12)  # grown in place: old rows kept, new ones zeros
    assert spool[10:].tolist() == [[0, 0, 0]] * 2 and spool[4].tolist() == [4, 5, 6]
    spool.BUFFER_ROWS = 2  # a full buffer is written without a read
    for n in range(12):
        spool[n] = [n, n, n]
    assert spool[:, 0].tolist() == list(range(12))
    spool.close()


def test_the_photo_columns_wait_on_disk_and_the_state_keeps_them(tmp_path, catalog_files, monkeypatch):
    """Image and rec vectors and photo features are spooled (not in the ingest's memory); a pruning
    ingest, which takes a subset of the rows, and one that adds products keep each row's values."""
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    path = tmp_path / "db"
    ingest(path, catalog_files["all_csv"], catalog_files["images"], OPTIONS)
    store = Store.open(path)
    state = Products.read(store.table("products"))
    assert all(isinstance(state.vectors[name], Spool) for name in ("image_vector", "rec_vector"))
    assert isinstance(state.features, Spool) and isinstance(state.vectors["node_vector"], np.ndarray)
    stored = {row["id"]: row for row in store.table("products").to_arrow().to_pylist()}
    keep = np.flatnonzero(state.frame["id"].to_numpy() % 2 == 0)
    taken = state.take(keep)
    taken.extend(taken.frame.iloc[:2].assign(id=[-1, -2]))  # two new rows after the kept ones
    for n, product_id in enumerate(taken.frame["id"].tolist()[: len(keep)]):
        row = stored[product_id]
        assert np.allclose(taken.vectors["image_vector"][n], row["image_vector"])
        assert np.allclose(taken.vectors["rec_vector"][n], row["rec_vector"])
        assert taken.features[n].tobytes() == (row["photo_features"] or bytes(len(taken.features[n])))
    assert not taken.vectors["image_vector"][len(keep) :].any() and not taken.features[len(keep) :].any()
    taken.drop_arrays()


def test_a_catalog_with_more_photos_than_the_linker_needs_trains_it_on_a_recorded_sample(
    tmp_path, catalog_files, monkeypatch
):
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    monkeypatch.setenv("CATALOG_LINKER_SAMPLE", "40")
    report = ingest(tmp_path / "db", catalog_files["all_csv"], catalog_files["images"], OPTIONS)
    sample = report.run.linker["sample"]
    assert sample["photos"] > 40 and sample["trained_on"] == 40 and sample["limit"] == 40
    rec = Store.open(tmp_path / "db").table("products").to_arrow()
    photos = rec.filter(rec.column("has_image"))
    assert np.asarray(photos.column("rec_vector").to_pylist()).any(axis=1).all()  # every photo translated


BETWEEN_BATCHES = """
import ingest.pipeline
original_batches = ingest.pipeline.product_batches


def product_batches(*args, **kwargs):
    for number, batch in enumerate(original_batches(*args, **kwargs), 1):
        yield batch
        if number == 2:
            reached("batch")  # two batches handed to the write, the third not yet


ingest.pipeline.product_batches = product_batches
"""


@pytest.mark.slow
@pytest.mark.parametrize("more", [[], ["--rebuild"]], ids=["incremental", "full"])
def test_kill_between_two_batches_loses_nothing(more, tmp_path, db, catalog_files, in_process, monkeypatch):
    """kill -9 after two of the write's batches (8 rows each): the committed run is untouched, and the
    next ingest lands every product without encoding a photo again (they were checkpointed)."""
    monkeypatch.setattr(
        faults,
        "FAULT_ENTRY",
        faults.FAULT_ENTRY.replace(
            "from catalog.cli.main import main", BETWEEN_BATCHES + "\nfrom catalog.cli.main import main"
        ),
    )
    monkeypatch.setenv("CATALOG_INGEST_BATCH_ROWS", "8")
    before = snapshot(db)
    files = catalog_files
    killed = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, *more, pause_at="batch")
    killed.wait_for("batch", timeout=600)  # a --rebuild retrains first: minutes on a loaded machine
    assert killed.kill() == -signal.SIGKILL
    assert_readable(db, before)
    faults.run("ingest", "--csv", files["all_csv"], "--images", files["images"], "--db", db, *FAST_INGEST, *more)
    assert in_process.calls == 0  # every photo came back from the checkpoints
    assert_complete(db, files["ids"], files["with_photo"])
    assert Store.open(db).run.run == 2


def test_compaction_deletes_no_version_a_kept_run_names(tmp_path, catalog_files, monkeypatch):
    """Old table versions go only past the newest KEEP_RUNS runs (not after LanceDB's 7 days), so every
    kept run stays readable, restorable and a rollback target however old it is."""
    import lance

    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    cleanups = []
    original = lance.LanceDataset.cleanup_old_versions
    monkeypatch.setattr(
        lance.LanceDataset,
        "cleanup_old_versions",
        lambda self, *args, **kwargs: cleanups.append(kwargs.get("older_than")) or original(self, *args, **kwargs),
    )
    path = tmp_path / "db"
    ingest(path, catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    ingest(path, catalog_files["all_csv"], catalog_files["images"], OPTIONS)
    assert cleanups == []  # 2 runs, fewer than KEEP_RUNS: nothing deleted
    monkeypatch.setattr("catalog.store.database.KEEP_RUNS", 2)
    rebuild(path, OPTIONS)
    assert len(cleanups) == 3 and all(cutoff is not None for cutoff in cleanups)  # products, photos, attributes
    store = Store.open(path)
    for run in store.runs()[-2:]:  # the kept runs' versions are all still there
        table = store.db.open_table("products")
        table.checkout(run.products_version)
        assert table.count_rows() == 120


def test_a_vector_that_is_not_finite_fails_the_write_and_changes_nothing(tmp_path, catalog_files, monkeypatch):
    from catalog.core.errors import CatalogError

    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    path = tmp_path / "db"
    ingest(path, catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    before = tables(path)
    monkeypatch.setattr(FakeEncoder, "encode", lambda self, pixels: np.full((len(pixels), 128), np.nan, np.float32))
    with pytest.raises(CatalogError, match=r"^product \d+: its image_vector is not finite"):
        ingest(path, catalog_files["all_csv"], catalog_files["images"], OPTIONS)
    assert tables(path) == before
