"""The encoder on OpenVINO: the real Keras ResNet50 (random weights, 32 px) converted, stored and run.

What is checked: f32 vectors equal the Keras encoder's and keep its id; bf16 is another encoder
with its own id; a database made before the runtime model existed answers photo queries as
before and gains the file on first use; photo queries load the stored model without TensorFlow.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from catalog import Catalog
from catalog.core.errors import CatalogError
from catalog.models.encoder import ImageEncoder
from catalog.models.runtime import RuntimeEncoder, model_key
from catalog.store.database import Store
from tests.conftest import run_cli as run

SIZE = 32
ROOT = Path(__file__).resolve().parent.parent
INGEST = ["--weights", "random", "--image-size", str(SIZE), "--walks", "5", "--walk-length", "5", "--epochs", "3"]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def bf16_here() -> bool:
    from catalog.models.runtime import import_openvino

    return "BF16" in import_openvino().Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@pytest.fixture(scope="module")
def keras_encoder() -> ImageEncoder:
    return ImageEncoder(weights="random", seed=0, image_size=SIZE)


@pytest.fixture(scope="module")
def model_file(keras_encoder, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("runtime") / "encoder.ov"
    path.write_bytes(keras_encoder.export_runtime())
    return path


def runtime(keras_encoder, model_file, precision="f32", streams=None) -> RuntimeEncoder:
    info = keras_encoder.info
    suffix = "" if precision == "f32" else f"/openvino-{precision}"
    return RuntimeEncoder(model_file, info.model_id + suffix, info.model_id, SIZE, precision, streams)


def test_f32_vectors_equal_the_keras_encoders_and_keep_its_id(keras_encoder, model_file):
    pixels = np.random.default_rng(0).integers(0, 256, (1000, SIZE, SIZE, 3), dtype=np.uint8)
    pixels[:8] = 255  # plain white and black photos, the extremes of the input range
    pixels[8:16] = 0
    expected = keras_encoder.encode(pixels)
    encoder = runtime(keras_encoder, model_file)
    got = encoder.encode(pixels)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert cosines(got, expected).min() >= 0.9999
    assert encoder.id == keras_encoder.info.id == keras_encoder.info.model_id
    # One photo per request: a photo alone, in a batch, or streamed gets the very same vector.
    alone = np.stack([encoder.encode(pixels[n : n + 1])[0] for n in range(5)])
    assert np.array_equal(alone, got[:5])
    # A query's encoder runs a lone photo on every core: the same bits as ingest's one-per-core streams.
    latency = RuntimeEncoder(model_file, encoder.id, keras_encoder.info.model_id, SIZE, latency=True)
    assert np.array_equal(latency.encode(pixels[:5]), got[:5]) and latency.streams == 1
    streamed = list(encoder.encode_stream(((n, pixels[n]) for n in range(37)), batch_size=8))
    assert [len(ids) for ids, _ in streamed] == [8, 8, 8, 8, 5]
    assert [i for ids, _ in streamed for i in ids] == list(range(37))
    assert np.array_equal(np.concatenate([v for _, v in streamed]), got[:37])


def test_bf16_is_another_encoder_with_its_own_id(keras_encoder, model_file):
    if not bf16_here():
        with pytest.raises(CatalogError, match="bf16, which this processor does not run"):
            runtime(keras_encoder, model_file, "bf16")
        return
    pixels = np.random.default_rng(1).integers(0, 256, (40, SIZE, SIZE, 3), dtype=np.uint8)
    f32 = runtime(keras_encoder, model_file).encode(pixels)
    bf16 = runtime(keras_encoder, model_file, "bf16")
    got = bf16.encode(pixels)
    assert bf16.id == keras_encoder.info.model_id + "/openvino-bf16" != keras_encoder.info.id
    assert not np.array_equal(got, f32)  # other vectors: hence the other id
    assert cosines(got, f32).min() > 0.99  # but the same model


def test_damaged_or_foreign_model_files_are_one_line_errors(keras_encoder, model_file, tmp_path):
    damaged = tmp_path / "damaged.ov"
    data = bytearray(model_file.read_bytes())
    data[-1000] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(CatalogError, match="damaged"):
        runtime(keras_encoder, damaged)
    junk = tmp_path / "junk.ov"
    junk.write_bytes(b"not a model")
    with pytest.raises(CatalogError, match="not an encoder model file"):
        runtime(keras_encoder, junk)
    with pytest.raises(CatalogError, match="holds resnet50"):
        RuntimeEncoder(model_file, "other", "other-model", SIZE)
    with pytest.raises(CatalogError, match="unknown precision"):
        runtime(keras_encoder, model_file, "int4")


@pytest.fixture(scope="module")
def old_db(tmp_path_factory, demo_catalog):
    """A database as this project made them before the runtime model: the Keras encoder made the
    vectors, the run records no precision, and models/ holds no runtime model file."""
    root = tmp_path_factory.mktemp("old-db")
    small = root / "styles.csv"
    lines = demo_catalog.csv_path.read_text(encoding="utf-8").splitlines()
    small.write_text("\n".join(lines[:41]) + "\n", encoding="utf-8")
    db = root / "db"
    keras = ImageEncoder(weights="random", seed=0, image_size=SIZE)
    Catalog(db, encoder=keras).ingest(small, demo_catalog.images_dir, weights="random", image_size=SIZE, walks=5)
    runs = Store.open(db).db.open_table("runs")
    record = json.loads(runs.to_arrow().column("encoder")[0].as_py())
    old = {k: v for k, v in record.items() if k not in ("model_id", "precision")}
    runs.update(where="run = 1", values={"encoder": json.dumps(old)})
    assert not list((db / "models").glob("encoder-*.ov"))
    return db, keras


def test_a_database_made_before_answers_photo_queries_as_before(old_db, demo_catalog):
    db, keras = old_db
    store = Store.open(db)
    assert "precision" not in store.run.encoder
    rows = store.table("products").search().where("has_image = true").limit(3).to_list()
    photos = [demo_catalog.images_dir / f"{row['id']}.jpg" for row in rows]
    before = [Catalog(db, encoder=keras).query(image=photo, k=5).ids for photo in photos]
    catalog = Catalog(db)
    after = [catalog.query(image=photo, k=5).ids for photo in photos]
    assert after == before
    # The model file was made on first use (content-addressed by the model's id), vectors unchanged:
    assert (db / model_key(keras.info.model_id)).is_file()
    stored = np.array([row["image_vector"] for row in rows], np.float32)
    encoded = np.stack([catalog._encode(Store.open(db), photo, None).image_vector for photo in photos])
    assert cosines(encoded, stored).min() >= 0.9999
    assert Store.open(db).run.encoder["id"] == keras.info.id  # the record is untouched


NO_TENSORFLOW = """
import json, sys
from catalog.cli.main import main
sys.argv = ["catalog", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "TensorFlow imported"
"""


def test_photo_queries_load_the_stored_model_without_tensorflow(old_db, demo_catalog):
    db, keras = old_db
    Catalog(db).infer(image=demo_catalog.photo_path)  # the model file exists from here on
    for args in (
        ["query", "--image", demo_catalog.photo_path, "-k", "3"],
        ["infer", "--image", demo_catalog.photo_path],
    ):
        argv = json.dumps([*map(str, args), "--db", str(db), "--json"])
        done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, argv], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["image"] == str(demo_catalog.photo_path)
    # What `catalog serve` does with an uploaded photo: Catalog.photo on the bytes.
    script = (
        "import sys\nfrom catalog import Catalog\n"
        "found = Catalog(sys.argv[1]).photo(open(sys.argv[2], 'rb').read(), k=3)\n"
        "assert found.results['rec'] and 'tensorflow' not in sys.modules, 'TensorFlow imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db), str(demo_catalog.photo_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_ingest_records_the_default_precision_and_refuses_another(tmp_path, demo_catalog):
    small = tmp_path / "styles.csv"
    lines = demo_catalog.csv_path.read_text(encoding="utf-8").splitlines()
    small.write_text("\n".join(lines[:31]) + "\n", encoding="utf-8")
    db = tmp_path / "db"
    # No --precision: a new database gets bf16 exactly where OpenVINO multiplies in bf16 (decided
    # from the processor's flags, without importing OpenVINO), f32 elsewhere.
    precision = "bf16" if bf16_here() else "f32"
    run("ingest", "--csv", small, "--images", demo_catalog.images_dir, "--db", db, *INGEST)
    recorded = Store.open(db).run.encoder
    assert recorded["precision"] == precision and recorded["id"].endswith(
        "/openvino-bf16" if precision == "bf16" else "px"
    )
    assert (db / model_key(recorded["model_id"])).is_file()
    other = "f32" if precision == "bf16" else "bf16"
    failed = run(
        "ingest", "--csv", small, "--images", demo_catalog.images_dir, "--db", db, "--precision", other, ok=False
    )
    assert failed.exit_code == 1 and f"precision={precision}" in failed.stderr and "Traceback" not in failed.stderr
    assert (
        run(
            "ingest", "--csv", small, "--images", demo_catalog.images_dir, "--db", db, "--precision", "int4", ok=False
        ).exit_code
        == 2
    )


def test_default_precision_is_f32_where_keras_or_workers_encode(monkeypatch):
    from catalog.models.runtime import cpu_has_bf16, default_precision

    assert cpu_has_bf16() == bf16_here()
    assert default_precision() == ("bf16" if bf16_here() else "f32")
    assert default_precision("ray") == "f32"  # the workers' processors are not this one's
    monkeypatch.setenv("CATALOG_RUNTIME", "keras")
    assert default_precision() == "f32"
