"""The models of a database at query time: its image encoder and its linker.

A database records which encoder made its image vectors (backbone weights, head seed, head file,
image size, precision). A query photo must land in that same space: it is encoded by the encoder's
OpenVINO model file stored with the database (catalog/models/runtime.py; no TensorFlow), made from
the Keras encoder rebuilt from the record and checked against its id when the database has none
yet; a different `--weights` is refused rather than mixed in.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from catalog.core.errors import CatalogError
from catalog.core.photo_features import features_of
from catalog.models.encoder import Encoder, weights_identity
from catalog.models.linker import Linker
from catalog.store.database import Store


class EncodedPhoto(NamedTuple):
    """A photo as the database reads it."""

    image_vector: np.ndarray  # (128,) in the database's image space
    translated: np.ndarray  # (32,) the linker's graph-space vector: Rec searches from it
    # Per column, every value's probability under the linker's classifiers (None: a linker without).
    probabilities: dict[str, dict[str, float]] | None


def linker_features(
    linker: Linker, thumbnails: Sequence[bytes | None], stored: np.ndarray | None = None
) -> np.ndarray | None:
    """The photo features `linker` reads beside the image vectors: `stored` (uint8 rows from the
    products table) where present, else measured on the thumbnails; None for a linker that reads
    image vectors alone (nothing is decoded)."""
    return features_of(stored, thumbnails) if linker.photo_features else None


def photo_probabilities(
    linker: Linker, image_vectors: np.ndarray, thumbnails: Sequence[bytes | None], stored: np.ndarray | None = None
) -> dict[str, dict[str, float]] | None:
    """`EncodedPhoto.probabilities` of stored photos (features as `linker_features`), without
    translating them."""
    image_vectors = np.asarray(image_vectors, np.float32).reshape(len(thumbnails), -1)
    return linker.value_probabilities(image_vectors, linker_features(linker, thumbnails, stored))


def check_weights(recorded: dict, weights: str | None) -> str:
    """The --weights value to build the recorded encoder with; refuses a different one."""
    if weights is not None:
        identity = weights_identity(weights)
        if identity != recorded["weights"]:
            raise CatalogError(
                f"this database's image vectors were made with --weights {describe_weights(recorded)}; "
                f"--weights {weights} would encode into a different space (use a new --db to change encoders)"
            )
        return weights
    if recorded["weights"].startswith("file:"):
        path = recorded.get("weights_path")
        if not path or not Path(path).is_file():
            raise CatalogError(
                f"this database was encoded with the weights file {path or '(unknown)'}, which is not there; "
                "pass it with --weights FILE"
            )
        return path
    return recorded["weights"]


def describe_weights(recorded: dict) -> str:
    if recorded["weights"].startswith("file:"):
        return recorded.get("weights_path") or recorded["weights"]
    return recorded["weights"]


def load_encoder(store: Store, weights: str | None = None) -> Encoder:
    """The database's own image encoder, on OpenVINO from the model file stored with the database
    (no TensorFlow: catalog/models/runtime.py). A database made before that file existed gets it
    now: the Keras encoder is rebuilt from the record (TensorFlow, once), converted and stored."""
    recorded = store.run.encoder
    if not recorded:
        raise CatalogError(f"the database at {store.path} has no image encoder recorded (no product had an image)")
    if recorded.get("weights") == "custom":
        raise CatalogError(
            f"the database at {store.path} was encoded with a custom encoder ({recorded['id']}); "
            "pass it as Catalog(path, encoder=...) to encode a photo"
        )
    if weights is not None:
        check_weights(recorded, weights)  # a different --weights is refused, as it always was
    return runtime_encoder(store, recorded, weights, latency=True)  # query photos come one at a time


def keras_encoder(store: Store, recorded: dict, weights: str | None = None):
    """The recorded Keras encoder rebuilt (imports TensorFlow), checked to be the recorded one."""
    from catalog.models.encoder import ImageEncoder

    encoder = ImageEncoder(
        weights=check_weights(recorded, weights),
        seed=recorded["seed"],
        image_size=recorded["image_size"],
        head_path=store.local_file(recorded["head_file"]),
    )
    built = getattr(encoder.info, "model_id", encoder.info.id)
    if built != model_id_of(recorded):
        raise CatalogError(
            f"the encoder built now ({built}) differs from the one that made this database "
            f"({model_id_of(recorded)}); refusing to mix image spaces"
        )
    return encoder


def model_id_of(recorded: dict) -> str:
    """The f32 model's id of an encoder record (records made before precisions name it `id`)."""
    return recorded.get("model_id") or recorded["id"]


def precision_of(recorded: dict) -> str:
    """The precision of an encoder record (records made before precisions: the Keras encoder's f32)."""
    return recorded.get("precision") or "f32"


def runtime_encoder(
    store: Store, recorded: dict, weights: str | None = None, keras=None, latency: bool = False
) -> Encoder:
    """The recorded encoder on OpenVINO, at the recorded precision. Its model file is made from
    `keras` (or the Keras encoder rebuilt from the record) when the database has none yet, and
    stored; where the database cannot be written (read-only), it is kept in a temporary file for
    this process and made again by the next one."""
    from catalog.models.runtime import RuntimeEncoder, keras_requested

    model_id = model_id_of(recorded)
    precision = precision_of(recorded)
    if keras_requested(precision):
        return keras or keras_encoder(store, recorded, weights)

    made = store_runtime_model(store, recorded, weights, keras)
    if made is None:  # an ImageEncoder stand-in without a runtime form runs as it is
        return keras or keras_encoder(store, recorded, weights)
    settings = (recorded["id"], model_id, int(recorded["image_size"]), precision)
    if isinstance(made, str):
        return RuntimeEncoder(store.local_file(made), *settings, latency=latency)
    return RuntimeEncoder.from_bytes(made, *settings, latency=latency)  # a database this process cannot write


def store_runtime_model(store: Store, recorded: dict, weights: str | None = None, keras=None) -> str | bytes | None:
    """Make sure the database keeps the runtime model file of its encoder: its key when it is
    stored (made now from `keras`, or from the Keras encoder rebuilt from the record, if missing);
    the file's bytes when the database cannot be written (read-only); None for an encoder that
    has no runtime form (a stand-in passed as `keras`)."""
    from catalog.models.runtime import model_key

    key = model_key(model_id_of(recorded))
    if store.storage.has(key):
        return key
    keras = keras or keras_encoder(store, recorded, weights)
    if not hasattr(keras, "export_runtime"):
        return None
    data = keras.export_runtime()
    try:
        store.storage.write_bytes(key, data)  # whole or not at all; the name never changes content
        return key
    except (OSError, CatalogError):
        return data  # a database this process cannot write (read-only)


# Linkers read, by database and file: Rec orders every `similar` by the linker's classifiers, and
# a long-lived `Catalog` handle should not re-read the file each time. Model files are
# content-addressed (never rewritten), so a key names one linker for good.
_LINKERS: OrderedDict[tuple[str, str], Linker] = OrderedDict()
LINKER_CACHE = 4


def load_linker(store: Store) -> Linker:
    recorded = store.run.linker
    if not recorded.get("file"):
        raise CatalogError(f"the database at {store.path} has no linker (no product had an image)")
    key = (str(store.path), recorded["file"])
    linker = _LINKERS.get(key)
    if linker is None:
        linker = Linker.from_bytes(store.read_file(recorded["file"]), recorded["file"])
        _LINKERS[key] = linker
        while len(_LINKERS) > LINKER_CACHE:
            _LINKERS.popitem(last=False)
    return linker


def database_encoder(store: Store, encoder: Encoder | None = None, weights: str | None = None) -> Encoder:
    """The encoder to put a new photo into this database's image space: the one given (checked
    against the database's record) or the recorded Keras encoder rebuilt."""
    if encoder is None:
        return load_encoder(store, weights)
    recorded = store.run.encoder or {}
    if encoder.id != recorded.get("id"):
        raise CatalogError(
            f"this database's image vectors were made by {recorded.get('id') or 'no encoder'}; "
            f"the encoder given is {encoder.id}"
        )
    return encoder


def translate_photo(store: Store, path: Path | bytes, weights: str | None = None, encoder: Encoder | None = None):
    """A photo -> its translated graph-space vector (the paper's Rec, before the search)."""
    return encode_photo(store, path, weights, encoder).translated


def check_photo(photo: Path | bytes) -> Path | bytes:
    """A photo path that names one file (checked before any encoder is built), or photo bytes as they are."""
    if isinstance(photo, bytes):
        return photo
    photo = Path(photo)
    if photo.is_dir():
        raise CatalogError(f"{photo} is a folder; give the path of one photo")
    if not photo.is_file():
        raise CatalogError(f"image {photo} not found")
    return photo


def encode_photo(
    store: Store,
    photo: Path | bytes,
    weights: str | None = None,
    encoder: Encoder | None = None,
    linker: Linker | None = None,
) -> EncodedPhoto:
    """A photo (a file, or its bytes) -> its image vector, translated vector and the classifiers'
    probabilities. `linker`: the database's, when the caller already read it."""
    from catalog.core.photos import ImageError, load_image

    name = "the uploaded photo" if isinstance(photo, bytes) else str(photo)
    photo = check_photo(photo)
    recorded = store.run.encoder or {}
    try:
        image = load_image(photo, size=recorded.get("image_size", 256))
    except ImageError as error:
        raise CatalogError(f"cannot use {name}: {error}") from None
    image_vector = database_encoder(store, encoder, weights).encode(image.pixels[None])
    linker = linker or load_linker(store)
    # The photo's features are measured on a thumbnail made as the stored ones are (load_image).
    features = linker_features(linker, [image.thumbnail])
    return EncodedPhoto(
        image_vector[0], linker.translate(image_vector, features)[0], linker.value_probabilities(image_vector, features)
    )
