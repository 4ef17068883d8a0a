"""The database on an object store: the commands and the guarantees against `s3://` on a real S3 server.

moto's standalone server runs on loopback (tests/s3_server.py); the catalog reaches it only through
the standard AWS environment variables or `--storage-option`, as it would reach S3. The README's
guarantees are repeated here without `fcntl`: one writer at a time (a lease object written with
conditional puts, catalog/store/lease.py), a killed ingest leaves the previous run readable and the next
one completes (resuming from its checkpoints on the store), readers never see half a run, rollback
restores tables and models together.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import obstore
import pytest
from obstore.store import from_url

import catalog.models.encoder
from catalog import Catalog
from catalog.core.errors import CatalogError
from catalog.store.database import Store
from catalog.store.lease import LeaseLock
from catalog.store.storage import open_storage
from tests.conftest import FAKE_ENCODER, FAST_INGEST, FakeEncoder, product_rows
from tests.conftest import run_cli as run
from tests.test_faults import (
    BASE_ROWS,
    LINKER_EPOCHS,
    REPO,
    Ingest,
    assert_complete,
    assert_readable,
    snapshot,
    split_catalog,
    two_ingests_at_once,
)

LEASE = 2.0  # seconds: a killed writer's lock is taken over after this (30 s by default)


def copy_prefix(source: str, target: str) -> None:
    """Copy a database between buckets (what `cp -r` of a folder is to the local fault tests)."""
    src, dst = from_url(source), from_url(target)
    for batch in obstore.list(src):
        for meta in batch:
            obstore.put(dst, meta["path"], bytes(obstore.get(src, meta["path"]).bytes()))


def ingest_json(csv, images, db, *more) -> dict:
    """`catalog ingest ... --json` in-process with the fast test settings: its JSON document."""
    return json.loads(run("ingest", "--csv", csv, "--images", images, "--db", db, "--json", *FAST_INGEST, *more).stdout)


def upload_folder(folder, uri: str) -> None:
    """Put every file of a local folder under an object-store prefix."""
    store = from_url(uri)
    for path in sorted(folder.iterdir()):
        if path.is_file():
            obstore.put(store, path.name, path.read_bytes())


def checkpoint_keys(db: str) -> list[str]:
    return open_storage(db).keys("checkpoints")


@pytest.fixture
def fast_models(monkeypatch):
    """In-process ingests encode with FakeEncoder, like the fault-test subprocesses (tests/test_faults.py)."""
    monkeypatch.setattr(catalog.models.encoder, "ImageEncoder", FakeEncoder)
    FakeEncoder.calls = 0
    return FakeEncoder


@pytest.fixture(scope="module")
def files(tmp_path_factory, demo_catalog):
    return split_catalog(tmp_path_factory.mktemp("s3-files"), demo_catalog)


@pytest.fixture(scope="module")
def base_uri(s3_server, files):
    """One committed base database on the server (run 1: the first 100 demo products)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_server.env.items():
            patch.setenv(name, value)
        patch.setattr(catalog.models.encoder, "ImageEncoder", FakeEncoder)
        uri = f"s3://{s3_server.new_bucket()}/base"
        run(
            "ingest",
            "--csv",
            files["base_csv"],
            "--images",
            files["images"],
            "--db",
            uri,
            *FAST_INGEST,
            "--epochs",
            LINKER_EPOCHS,
        )
    return uri


@pytest.fixture
def db(s3_bucket, base_uri, monkeypatch):
    """A private copy of the base database in a fresh bucket; short leases for the kill tests."""
    monkeypatch.setenv("CATALOG_LOCK_LEASE_SECONDS", str(LEASE))
    uri = f"s3://{s3_bucket}/shop/db"
    copy_prefix(base_uri, uri)
    return uri


# -- the commands -------------------------------------------------------------------------------------


def test_commands_and_library_run_against_s3(db, files, fast_models, tmp_path):
    """Read commands, an incremental ingest, history, remove, rollback, eval and the Python API."""
    store = Store.open(db)
    assert store.run.run == 1 and store.storage.has(store.run.linker["file"])
    product_id = min(files["base_ids"] & files["with_photo"])
    assert len(json.loads(run("similar", product_id, "--db", db, "--json", "-k", 3).stdout)["results"]) == 3
    assert json.loads(run("query", "--id", product_id, "--plus", "green", "--db", db, "--json").stdout)["results"]
    assert json.loads(run("show", product_id, "--db", db, "--json").stdout)["id"] == product_id
    info = json.loads(run("info", "--db", db, "--json").stdout)
    assert info["database"] == db and info["products"] == BASE_ROWS and info["disk_bytes"] > 0

    added = json.loads(
        run("ingest", "--csv", files["all_csv"], "--images", files["images"], "--db", db, "--json", *FAST_INGEST).stdout
    )
    assert added["run"] == 2 and added["summary"]["mode"] == "incremental"
    assert fast_models.calls == len(files["with_photo"] - files["base_ids"])  # only the new photos
    assert checkpoint_keys(db) == []  # cleared on the store after the commit

    run("remove", product_id, "--db", db)
    history = json.loads(run("history", "--db", db, "--json").stdout)
    assert [r["kind"] for r in history] == ["ingest", "ingest", "remove"]
    run("rollback", "1", "--db", db)
    assert snapshot(db)[2] == _products_of_run(db, 1)

    run("eval", "--db", db, "--json", "--walks", "5", "--walk-length", "10", "--epochs", "2", "--trials", "10")
    assert open_storage(db).has("eval.json")
    run("plot", "eval", "--db", db, "--out", tmp_path / "eval.png")
    assert (tmp_path / "eval.png").stat().st_size > 0

    library = Catalog(db)  # the Python API on the same database
    assert library.info().products == BASE_ROWS and library.history()[-1].kind == "rollback"  # back at run 1
    assert len(library.similar(product_id, k=2, space="graph").ids) == 2


def _products_of_run(db: str, run_number: int) -> list[dict]:
    store = Store.open(db)
    version = next(r.products_version for r in store.runs() if r.run == run_number)
    table = store.db.open_table("products")
    table.checkout(version)
    return table.to_arrow().sort_by("id").to_pylist()


def test_the_image_index_built_in_segments_on_s3(db):
    """The segmented build (Lance's calls on the dataset, around LanceDB's table) on the object store:
    two data files, one segment each, one index that answers as the exact scan did."""
    from catalog.query import search
    from catalog.store import index

    store = Store.open(db)
    products = store.table("products").to_arrow()
    with_photo = [
        i for i, has in zip(products.column("id").to_pylist(), products.column("has_image").to_pylist()) if has
    ]
    query = with_photo[0]
    vector = store.table("products").search().where(f"id = {query}").to_list()[0]["image_vector"]
    exact = [r.id for r in search.nearest(store, vector, "image_vector", 5, exclude=(query,))]

    with store.writer() as writer:
        writer.upsert_products(products.slice(0, products.num_rows // 2))  # rewritten rows: a second data file
        assert len(index.fragment_groups(writer.products.to_lance(), 10)) == 2  # two segments, not one build
        change = index.ensure_index(
            writer.products,
            "image_vector",
            rows_threshold=10,
            segment_rows=10,
            discard=writer.discard_product_index,
        )
        writer.commit("ingest", encoder={}, node2vec={}, linker={}, metrics={}, summary={})
    assert change.action == "built"
    opened = Store.open(db)
    table = opened.table("products")
    stats = table.index_stats(index.find_index(table, "image_vector").name)
    assert (stats.num_indexed_rows, stats.num_indices) == (products.num_rows, 1)
    # The merged index's folder is left, the two per-file segments' are deleted from the bucket.
    index_folders = {key.split("/")[2] for key in opened.storage.keys("products.lance/_indices")}
    assert len(index_folders) == 1
    assert [r.id for r in search.nearest(opened, vector, "image_vector", 5, exclude=(query,))] == exact


def test_serve_answers_from_s3_and_moves_to_a_new_run(db, files):
    """`catalog serve --db s3://...` (a subprocess, settings from the environment), then an ingest commits."""
    from tests.server_fixture import get_json, serving

    product_id = min(files["base_ids"] & files["with_photo"])
    with serving(db) as server:
        status, info = get_json(server.url + "/api/info")
        assert status == 200 and info["database"] == db and info["products"] == BASE_ROWS
        status, similar = get_json(server.url + f"/api/similar/{product_id}?k=3")
        assert status == 200 and len(similar["results"]) == 3
        for path in (f"/product/{product_id}", "/catalog", f"/thumb/{product_id}.jpg", "/?page=2"):
            assert server.get(path)[0] == 200, path  # the pages, and thumbnails read from the store
        run(
            "ingest",
            "--csv",
            files["all_csv"],
            "--images",
            files["images"],
            "--db",
            db,
            *FAST_INGEST,
            env={"CATALOG_ENCODER": FAKE_ENCODER},
        )
        deadline = time.monotonic() + 30
        while get_json(server.url + "/api/info")[1]["products"] != len(files["ids"]):
            assert time.monotonic() < deadline, "the server did not move to the new run"
            time.sleep(0.3)


def test_photos_from_an_object_store_prefix(s3_bucket, files, fast_models, tmp_path):
    """--images s3://bucket/images: the same rows, hashes and vectors as from the folder; unchanged
    photos are recognised by size and ETag and not read again."""
    images = f"s3://{s3_bucket}/images"
    upload_folder(files["images"], images)
    from_folder = ingest_json(files["base_csv"], files["images"], tmp_path / "folder-db", "--epochs", 2)
    from_store = ingest_json(files["base_csv"], images, tmp_path / "store-db", "--epochs", 2)
    assert [p["id"] for p in from_store["image_problems"]] == [p["id"] for p in from_folder["image_problems"]]
    assert from_store["summary"]["encoded"] == from_folder["summary"]["encoded"] > 90
    mine, theirs = product_rows(tmp_path / "folder-db"), product_rows(tmp_path / "store-db")
    assert mine.keys() == theirs.keys()
    for product_id, row in theirs.items():
        assert row["image_hash"] == mine[product_id]["image_hash"] and row["thumbnail"] == mine[product_id]["thumbnail"]
        assert row["image_vector"] == mine[product_id]["image_vector"]
        if row["has_image"]:
            assert row["image_path"].startswith(images + "/")
    fast_models.calls = 0
    again = ingest_json(files["base_csv"], images, tmp_path / "store-db")
    assert again["run"] is None and fast_models.calls == 0
    missing = run(
        "ingest",
        "--csv",
        files["base_csv"],
        "--images",
        f"s3://{s3_bucket}/nothing",
        "--db",
        tmp_path / "other-db",
        *FAST_INGEST,
        ok=False,
    )
    assert missing.exit_code == 1 and "no photos under" in missing.output


def test_storage_options_instead_of_the_environment(db, monkeypatch, s3_server):
    """Endpoint and credentials as --storage-option pairs (LanceDB's keys), no AWS_ variables set."""
    for name in s3_server.env:
        monkeypatch.delenv(name)
    flags = [
        "--storage-option",
        f"aws_endpoint={s3_server.endpoint}",
        "--storage-option",
        "allow_http=true",
        "--storage-option",
        "aws_access_key_id=testing",
        "--storage-option",
        "aws_secret_access_key=testing",
        "--storage-option",
        "region=us-east-1",
    ]
    info = json.loads(run("info", "--db", db, "--json", *flags).stdout)
    assert info["products"] == BASE_ROWS
    bad = run("info", "--db", db, "--storage-option", "novalue", ok=False)
    assert bad.exit_code == 2 and "key=value" in bad.output
    local = run("info", "--db", "somefolder", "--storage-option", "allow_http=true", ok=False)
    assert local.exit_code == 1 and "applies to s3://" in local.output


def test_missing_bucket_or_database_is_one_line(s3_bucket):
    result = run("similar", "1", "--db", f"s3://{s3_bucket}/nothing-here", ok=False)
    assert result.exit_code == 1 and "no catalog database" in result.output
    result = run("info", "--db", "s3://no-such-bucket-anywhere/db", ok=False)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1


# -- the guarantees without fcntl -----------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["encode", "products"])
def test_kill_leaves_previous_run_and_next_ingest_completes(stage, db, files, fast_models, tmp_path):
    """kill -9 while encoding (2 checkpoints on the store) or after the products table was written."""
    before = snapshot(db)
    ingest = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, "--batch-size", "4", pause_at=stage)
    ingest.wait_for(stage)
    assert ingest.kill() == -signal.SIGKILL
    killed = time.monotonic()
    # The dead writer's lease still runs: a writer now is told so, in one line, and writes nothing.
    early = run("remove", min(files["base_ids"]), "--db", db, ok=False)
    if time.monotonic() - killed < LEASE * 0.75:  # (a loaded machine may have let the lease run out already)
        assert early.exit_code == 1, early.output
        assert early.output.startswith("Error: another process is writing to") and "lease runs out" in early.output
    assert_readable(db, before)
    if stage == "encode":
        assert len(checkpoint_keys(db)) == 2
    time.sleep(max(0.0, killed + LEASE + 0.2 - time.monotonic()))
    doc = ingest_json(files["all_csv"], files["images"], db, "--batch-size", "4")
    assert doc["run"] == 2 and doc["summary"]["products"] == len(files["ids"])
    assert_complete(db, files["ids"], files["with_photo"])
    new_photos = len(files["with_photo"] - files["base_ids"])
    # resumed from the checkpoints on the store: 2 of 4 photos before the kill while encoding, all of them after
    assert fast_models.calls == (new_photos - 8 if stage == "encode" else 0)


def test_two_ingests_at_once_one_proceeds_the_other_gets_a_clear_error(db, files, tmp_path):
    two_ingests_at_once(tmp_path, db, files)


def test_readers_see_one_consistent_version_while_an_ingest_writes(db, files, tmp_path):
    """Readers in threads and in another process, while both tables hold uncommitted versions."""
    query_id = min(files["with_photo"] & files["base_ids"])
    seen, errors = [], []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                store = Store.open(db)
                seen.append((store.run.run, store.table("products").count_rows()))
                time.sleep(0.05)
            except BaseException as error:  # noqa: BLE001 - every failure is a finding here
                errors.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    ingest = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, pause_at="compact", seconds=4)
    ingest.wait_for("compact")
    during = subprocess.run(
        [sys.executable, "-m", "catalog", "similar", str(query_id), "--db", db, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert during.returncode == 0, during.stderr
    assert ingest.finish() == 0, ingest.stderr()
    time.sleep(0.3)
    stop.set()
    thread.join()
    assert not errors, errors[:3]
    assert set(seen) <= {(1, BASE_ROWS), (2, len(files["ids"]))} and (1, BASE_ROWS) in seen, set(seen)
    assert (2, len(files["ids"])) in seen


# -- the lease lock itself ----------------------------------------------------------------------------


def test_lease_racing_writers_exactly_one_wins(s3_bucket):
    storage = open_storage(f"s3://{s3_bucket}/db")
    barrier, outcomes = threading.Barrier(6), []

    def contend():
        lock = LeaseLock(storage, lease=30)
        barrier.wait()
        try:
            lock.acquire()
            outcomes.append("won")
        except CatalogError as error:
            outcomes.append(str(error))

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1, outcomes
    assert all(o.startswith("another process is writing to") for o in outcomes if o != "won")


def test_lease_is_renewed_while_held_and_released_after(s3_bucket):
    storage = open_storage(f"s3://{s3_bucket}/db")
    with LeaseLock(storage, lease=0.6) as held:
        time.sleep(1.5)  # past two lease lengths: only the heartbeat keeps it
        with pytest.raises(CatalogError, match="another process is writing"):
            LeaseLock(storage, lease=0.6).acquire()
        held.check()
    with LeaseLock(storage, lease=0.6) as again:  # released: the next writer takes it at once
        assert again.took_over is None


def test_a_stalled_writer_that_lost_its_lease_cannot_commit(s3_bucket):
    storage = open_storage(f"s3://{s3_bucket}/db")
    stalled = LeaseLock(storage, lease=0.5)
    stalled.acquire()  # no heartbeat: as if the process froze
    time.sleep(0.7)
    with LeaseLock(storage, lease=30) as successor:
        assert successor.took_over and successor.took_over["pid"] > 0
        with pytest.raises(CatalogError, match="lost the write lock"):
            stalled.check()
        successor.check()


def test_a_writer_paused_past_its_lease_makes_no_change_after_a_takeover(db, files, tmp_path):
    """The fence (catalog/store/database.py, FencedTable): an ingest frozen (SIGSTOP: its lease
    heartbeat stops too) after its first products batch loses the lock to a `remove` that commits;
    woken, it stops before its next change with the one-line error, and the tables are exactly the
    second writer's run, at the very versions its run record names."""
    ingest = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, pause_at="products", seconds=1)
    ingest.wait_for("products")
    ingest.process.send_signal(signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        time.sleep(max(0.0, stopped + LEASE + 0.3 - time.monotonic()))
        victim = min(files["base_ids"])
        run("remove", victim, "--db", db)  # takes the expired lease over, restores, commits run 2
        expected = snapshot(db)
    finally:
        ingest.process.send_signal(signal.SIGCONT)
    assert ingest.finish() == 1
    last = ingest.stderr().strip().splitlines()[-1]
    assert last.startswith("Error: this writer lost the write lock on") and "nothing of its run is visible" in last
    assert snapshot(db) == expected
    run_number, _, products, _ = expected
    assert run_number == 2 and len(products) == BASE_ROWS - 1 and victim not in {p["id"] for p in products}
    store = Store.open(db)
    assert store.run.kind == "remove"
    # No version after the takeover: the newest table versions are the ones the remove committed.
    assert store.db.open_table("products").version == store.run.products_version
    assert store.db.open_table("attributes").version == store.run.attributes_version
