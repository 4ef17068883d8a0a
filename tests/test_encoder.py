"""The image encoder: a real Keras ResNet50 with seeded random weights, at 32x32 so the tests stay fast."""

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from catalog.core.columns import IMAGE_DIM
from catalog.core.errors import CatalogError
from catalog.models.encoder import ImageEncoder

SIZE = 32
ROOT = Path(__file__).resolve().parent.parent


def photos(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def other_process(tmp_path_factory):
    """The same encoder built and run in a separate Python, started first so its imports overlap ours."""
    out = tmp_path_factory.mktemp("other") / "vectors.npy"
    script = (
        "import json, numpy as np\n"
        "from catalog.models.encoder import ImageEncoder\n"
        f"encoder = ImageEncoder(weights='random', seed=0, image_size={SIZE})\n"
        f"pixels = np.random.default_rng(0).integers(0, 256, (20, {SIZE}, {SIZE}, 3), dtype=np.uint8)\n"
        f"np.save({str(out)!r}, encoder.encode(pixels))\n"
        "print(json.dumps({'id': encoder.info.id}))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield process, out
    process.kill()
    process.communicate()


@pytest.fixture(scope="module")
def encoder(other_process) -> ImageEncoder:
    return ImageEncoder(weights="random", seed=0, image_size=SIZE)


@pytest.fixture(scope="module")
def vectors(encoder) -> np.ndarray:
    return encoder.encode(photos(20))


def test_vectors_are_128_float32_and_tell_photos_apart(encoder, vectors):
    assert vectors.shape == (20, IMAGE_DIM) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all() and (vectors >= 0).all()  # ReLU head, then pooling
    assert len({v.tobytes() for v in vectors}) == 20
    assert encoder.info.weights == "random" and encoder.info.seed == 0 and encoder.info.image_size == SIZE
    assert encoder.info.id.startswith("resnet50/random/backbone-") and encoder.info.id.endswith("/32px")


def test_vectors_do_not_depend_on_batching(encoder, vectors):
    one_by_one = np.concatenate([encoder.encode(photo[None]) for photo in photos(20)])
    assert np.array_equal(one_by_one, vectors)  # bit for bit: a lone query photo gets its ingest vector
    assert np.array_equal(encoder.encode(photos(20)), vectors)


def test_encode_stream_batches_in_order_and_reports_progress(encoder, vectors):
    ticks = []
    items = ((1000 + n, photo) for n, photo in enumerate(photos(20)))
    batches = list(encoder.encode_stream(items, batch_size=8, progress=ticks.append))
    assert [len(ids) for ids, _ in batches] == [8, 8, 4] and ticks == [8, 8, 4]
    assert [i for ids, _ in batches for i in ids] == list(range(1000, 1020))
    assert np.array_equal(np.concatenate([v for _, v in batches]), vectors)


def test_encode_stream_consumes_load_images(tmp_path, encoder):
    from PIL import Image

    from ingest.images import load_image, load_images

    ids = list(range(1, 12))
    for product_id in ids:
        Image.fromarray(photos(1, seed=product_id)[0]).resize((60, 80)).save(tmp_path / f"{product_id}.jpg")
    loaded = load_images(tmp_path, ids, size=SIZE)
    items = ((product_id, image.pixels) for product_id, image, _ in loaded)
    batches = list(encoder.encode_stream(items, batch_size=4))
    assert [i for batch_ids, _ in batches for i in batch_ids] == ids
    expected = encoder.encode(np.stack([load_image(tmp_path / f"{i}.jpg", size=SIZE).pixels for i in ids]))
    assert np.array_equal(np.concatenate([v for _, v in batches]), expected)


def test_encode_refuses_wrong_pixels(encoder):
    with pytest.raises(ValueError, match="uint8"):
        encoder.encode(photos(2).astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        encoder.encode(np.zeros((2, SIZE + 1, SIZE, 3), np.uint8))


def test_same_seed_same_space_other_seed_other_space(encoder, vectors):
    again = ImageEncoder(weights="random", seed=0, image_size=SIZE)
    assert again.info == encoder.info and np.array_equal(again.encode(photos(20)), vectors)
    other = ImageEncoder(weights="random", seed=1, image_size=SIZE)
    assert other.info.id != encoder.info.id
    assert other.info.head_sha256 != encoder.info.head_sha256
    assert other.info.backbone_sha256 != encoder.info.backbone_sha256
    assert not np.allclose(other.encode(photos(20)), vectors)


def test_vectors_are_identical_in_another_process(other_process, encoder, vectors):
    process, out = other_process
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    assert json.loads(stdout)["id"] == encoder.info.id
    assert np.array_equal(np.load(out), vectors)
    assert "oneDNN" not in stderr and "absl" not in stderr  # TensorFlow's start-up chatter is kept quiet


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # inside Keras' save_weights
@pytest.mark.parametrize("kind", ["keras", "legacy"])
def test_weights_file_and_saved_head_rebuild_the_same_space(tmp_path, encoder, vectors, kind):
    """A ResNet50 no-top weights file (Keras 3 or the legacy .h5 layout of Keras' ImageNet download)
    plus a saved head give exactly the vectors of the encoder they came from, whatever the seed."""
    backbone = encoder._model.get_layer("resnet50")
    if kind == "keras":
        weights = tmp_path / "resnet50_notop.weights.h5"
        backbone.save_weights(weights)
    else:
        from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

        weights = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
        with h5py.File(weights, "w") as file:
            save_weights_to_hdf5_group(file, backbone)
    head = tmp_path / "head.weights.h5"
    encoder.save_head(head)

    rebuilt = ImageEncoder(weights=str(weights), seed=7, image_size=SIZE, head_path=head)
    assert rebuilt.info.weights.startswith("file:") and len(rebuilt.info.weights) == len("file:") + 64
    assert rebuilt.info.head_sha256 == encoder.info.head_sha256
    assert rebuilt.info.backbone_sha256 == encoder.info.backbone_sha256
    assert np.array_equal(rebuilt.encode(photos(20)), vectors)


def test_missing_weights_file(tmp_path):
    with pytest.raises(CatalogError, match="weights file .*nope.h5 not found.*--weights random"):
        ImageEncoder(weights=str(tmp_path / "nope.h5"), image_size=SIZE)


def test_unusable_weights_file(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(CatalogError, match="cannot load ResNet50 no-top weights from .*junk.h5"):
        ImageEncoder(weights=str(junk), image_size=SIZE)


def test_imagenet_download_failure_names_the_alternatives(monkeypatch):
    import keras.src.utils.file_utils

    calls = []

    def no_network(*args, **kwargs):
        calls.append(kwargs.get("origin") or args)
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] name resolution")

    monkeypatch.setattr(keras.src.utils.file_utils, "get_file", no_network)
    with pytest.raises(CatalogError) as caught:
        ImageEncoder(weights="imagenet", image_size=SIZE)
    message = str(caught.value)
    assert calls, "Keras never asked for the ImageNet weights"
    assert "ImageNet weights" in message and "--weights FILE" in message and "--weights random" in message
    assert "\n" not in message


def test_bad_head_files(tmp_path, encoder):
    with pytest.raises(CatalogError, match="head file .* not found"):
        ImageEncoder(weights="random", image_size=SIZE, head_path=tmp_path / "missing.weights.h5")
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"junk")
    with pytest.raises(CatalogError, match="cannot read encoder head file"):
        ImageEncoder(weights="random", image_size=SIZE, head_path=junk)
    damaged = tmp_path / "damaged.weights.h5"
    encoder.save_head(damaged)
    with h5py.File(damaged, "r+") as file:
        file["bias"][0] = 1.0
    with pytest.raises(CatalogError, match="damaged"):
        ImageEncoder(weights="random", image_size=SIZE, head_path=damaged)


def test_image_size_below_resnet_minimum():
    with pytest.raises(CatalogError, match="at least 32"):
        ImageEncoder(weights="random", image_size=16)


def test_importing_the_modules_does_not_import_tensorflow():
    script = (
        "import sys, catalog.models.encoder, ingest.images; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_encoding_batch_size_is_larger_on_a_gpu(monkeypatch):
    """No GPU here, so the choice is tested with what TensorFlow would report on a machine with one."""
    import sys
    import types

    from catalog.models.encoder import BATCH_SIZE, GPU_BATCH_SIZE, choose_batch_size, encoding_batch_size

    assert choose_batch_size([]) == BATCH_SIZE == 16
    assert choose_batch_size(["/physical_device:GPU:0"]) == GPU_BATCH_SIZE > BATCH_SIZE
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    assert encoding_batch_size() == BATCH_SIZE  # TensorFlow not imported: not asked, not imported
    assert "tensorflow" not in sys.modules
    devices = {"GPU": ["/physical_device:GPU:0"]}
    config = types.SimpleNamespace(list_physical_devices=lambda kind: devices.get(kind, []))
    monkeypatch.setitem(sys.modules, "tensorflow", types.SimpleNamespace(config=config))
    assert encoding_batch_size() == GPU_BATCH_SIZE
    devices.clear()
    assert encoding_batch_size() == BATCH_SIZE
