"""The image latent space I_ResNet: photo pixels -> 128-d image vectors.

ResNet50 (frozen, no top) -> Conv2D(128, 3x3, ReLU) -> MaxPool2D(2) -> global average pooling, as in
the paper. The head is never trained: its weights come from a seed and are saved beside the database,
so a query photo months later lands in the same space. TensorFlow is imported only when an encoder
is built (~3.5 s), never when this module is imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from catalog.core.columns import IMAGE_DIM, IMAGE_SIZE
from catalog.core.errors import CatalogError
from catalog.core.keys import file_sha256

BACKBONE = "resnet50"  # keras.applications.ResNet50, include_top=False, frozen
BATCH_SIZE = 16  # ~17 images/s at 256 px on 2 cores; larger batches are no faster and use more memory
# With a GPU (the `catalog[gpu]` install, README "GPUs") a batch lives in device memory and larger
# batches keep the device busy; 64 ResNet50 inputs at 256 px need ~3 GB of activations in inference,
# which fits the smallest CUDA cards TensorFlow supports. Not measured here: this machine has no GPU.
GPU_BATCH_SIZE = 64
MIN_IMAGE_SIZE = 32  # the smallest input keras.applications.ResNet50 accepts
HEAD_FORMAT = "catalog-encoder-head-1"
# Lines TensorFlow's C++ runtime writes to stderr on import whatever TF_CPP_MIN_LOG_LEVEL says.
STARTUP_CHATTER = (
    "All log messages before absl::InitializeLog",
    "oneDNN custom operations are on",
    "cpu_feature_guard",
    "To enable the following instructions",
)


@runtime_checkable
class Encoder(Protocol):
    """What the library needs of an image encoder; pass one as `Catalog(path, encoder=...)`.

    `id` names the image space: a database records the id of the encoder that made its vectors
    and refuses another one. `image_size`: the photos are resized to this many pixels per side.
    `encode`: (N, image_size, image_size, 3) uint8 RGB -> (N, D) float32 vectors.
    """

    @property
    def id(self) -> str: ...

    @property
    def image_size(self) -> int: ...

    def encode(self, pixels: np.ndarray) -> np.ndarray: ...


def choose_batch_size(gpus: Iterable) -> int:
    """The encoding batch size for the devices TensorFlow sees: larger on a GPU."""
    return GPU_BATCH_SIZE if list(gpus) else BATCH_SIZE


def encoding_batch_size() -> int:
    """The default encoding batch size in this process.

    Asks TensorFlow for GPUs only when it is already imported (a Keras encoder was built): an
    encoder that is not Keras (a test's, a user's own) gets the CPU default, and no code path
    imports TensorFlow just to pick a number.
    """
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return BATCH_SIZE
    return choose_batch_size(tf.config.list_physical_devices("GPU"))


def gpu_possible() -> bool:
    """Whether an NVIDIA GPU may be there, asked without importing TensorFlow: the driver's control
    device exists. Where it does, ingest builds the Keras encoder and asks TensorFlow (`gpus_visible`)."""
    return os.path.exists("/dev/nvidiactl")


def gpus_visible() -> bool:
    """Whether TensorFlow, already imported, sees a GPU (the `catalog[gpu]` install on a GPU machine)."""
    tf = sys.modules.get("tensorflow")
    return bool(tf is not None and tf.config.list_physical_devices("GPU"))


def encode_stream(
    encoder: Encoder,
    items: Iterable[tuple[int, np.ndarray]],
    batch_size: int = 16,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(id, pixels) pairs -> (ids, vectors) per batch, with any encoder.

    The Keras model runs in this thread and releases the GIL, so a producer with its own threads
    (ingest.images.load_images) keeps decoding the next batch meanwhile.
    """
    ids: list[int] = []
    batch: list[np.ndarray] = []
    for product_id, pixels in items:
        ids.append(product_id)
        batch.append(pixels)
        if len(batch) == batch_size:
            yield ids, _encode_batch(encoder, batch, progress)
            ids, batch = [], []
    if batch:
        yield ids, _encode_batch(encoder, batch, progress)


def _encode_batch(encoder: Encoder, batch: list[np.ndarray], progress: Callable[[int], None] | None) -> np.ndarray:
    vectors = np.asarray(encoder.encode(np.stack(batch)), dtype=np.float32)
    if progress is not None:
        progress(len(batch))
    return vectors


@dataclass(frozen=True)
class EncoderInfo:
    """Everything that decides the image vectors; two encoders with equal ids give equal vectors."""

    weights: str  # "imagenet" | "random" | "file:<sha256 of the weights file>"
    seed: int  # head seed, and backbone seed when weights == "random"
    image_size: int
    head_sha256: str  # of the head's weights
    # Of the backbone's weights as built: random initialisation is only as stable as the Keras version
    # that did it, so the id must not rely on the seed alone.
    backbone_sha256: str
    # f32: the Keras model's own arithmetic (and OpenVINO's f32, which matches it); bf16: OpenVINO's
    # bfloat16 inference, whose vectors differ, so its id differs (catalog/models/runtime.py).
    precision: str = "f32"

    @property
    def model_id(self) -> str:
        """The id of the model's f32 vectors: names the model whatever precision runs it."""
        weights = self.weights[: len("file:") + 12]
        return (
            f"{BACKBONE}/{weights}/backbone-{self.backbone_sha256[:12]}"
            f"/head-seed{self.seed}-{self.head_sha256[:12]}/{self.image_size}px"
        )

    @property
    def id(self) -> str:
        from catalog.models.runtime import precision_suffix

        return self.model_id + precision_suffix(self.precision)


class ImageEncoder:
    """Builds the model once; `encode` and `encode_stream` turn uint8 RGB pixels into image vectors."""

    def __init__(
        self,
        weights: str = "imagenet",
        seed: int = 0,
        image_size: int = IMAGE_SIZE,
        head_path: Path | None = None,
    ):
        """`weights`: "imagenet" (Keras downloads them once into ~/.keras/models), "random" (the
        backbone too comes from `seed`; for offline runs and tests) or the path of a ResNet50 no-top
        weights file (.h5 or .weights.h5). `head_path`: head weights saved by `save_head`.

        Note: seeds Python's, NumPy's and TensorFlow's global generators (keras.utils.set_random_seed).
        """
        if image_size < MIN_IMAGE_SIZE:
            raise CatalogError(f"image size must be at least {MIN_IMAGE_SIZE} pixels, not {image_size}")
        # Check the files before the slow TensorFlow import, so a typo fails at once.
        weights_id, backbone_weights = _resolve_weights(weights)
        head = _read_head(Path(head_path)) if head_path is not None else None
        keras = import_keras()
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        backbone = _backbone(keras, weights, backbone_weights, image_size)
        self._head = keras.layers.Conv2D(
            IMAGE_DIM,
            3,
            padding="same",
            activation="relu",
            kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
            name="head",
        )
        inputs = keras.Input((image_size, image_size, 3), dtype="uint8")
        x = keras.applications.resnet50.preprocess_input(keras.ops.cast(inputs, "float32"))
        x = self._head(backbone(x, training=False))
        # padding="same" changes nothing at 256 px (8x8 features) and lets tiny test images (1x1) through.
        x = keras.layers.MaxPool2D(2, padding="same")(x)
        self._model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x), name="image_encoder")
        if head is not None:
            self._head.set_weights(head)
        # One traced graph for every batch size; model.predict would build a data pipeline per call.
        self._forward = tf.function(
            lambda pixels: self._model(pixels, training=False),
            input_signature=[tf.TensorSpec((None, image_size, image_size, 3), tf.uint8)],
        )
        self.info = EncoderInfo(
            weights=weights_id,
            seed=seed,
            image_size=image_size,
            head_sha256=_sha256_arrays(self._head.get_weights()),
            backbone_sha256=_sha256_arrays(backbone.get_weights()),
        )

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) uint8 RGB -> (N, 128) float32, in batches of BATCH_SIZE."""
        pixels = np.asarray(pixels)
        size = self.info.image_size
        if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[1:] != (size, size, 3):
            raise ValueError(
                f"expected uint8 pixels of shape (N, {size}, {size}, 3), got {pixels.dtype} {pixels.shape}"
            )
        vectors = np.empty((len(pixels), IMAGE_DIM), np.float32)
        for start in range(0, len(pixels), BATCH_SIZE):
            vectors[start : start + BATCH_SIZE] = self._run(pixels[start : start + BATCH_SIZE])
        return vectors

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def image_size(self) -> int:
        return self.info.image_size

    def encode_stream(
        self,
        items: Iterable[tuple[int, np.ndarray]],
        batch_size: int = BATCH_SIZE,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """(id, pixels) pairs -> (ids, vectors) per batch (see `encode_stream`)."""
        return encode_stream(self, items, batch_size, progress)

    def save_head(self, path: Path) -> None:
        """Write the head's weights (HDF5), so `ImageEncoder(..., head_path=path)` rebuilds this space."""
        import h5py

        kernel, bias = self._head.get_weights()
        with h5py.File(path, "w") as file:
            file.attrs["format"] = HEAD_FORMAT
            file.attrs["sha256"] = self.info.head_sha256
            file.create_dataset("kernel", data=kernel)
            file.create_dataset("bias", data=bias)

    def export_runtime(self) -> bytes:
        """This model as a runtime model file (catalog/models/runtime.py): OpenVINO runs it without
        TensorFlow, with the same f32 vectors."""
        from catalog.models.runtime import export

        return export(self._model, self.info.image_size, self.info.model_id)

    def _run(self, pixels: np.ndarray) -> np.ndarray:
        # oneDNN takes another code path for a batch of one whose rounding differs (~1e-5); doubling a
        # lone photo keeps vectors independent of batching, so a photo queried alone gets exactly the
        # vector it got in a batch during ingest.
        if len(pixels) == 1:
            return self._forward(np.concatenate([pixels, pixels])).numpy()[:1]
        return self._forward(pixels).numpy()


def import_keras():
    """Import TensorFlow and Keras, keeping TensorFlow's C++ start-up chatter off the user's terminal.

    TF 2.21 logs oneDNN and CPU-feature notices through absl before TF_CPP_MIN_LOG_LEVEL is read,
    so they are caught at the file-descriptor level; anything else written meanwhile is passed on.
    """
    # Set here, not on `import catalog`: importing the library must not change the environment.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" not in sys.modules:
        with _native_stderr_filtered():
            import tensorflow  # noqa: F401
    import keras

    return keras


@contextlib.contextmanager
def _native_stderr_filtered():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line
                for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                if not any(noise in line for noise in STARTUP_CHATTER)
            ]
            if kept:
                sys.stderr.write("".join(kept))


def weights_identity(weights: str) -> str:
    """How a database names a --weights choice: imagenet, random, or file:<sha256 of the file>."""
    if weights in ("imagenet", "random"):
        return weights
    path = Path(weights)
    if not path.is_file():
        raise CatalogError(
            f"weights file {weights} not found (use --weights imagenet, --weights random "
            "or --weights FILE with a ResNet50 no-top weights file)"
        )
    try:
        return "file:" + file_sha256(path)
    except OSError as exc:
        raise CatalogError(f"cannot read weights file {weights}: {exc.strerror or exc}") from exc


def _resolve_weights(weights: str) -> tuple[str, str | None]:
    """(how EncoderInfo names the choice, what keras.applications.ResNet50 takes as `weights`)."""
    identity = weights_identity(weights)
    return identity, {"imagenet": "imagenet", "random": None}.get(weights, str(weights))


def _backbone(keras, weights: str, backbone_weights: str | None, image_size: int):
    # Keras raises bare Exceptions for failed downloads and ValueError/OSError for unusable files;
    # each is a user-facing problem with the weights, reported on one line.
    try:
        backbone = keras.applications.ResNet50(
            include_top=False, weights=backbone_weights, input_shape=(image_size, image_size, 3)
        )
    except Exception as exc:
        reason = " ".join(str(exc).split())[:300]
        if weights == "imagenet":
            raise CatalogError(
                "could not get the ResNet50 ImageNet weights (Keras downloads them once into "
                f"~/.keras/models; is there a network?): {reason}. Use --weights FILE with a local "
                "ResNet50 no-top weights file, or --weights random to run offline"
            ) from exc
        raise CatalogError(f"cannot load ResNet50 no-top weights from {weights}: {reason}") from exc
    backbone.trainable = False
    return backbone


def _read_head(path: Path) -> list[np.ndarray]:
    import h5py

    if not path.is_file():
        raise CatalogError(f"encoder head file {path} not found")
    try:
        with h5py.File(path, "r") as file:
            if file.attrs.get("format") != HEAD_FORMAT:
                raise CatalogError(f"{path} is not an encoder head file")
            kernel, bias, recorded = file["kernel"][()], file["bias"][()], file.attrs.get("sha256")
    except (OSError, KeyError) as exc:
        raise CatalogError(f"cannot read encoder head file {path}: {exc}") from exc
    if kernel.shape != (3, 3, 2048, IMAGE_DIM) or bias.shape != (IMAGE_DIM,):
        raise CatalogError(f"encoder head file {path} has shapes {kernel.shape}, {bias.shape}, not a ResNet50 head")
    if _sha256_arrays([kernel, bias]) != recorded:
        raise CatalogError(f"encoder head file {path} is damaged (its weights do not match their hash)")
    return [kernel, bias]


def _sha256_arrays(arrays: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype="<f4").tobytes())
    return digest.hexdigest()
