"""Products move in record batches (ingest/batches.py): the tables do not depend on the batch size,
and a kill between two batches loses nothing.

CATALOG_INGEST_BATCH_ROWS makes the batches tiny, so the demo's 120 products cross many of them:
the CSV rows, the photos' thumbnails (spooled to disk), and the writes (one streamed overwrite for a
full run, one upsert per batch for an incremental one).
"""

from __future__ import annotations

import signal

import numpy as np
import pytest

import tests.test_faults as faults
from catalog.store.database import Store
from ingest.batches import PhotoSpool, Products
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


def tables(db) -> tuple[list[dict], list[dict]]:
    store = Store.open(db)
    products = store.table("products").to_arrow().sort_by("id").to_pylist()
    attributes = store.table("attributes").to_arrow().sort_by("key").to_pylist()
    return products, attributes


def test_small_batches_give_the_same_tables_as_one_batch(tmp_path, catalog_files, monkeypatch):
    """Full ingest, incremental ingest and rebuild with batches of 7 rows against one batch of 4096."""
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    outcomes = {}
    for rows in (4096, 7):
        monkeypatch.setenv("CATALOG_INGEST_BATCH_ROWS", str(rows))
        path = tmp_path / f"db-{rows}"
        first = ingest(path, catalog_files["base_csv"], catalog_files["images"], OPTIONS)
        after_first = tables(path)
        added = ingest(path, catalog_files["all_csv"], catalog_files["images"], OPTIONS)
        after_add = tables(path)
        rebuilt = rebuild(path, OPTIONS)
        outcomes[rows] = (first.summary, added.summary, rebuilt.summary, after_first, after_add, tables(path))
    assert outcomes[7] == outcomes[4096]
    summary, added, _, (products, _), _, _ = outcomes[7]
    assert summary["mode"] == "full" and added["mode"] == "incremental" and added["added"] == 20
    with_photo = [p for p in products if p["has_image"]]
    assert len(with_photo) > 14 and all(p["thumbnail"] and p["photo_features"] for p in with_photo)
    assert all(p["thumbnail"] is None and p["photo_features"] is None for p in products if not p["has_image"])


def test_the_state_never_holds_thumbnails_and_the_spool_gives_them_back(tmp_path, catalog_files, monkeypatch):
    monkeypatch.setattr("catalog.models.encoder.ImageEncoder", FakeEncoder)
    monkeypatch.setenv("CATALOG_INGEST_BATCH_ROWS", "5")
    ingest(tmp_path / "db", catalog_files["base_csv"], catalog_files["images"], OPTIONS)
    store = Store.open(tmp_path / "db")
    state = Products.read(store.table("products"))
    assert "thumbnail" not in state.frame and "photo_features" not in state.frame
    stored = store.table("products").to_arrow().sort_by("id")
    order = np.argsort(state.frame["id"].to_numpy())
    assert state.frame["id"].to_numpy()[order].tolist() == stored.column("id").to_pylist()
    vectors = np.asarray(stored.column("image_vector").to_pylist(), np.float32)
    assert np.array_equal(state.vectors["image_vector"][order], vectors)
    spool = PhotoSpool()
    try:
        for product_id, thumbnail in zip([3, 1, 2, 9, 7, 5, 4], [b"c", b"a", b"b", b"i", b"g", b"e", b"d"]):
            spool.add(product_id, thumbnail)
        assert len(spool.files) == 1  # 5 rows a file; the rest still in memory until flushed
        got = {int(i): t.as_py() for ids, thumbs in spool.chunks() for i, t in zip(ids, thumbs)}
    finally:
        spool.close()
    assert got == {1: b"a", 2: b"b", 3: b"c", 4: b"d", 5: b"e", 7: b"g", 9: b"i"}


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
