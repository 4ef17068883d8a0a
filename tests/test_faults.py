"""Fault injection: `kill -9` and Ctrl-C of real ingest processes, readers during writes, two writers.

Every ingest here is a real `python -m catalog`-style subprocess (the CLI's own `main`), started
through FAULT_ENTRY: a few lines that swap in the fast FakeEncoder (unless FAULT_REAL_ENCODER is
set) and wrap pipeline functions with `reached(stage)`, which touches `<marks>/<stage>` and sleeps
when the stage is the one named by FAULT_PAUSE_AT. So a test stops an ingest at an exact point
(between two table writes, inside word2vec, after the 2nd linker epoch...) and kills it there,
without any test hook in the library itself. With FAULT_PAUSE_SECONDS=0 the ingest only marks the
stage and carries on, so the kill lands in the middle of the real work.

After every fault: the committed view (run, products, attributes) is exactly what it was, the
read commands answer, and the next ingest lands the right rows (no duplicates, no zero vectors).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import catalog.models.encoder
import catalog.models.linker
from catalog.query import search
from catalog.store.database import Store
from ingest.reader import read_styles
from tests.conftest import FAST_INGEST, FakeEncoder, product_rows
from tests.conftest import run_cli as run

REPO = Path(__file__).resolve().parent.parent
LINKER_EPOCHS = 3  # the linker's training is not what these tests are about
BASE_ROWS = 100  # the committed state every test starts from; the remaining 20 demo rows are "new"

FAULT_ENTRY = r"""
import os, signal, sys, threading, time
from functools import partial
from pathlib import Path

# Ctrl-C must reach the ingest as it does from a user's terminal. A CI job started in the background
# (`sh -c '... .ci/run' &`) hands every process below it SIGINT ignored (the mark read
# "handler SIG_IGN"), and Python then installs no KeyboardInterrupt: the Ctrl-C tests saw the ingest
# finish or sleep on with nothing on stderr. Undo that (and a blocked SIGINT), as a terminal would.
(Path(os.environ["FAULT_MARKS"]) / "inherited-sigint").write_text(
    f"handler {signal.getsignal(signal.SIGINT)!r}, blocked {signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])}"
)
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
signal.signal(signal.SIGINT, signal.default_int_handler)

import catalog.models.encoder, catalog.models.linker, ingest.checkpoints, ingest.graph_space, ingest.pipeline
from catalog.store.database import Writer
from tests.conftest import FakeEncoder

PAUSE_AT = os.environ.get("FAULT_PAUSE_AT", "")
SECONDS = float(os.environ.get("FAULT_PAUSE_SECONDS", "3600"))
MARKS = Path(os.environ["FAULT_MARKS"])


def reached(stage):
    if stage == PAUSE_AT:
        (MARKS / stage).touch()
        time.sleep(SECONDS)


def after(stage, function):
    def wrapped(*args, **kwargs):
        result = function(*args, **kwargs)
        reached(stage)
        return result
    return wrapped


def before(stage, function):
    def wrapped(*args, **kwargs):
        reached(stage)
        return function(*args, **kwargs)
    return wrapped


if not os.environ.get("FAULT_REAL_ENCODER"):
    catalog.models.encoder.ImageEncoder = FakeEncoder
encoder_class = catalog.models.encoder.ImageEncoder


def partial_head(self, path):
    # What a kill half-way through writing the head file leaves behind.
    Path(path).write_bytes(b"\x89HDF\r\n")
    reached("head")
    original_save_head(self, path)


original_save_head = encoder_class.save_head
original_encode = encoder_class.encode
encoded = []


def count_encoded() -> None:
    # How many photos this process encoded, written whole (a temporary name, then a rename): a
    # kill -9 between a truncate and a write must not leave an empty count for the test to read.
    part = MARKS / f"encoded.{os.getpid()}.part"
    part.write_text(str(sum(encoded)))
    part.replace(MARKS / "encoded")


def counting_encode(self, pixels):
    encoded.append(len(pixels))
    count_encoded()
    return original_encode(self, pixels)


encoder_class.encode = counting_encode
encoder_class.save_head = partial_head
if os.environ.get("FAULT_REAL_ENCODER"):  # the real encoder's photos go through OpenVINO, one at a time
    import catalog.models.runtime

    original_infer = catalog.models.runtime.RuntimeEncoder._infer
    counted = threading.Lock()

    def counting_infer(self, pixels):
        vector = original_infer(self, pixels)
        with counted:
            encoded.append(1)
            count_encoded()
        return vector

    catalog.models.runtime.RuntimeEncoder._infer = counting_infer

ingest.checkpoints.FLUSH_EVERY = 4
flushes = []
original_flush = ingest.checkpoints.EncodeCheckpoints.flush


def flush(self):
    had = bool(self._pending)
    original_flush(self)
    flushes.append(had)
    if sum(flushes) == 2:
        reached("encode")


ingest.checkpoints.EncodeCheckpoints.flush = flush
ingest.pipeline.embed_graph = before("walks", ingest.pipeline.embed_graph)
original_word2vec = ingest.graph_space._train_word2vec


def train_word2vec(corpus, counts, tokens, width, params, num_nodes, progress):
    reached("word2vec")

    def epoch_done(n):
        if progress is not None:
            progress(n)
        # Called by gensim's epoch callback, so a pause here holds the run inside Word2Vec.train.
        reached("word2vec-epoch")

    return original_word2vec(corpus, counts, tokens, width, params, num_nodes, epoch_done)


ingest.graph_space._train_word2vec = train_word2vec
original_train_linker = ingest.pipeline.train_linker


def train_linker(x, y, params, progress, **kwargs):
    epochs = []

    def counted(n=1):
        epochs.append(n)
        progress(n)
        if len(epochs) == 2:
            reached("linker")

    return original_train_linker(x, y, params, counted, **kwargs)


ingest.pipeline.train_linker = train_linker
Writer.upsert_products = after("products", Writer.upsert_products)
Writer.replace_attributes = after("attributes", Writer.replace_attributes)
Writer.compact = after("compact", Writer.compact)
Writer.commit = after("committed", Writer.commit)

from catalog.cli.main import main

sys.argv[0] = "catalog"
main()
"""


# -- helpers ----------------------------------------------------------------------------------------


class Ingest:
    """One `catalog ingest` subprocess, stopped at a stage by FAULT_PAUSE_AT."""

    def __init__(
        self,
        tmp_path: Path,
        db: Path,
        csv: Path,
        images: Path,
        *more: str,
        pause_at: str = "",
        seconds: float = 3600,
        real_encoder: bool = False,
        name: str = "ingest",
        epochs: int = LINKER_EPOCHS,
    ):
        self.marks = tmp_path / f"marks-{name}"
        self.marks.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "FAULT_MARKS": str(self.marks),
            "FAULT_PAUSE_AT": pause_at,
            "FAULT_PAUSE_SECONDS": str(seconds),
            "TF_CPP_MIN_LOG_LEVEL": "3",
        }
        if real_encoder:
            env["FAULT_REAL_ENCODER"] = "1"
        args = [
            "ingest",
            "--csv",
            str(csv),
            "--images",
            str(images),
            "--db",
            str(db),
            "--json",
            "--epochs",
            str(epochs),
            *more,
        ]
        self.stderr_path = tmp_path / f"{name}.stderr"
        self.process = subprocess.Popen(
            [sys.executable, "-c", FAULT_ENTRY, *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=open(self.stderr_path, "w"),
            text=True,
        )

    def wait_for(self, stage: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not (self.marks / stage).exists():
            if self.process.poll() is not None:
                pytest.fail(f"ingest exited {self.process.returncode} before {stage}: {self.stderr()}")
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"ingest did not reach {stage} in {timeout} s: {self.stderr()}")
            time.sleep(0.02)

    def kill(self, sig=signal.SIGKILL) -> int:
        self.process.send_signal(sig)
        return self.finish()

    def finish(self, timeout: float = 180) -> int:
        try:
            self.stdout, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"ingest did not end in {timeout} s: {self.stderr()}")
        return self.process.returncode

    def encoded(self) -> int:
        path = self.marks / "encoded"
        return int(path.read_text()) if path.exists() else 0

    def stderr(self) -> str:
        return self.stderr_path.read_text()


def snapshot(db: Path):
    """The committed view a reader gets: run number, every product row, every attribute row."""
    store = Store.open(db)
    products = store.table("products").to_arrow().sort_by("id").to_pylist()
    attributes = store.table("attributes").to_arrow().sort_by("key").to_pylist()
    return store.run.run, len(store.runs()), products, attributes


def assert_readable(db: Path, expected) -> None:
    """The database shows exactly `expected` and the read commands answer from it."""
    assert snapshot(db) == expected
    product_id = next(p["id"] for p in expected[2] if p["has_image"])
    doc = json.loads(run("similar", product_id, "--db", db, "--json", "-k", 3).stdout)
    assert len(doc["results"]) == 3 and doc["query"]["id"] == product_id
    doc = json.loads(run("query", "--id", product_id, "--plus", "green", "--db", db, "--json", "-k", 3).stdout)
    assert len(doc["results"]) == 3


def assert_complete(db: Path | str, ids: set[int], with_photo: set[int]) -> None:
    """Exactly these products, each once, with every vector it should have (a folder or an s3:// database)."""
    store = Store.open(db)
    rows = list(product_rows(db).values())
    assert sorted(r["id"] for r in rows) == sorted(ids)  # no duplicates, nothing lost
    for row in rows:
        assert np.linalg.norm(row["node_vector"]) > 0, row["id"]
        if row["id"] in with_photo:
            assert row["has_image"] and row["thumbnail"], row["id"]
            assert np.linalg.norm(row["image_vector"]) > 0 and np.linalg.norm(row["rec_vector"]) > 0, row["id"]
    assert store.table("attributes").count_rows() == len(
        {r["key"] for r in store.table("attributes").to_arrow().to_pylist()}
    )
    assert store.storage.keys("checkpoints") == []  # cleared after the commit


# -- fixtures -----------------------------------------------------------------------------------------


def split_catalog(folder: Path, demo_catalog) -> dict:
    """base.csv (the first BASE_ROWS demo rows), all.csv (base + 20 new products), their ids and photos."""
    rows = read_styles(demo_catalog.csv_path).rows
    base_csv, all_csv = folder / "base.csv", folder / "all.csv"
    rows.iloc[:BASE_ROWS].to_csv(base_csv, index=False)
    rows.to_csv(all_csv, index=False)
    ids = set(int(i) for i in rows["id"])
    return {
        "base_csv": base_csv,
        "all_csv": all_csv,
        "images": demo_catalog.images_dir,
        "ids": ids,
        "base_ids": set(int(i) for i in rows["id"].iloc[:BASE_ROWS]),
        "with_photo": {i for i in ids if (demo_catalog.images_dir / f"{i}.jpg").exists()},
    }


@pytest.fixture(scope="module")
def catalog_files(tmp_path_factory, demo_catalog):
    """split_catalog's files, and base-db: the base CSV committed (run 1)."""
    folder = tmp_path_factory.mktemp("faults")
    files = split_catalog(folder, demo_catalog)
    base_db = folder / "base-db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog.models.encoder, "ImageEncoder", FakeEncoder)
        run(
            "ingest",
            "--csv",
            files["base_csv"],
            "--images",
            demo_catalog.images_dir,
            "--db",
            base_db,
            *FAST_INGEST,
            "--epochs",
            LINKER_EPOCHS,
        )
    return {**files, "base_db": base_db}


@pytest.fixture
def db(tmp_path, catalog_files):
    """A private copy of the committed base database."""
    path = tmp_path / "db"
    shutil.copytree(catalog_files["base_db"], path)
    return path


@pytest.fixture
def in_process(monkeypatch):
    """Ingests run here (after a fault) use the same fast encoder and linker as the subprocesses."""
    monkeypatch.setattr(catalog.models.encoder, "ImageEncoder", FakeEncoder)
    FakeEncoder.calls = 0
    return FakeEncoder


# -- kill -9 ------------------------------------------------------------------------------------------

KILL_POINTS = [
    # (stage, extra ingest flags): incremental ingests write only the new rows; --rebuild retrains everything.
    pytest.param("encode", [], id="encoding"),
    pytest.param("walks", ["--rebuild"], id="walks"),
    pytest.param("word2vec", ["--rebuild"], id="word2vec"),
    pytest.param("products", [], id="after-products-written"),
    pytest.param("attributes", [], id="after-attributes-written"),
    pytest.param("compact", [], id="after-compact-and-indexes"),
]


@pytest.mark.parametrize("stage, flags", KILL_POINTS)
def test_kill_leaves_previous_version_and_next_ingest_completes(stage, flags, tmp_path, db, catalog_files, in_process):
    before = snapshot(db)
    files = catalog_files
    ingest = Ingest(
        tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, "--batch-size", "4", *flags, pause_at=stage
    )
    ingest.wait_for(stage)
    assert ingest.kill() == -signal.SIGKILL
    assert_readable(db, before)

    doc = json.loads(
        run(
            "ingest",
            "--csv",
            files["all_csv"],
            "--images",
            files["images"],
            "--db",
            db,
            "--json",
            *FAST_INGEST,
            "--batch-size",
            "4",
            *flags,
        ).stdout
    )
    assert doc["run"] == 2 and doc["summary"]["products"] == len(files["ids"])
    assert_complete(db, files["ids"], files["with_photo"])
    new_photos = len(files["with_photo"] - files["base_ids"])
    if stage == "encode":
        # 2 checkpoints of 4 photos were on disk when it died: the resumed ingest encodes only the rest
        assert in_process.calls == new_photos - 8
    else:
        assert in_process.calls <= new_photos  # stored image vectors are never re-encoded


def test_kill_during_linker_training(tmp_path, db, catalog_files, in_process):
    """Killed after the 2nd Keras epoch of a full rebuild (real TensorFlow in the subprocess)."""
    before = snapshot(db)
    files = catalog_files
    ingest = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, "--rebuild", pause_at="linker")
    ingest.wait_for("linker")
    ingest.kill()
    assert_readable(db, before)
    run("ingest", "--csv", files["all_csv"], "--images", files["images"], "--db", db, *FAST_INGEST, "--rebuild")
    assert_complete(db, files["ids"], files["with_photo"])
    assert Store.open(db).run.kind == "rebuild"


def test_kill_mid_word2vec_training(tmp_path, db, catalog_files, in_process):
    """No pause: the kill lands while gensim's worker threads are training."""
    before = snapshot(db)
    files = catalog_files
    ingest = Ingest(
        tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, "--rebuild", pause_at="word2vec", seconds=0
    )
    ingest.wait_for("word2vec")
    time.sleep(0.2)
    ingest.kill()
    assert_readable(db, before)


def test_kill_after_commit_keeps_the_new_version(tmp_path, db, catalog_files, in_process):
    """Past the run record the ingest has happened: the checkpoints left behind do no harm."""
    files = catalog_files
    ingest = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, pause_at="committed")
    ingest.wait_for("committed")
    ingest.kill()
    assert Store.open(db).run.run == 2
    assert sorted(r["id"] for r in Store.open(db).table("products").to_arrow().to_pylist()) == sorted(files["ids"])
    doc = json.loads(
        run("ingest", "--csv", files["all_csv"], "--images", files["images"], "--db", db, "--json", *FAST_INGEST).stdout
    )
    assert doc["run"] is None and in_process.calls == 0  # nothing left to do


def test_kill_while_writing_the_head_file(tmp_path, catalog_files, in_process):
    """A first ingest killed half-way through saving the encoder head must not leave a head file that a
    later ingest trusts (it is content-addressed: an existing name is taken as already written)."""
    files = catalog_files
    db = tmp_path / "db"
    ingest = Ingest(tmp_path, db, files["base_csv"], files["images"], *FAST_INGEST, pause_at="head")
    ingest.wait_for("head")
    ingest.kill()
    result = run("similar", "1", "--db", db, ok=False)
    assert result.exit_code == 1 and "no completed ingest" in result.stderr
    run(
        "ingest",
        "--csv",
        files["base_csv"],
        "--images",
        files["images"],
        "--db",
        db,
        *FAST_INGEST,
        "--epochs",
        LINKER_EPOCHS,
    )
    store = Store.open(db)
    head = db / store.run.encoder["head_file"]
    assert head.read_bytes() == FakeEncoder().info.head_sha256.encode()
    assert_complete(db, files["base_ids"], files["with_photo"])


# -- Ctrl-C -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stage, seconds, flags",
    [
        pytest.param("encode", 3600, [], id="encoding"),
        # Held in gensim's epoch callback: the signal lands inside Word2Vec.train whatever the machine's load.
        pytest.param("word2vec-epoch", 3600, ["--rebuild"], id="inside-word2vec"),
        pytest.param("compact", 3600, [], id="before-commit"),
        # 60 epochs (early stopping allowing): the signal lands while Keras is fitting, not after.
        pytest.param("linker", 0, ["--rebuild"], id="inside-keras-fit", marks=pytest.mark.slow),
    ],
)
def test_ctrl_c_prints_one_line_and_changes_nothing(stage, seconds, flags, tmp_path, db, catalog_files, in_process):
    before = snapshot(db)
    files = catalog_files
    ingest = Ingest(
        tmp_path,
        db,
        files["all_csv"],
        files["images"],
        *FAST_INGEST,
        *flags,
        pause_at=stage,
        seconds=seconds,
        epochs=60,
    )
    ingest.wait_for(stage)
    assert ingest.kill(signal.SIGINT) == 130
    lines = [line for line in ingest.stderr().splitlines() if line.startswith(("Error", "Interrupted", "Traceback"))]
    assert lines == ["Interrupted; the database is unchanged."], ingest.stderr()
    assert ingest.stdout == ""  # no half-printed report
    assert_readable(db, before)


# -- concurrency --------------------------------------------------------------------------------------


def test_readers_see_one_consistent_version_while_an_ingest_writes(tmp_path, db, catalog_files):
    """Threads search in a loop while an ingest writes both tables and pauses before its commit."""
    files = catalog_files
    base_count, all_count = len(files["base_ids"]), len(files["ids"])
    query_id = min(files["with_photo"] & files["base_ids"])
    seen: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                store = Store.open(db)
                count = store.table("products").count_rows()
                _, results = search.similar(store, query_id, 5, ("rec", "graph"))
                seen.append((store.run.run, count, len(results["rec"])))
                time.sleep(0.02)  # leave the writer some CPU (2 cores)
            except BaseException as error:  # noqa: BLE001 - every failure is a finding here
                errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    ingest = Ingest(tmp_path, db, files["all_csv"], files["images"], *FAST_INGEST, pause_at="compact", seconds=4)
    ingest.wait_for("compact")
    # While both tables hold uncommitted versions: a CLI reader in another process sees the old state.
    during = subprocess.run(
        [sys.executable, "-m", "catalog", "similar", str(query_id), "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert during.returncode == 0, during.stderr
    assert json.loads(during.stdout)["query"]["id"] == query_id
    assert ingest.finish() == 0, ingest.stderr()
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert set(seen) <= {(1, base_count, 5), (2, all_count, 5)}, set(seen)
    assert (1, base_count, 5) in seen and (2, all_count, 5) in seen


def test_two_ingests_at_once_one_proceeds_the_other_gets_a_clear_error(tmp_path, db, catalog_files):
    two_ingests_at_once(tmp_path, db, catalog_files)


def two_ingests_at_once(tmp_path: Path, db: Path | str, files: dict) -> None:
    """Two ingests started together: one commits, the other exits 1 with the one-line lock error."""
    # Whoever takes the lock first holds it for a few seconds, so the other surely meets it.
    ingests = [
        Ingest(
            tmp_path,
            db,
            files["all_csv"],
            files["images"],
            *FAST_INGEST,
            pause_at="products",
            seconds=4,
            name=f"ingest{n}",
        )
        for n in range(2)
    ]
    codes = sorted(ingest.finish() for ingest in ingests)
    assert codes == [0, 1], [i.stderr() for i in ingests]
    loser = next(i for i in ingests if i.process.returncode == 1)
    assert loser.stderr().strip().splitlines()[-1].startswith("Error: another process is writing to")
    assert [r.run for r in Store.open(db).runs()] == [1, 2]
    assert_complete(db, files["ids"], files["with_photo"])


def test_first_ingest_killed_then_completed(tmp_path, catalog_files, in_process):
    """A database that never committed is reported as such, and the next ingest builds it."""
    files = catalog_files
    db = tmp_path / "db"
    ingest = Ingest(tmp_path, db, files["base_csv"], files["images"], *FAST_INGEST, pause_at="walks")
    ingest.wait_for("walks")
    ingest.kill()
    result = run("similar", "1", "--db", db, ok=False)
    assert result.exit_code == 1 and "no completed ingest" in result.stderr
    run(
        "ingest",
        "--csv",
        files["base_csv"],
        "--images",
        files["images"],
        "--db",
        db,
        *FAST_INGEST,
        "--epochs",
        LINKER_EPOCHS,
    )
    assert_complete(db, files["base_ids"], files["with_photo"])


@pytest.mark.slow
def test_kill_real_keras_encoder_and_resume(tmp_path, catalog_files):
    """The real ResNet50 encoder (random weights, 32 px) killed after two checkpoints, then resumed."""
    files = catalog_files
    db = tmp_path / "db"
    small = tmp_path / "small.csv"  # 30 products: enough for two checkpoints and a linker
    read_styles(files["base_csv"]).rows.iloc[:30].to_csv(small, index=False)
    ids = set(read_styles(small).rows["id"])
    flags = ["--weights", "random", "--image-size", "32", "--batch-size", "4", "--walks", "5", "--walk-length", "5"]
    ingest = Ingest(tmp_path, db, small, files["images"], *flags, pause_at="encode", real_encoder=True)
    ingest.wait_for("encode")
    ingest.kill()
    checkpointed = sum(1 for _ in (db / "checkpoints").rglob("*.npz"))
    assert checkpointed == 2
    resumed = Ingest(tmp_path, db, small, files["images"], *flags, real_encoder=True, name="resumed")
    assert resumed.finish() == 0, resumed.stderr()
    assert ingest.encoded() >= 8 and resumed.encoded() == len(files["with_photo"] & ids) - 8
    assert_complete(db, ids, files["with_photo"])


@pytest.mark.parametrize(
    "args", [["similar", "{id}"], ["query", "--id", "{id}", "--plus", "green"], ["show", "{id}"], ["info"]]
)
def test_ctrl_c_in_a_read_command_is_one_line(args, db, catalog_files, monkeypatch):
    """Ctrl-C arrives as KeyboardInterrupt wherever the command is; the read is simply abandoned."""
    import lancedb.table

    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(lancedb.table.LanceTable, "to_arrow", interrupted)
    monkeypatch.setattr(lancedb.table.LanceTable, "search", interrupted)
    product_id = min(catalog_files["base_ids"])
    result = run(*[a.format(id=product_id) for a in args], "--db", db, ok=False)
    assert result.exit_code == 130
    assert result.stderr.strip().splitlines() == ["Interrupted; the database is unchanged."]
