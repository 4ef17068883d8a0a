"""Photo decoding and encoding on a Ray cluster (`catalog ingest --engine ray`).

Encoding is the stage that grows with the catalog (ResNet50, ~30 photos/s on 2 CPU cores through
OpenVINO), so it is the one handed to many machines; everything after it (graph, walks, linker, the commit) stays
on the driver, which receives only what training needs: ids, 128-d vectors and photo features. The
workers write the thumbnails themselves. The pipeline is Ray Data's batch-inference pattern, with
Lance's distributed write at its end:

    from_items(id, photo path, stored sha256)   the photos whose size and mtime (or ETag) changed: the
                                                driver lists and stats, it reads no photo
    -> map_batches(decode_photos)               stateless CPU tasks: read once, hash (the same bytes as
                                                stored: done; checkpointed by an interrupted run: its
                                                vector is on the driver), else decode, resize,
                                                thumbnail, photo features
    -> map_batches(PhotoEncoder, concurrency=N) N actors, each loads the encoder once (a GPU each
                                                where the cluster has them), batches streamed
    -> map_batches(write_photos)                CPU tasks: the thumbnails as data files of the
                                                photos table (`lance.fragment.write_fragments`),
                                                uncommitted; their metadata rides along
    -> iter_batches on the driver               vectors, features and the files' metadata come back
                                                while later photos still decode; the driver commits
                                                the files (one Lance Append per checkpoint) and
                                                never holds a thumbnail

Every actor runs exactly the database's encoder and checks its id: on a CPU the database's
OpenVINO model file, shipped as bytes, at the recorded precision (the local engine's very
vectors, without TensorFlow on the workers); on a GPU the Keras encoder rebuilt from the weights,
seed and head weights (f32, within float tolerance). tests/test_ray_engine.py compares both
engines. The workers read the photos themselves: from a folder (on a
local cluster, or a shared filesystem every worker mounts) or from an object-store prefix
(`--images s3://bucket/images`). Ray is an optional extra (`pip install 'catalog[ray]'`) and
imported only here, only when `--engine ray` is asked for. Measurements and a projection to 10M
products: docs/scaling.md.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from catalog.core.errors import CatalogError

WRITE_ROWS = 256  # thumbnails per data file a worker writes (a few KB each)
# Reasons that are not problems: the photo's bytes are the stored ones, or an interrupted run's
# checkpoint holds its vector (the driver takes it from there).
UNCHANGED, CHECKPOINTED = "\x00unchanged", "\x00checkpointed"


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None: this machine's cluster (started if there is none)
    workers: int | None = None  # encoder actors; None: one per GPU, else one per 2 CPUs
    batch_size: int = 16


@dataclass(frozen=True)
class EncoderSpec:
    """What an actor needs to rebuild the database's encoder, and the id it must come out with.

    `model`: the database's OpenVINO model file (catalog/models/runtime.py), which a CPU actor runs
    as the local engine does, without TensorFlow; an actor on a GPU (or with CATALOG_RUNTIME=keras)
    rebuilds the Keras encoder from the weights, seed and head instead (f32 only)."""

    weights: str
    seed: int
    image_size: int
    head: bytes  # the head weights file (models/head-*.weights.h5)
    encoder_id: str
    model: bytes | None = None  # the runtime model file (models/encoder-*.ov), ~100 MB
    model_id: str = ""  # the f32 model's id the file was made for
    precision: str = "f32"


def decode_photos(
    batch: dict[str, np.ndarray],
    size: int,
    images: str,
    storage_options: dict[str, str],
    environment: dict[str, str],
    known: frozenset[str],
) -> dict[str, np.ndarray]:
    """Read each photo of the batch once and hash it: the stored bytes again (UNCHANGED) or bytes an
    interrupted run checkpointed (`known`: CHECKPOINTED) need no decoding; the rest are decoded and
    their features measured. An unusable photo keeps its row with a reason and zero pixels.

    `images`: the folder or object-store prefix the photo paths/keys are relative to; `environment`:
    the driver's object-store variables, for a worker that has none of its own."""
    import hashlib

    from catalog.core.photo_features import FEATURE_DIM, photo_features, to_stored
    from catalog.core.photos import load_image
    from ingest.images import ImageError, open_photos

    _adopt(environment)
    source = open_photos(images, storage_options)
    pixels = np.zeros((len(batch["id"]), size, size, 3), np.uint8)
    features = np.zeros((len(batch["id"]), FEATURE_DIM), np.uint8)
    thumbnails, reasons, hashes = [], [], []
    for n, (ref, stored) in enumerate(zip(batch["path"], batch["stored"])):
        digest = ""
        try:
            data = source.read(str(ref))
            digest = hashlib.sha256(data).hexdigest()
            if digest == stored or digest in known:
                hashes.append(digest)
                thumbnails.append(b"")
                reasons.append(UNCHANGED if digest == stored else CHECKPOINTED)
                continue
            image = load_image(data, size)
            pixels[n] = image.pixels
            features[n] = to_stored(photo_features(image.thumbnail))
            thumbnails.append(image.thumbnail)
            reasons.append("")
        except ImageError as error:
            thumbnails.append(b"")
            reasons.append(str(error) or "unusable image")
        hashes.append(digest)
    return {
        "id": batch["id"],
        "sha": np.array(hashes, dtype=object),
        "pixels": pixels,
        "features": features,
        "thumbnail": np.array(thumbnails, dtype=object),
        "reason": np.array(reasons, dtype=object),
    }


def _adopt(environment: dict[str, str]) -> None:
    """The driver's object-store variables, for a worker that has none of its own."""
    for name, value in environment.items():
        os.environ.setdefault(name, value)


class PhotoEncoder:
    """A Ray Data actor: builds the encoder once, then turns batches of pixels into image vectors."""

    def __init__(self, spec: EncoderSpec, threads: int):
        import ray

        from catalog.models.runtime import keras_requested

        if spec.model is not None and not ray.get_gpu_ids() and not keras_requested(spec.precision):
            self.encoder = _runtime_encoder(spec, threads)
        else:
            self.encoder = _keras_encoder(spec, threads)
        if self.encoder.id != spec.encoder_id:
            raise CatalogError(f"a Ray worker built encoder {self.encoder.id}, not {spec.encoder_id}")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = batch["reason"] == ""
        vectors = np.zeros((len(batch["id"]), 128), np.float32)
        if ok.any():
            vectors[ok] = self.encoder.encode(batch["pixels"][ok])
        return {**{k: v for k, v in batch.items() if k != "pixels"}, "vector": vectors}


def write_photos(
    batch: dict[str, np.ndarray], uri: str, storage_options: dict[str, str], environment: dict[str, str]
) -> dict[str, np.ndarray]:
    """Write the batch's thumbnails as uncommitted data files of the photos table (Lance's distributed
    write); the batch goes on without them, the files' metadata pickled into the first row's
    `fragments` cell (a Ray Data batch is columns of one value per row)."""
    import pickle

    from catalog.store.photos import photo_rows, write_fragments

    _adopt(environment)
    ok = batch["reason"] == ""
    rows = photo_rows(batch["sha"][ok].tolist(), batch["thumbnail"][ok].tolist())
    fragments = np.full(len(batch["id"]), b"", dtype=object)
    if len(fragments):
        fragments[0] = pickle.dumps(write_fragments(rows, uri, storage_options))
    return {**{k: v for k, v in batch.items() if k != "thumbnail"}, "fragments": fragments}


def _runtime_encoder(spec: EncoderSpec, threads: int):
    """The database's model file on OpenVINO, one stream per CPU of the actor's share (no TensorFlow)."""
    from catalog.models.runtime import RuntimeEncoder

    assert spec.model is not None
    return RuntimeEncoder.from_bytes(
        spec.model, spec.encoder_id, spec.model_id, spec.image_size, spec.precision, streams=threads
    )


def _keras_encoder(spec: EncoderSpec, threads: int):
    """The Keras encoder rebuilt from the weights, seed and head (a GPU actor, or CATALOG_RUNTIME=keras)."""
    import tempfile

    if spec.precision != "f32":
        raise CatalogError(
            f"a Ray worker on a GPU encodes with Keras in f32; this database's encoder runs in {spec.precision}"
        )
    # TensorFlow sizes its thread pools from the machine, not from the actor's share of it.
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from catalog.models.encoder import ImageEncoder

    with tempfile.TemporaryDirectory(prefix="catalog-head-") as folder:
        head = os.path.join(folder, "head.weights.h5")
        with open(head, "wb") as file:
            file.write(spec.head)
        return ImageEncoder(weights=spec.weights, seed=spec.seed, image_size=spec.image_size, head_path=head)


def require_ray():
    """The `ray` module, or a one-line error naming the extra to install (checked before any work)."""
    try:
        import ray
        import ray.data  # noqa: F401 - ray without the [data] extra cannot run the pipeline
    except ImportError:
        raise CatalogError("--engine ray needs Ray Data: pip install 'catalog[ray]'") from None
    return ray


def _store_environment(remote: bool) -> dict[str, str]:
    """The driver's AWS_/GOOGLE_/AZURE_ variables when a worker reads or writes an object store: workers
    of a local cluster started before them, or machines without their own credentials, use these."""
    if not remote:
        return {}
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "GOOGLE_", "AZURE_"))}


def _storage_options(images) -> dict[str, str]:
    storage = getattr(images, "storage", None)
    return dict(storage.storage_options) if storage is not None else {}


def _package_folders() -> list[str]:
    """The folders of the `catalog` and `ingest` packages, found without importing them: importing
    `catalog` would run its facade (catalog.api), which the write side never reaches back into."""
    found = [importlib.util.find_spec(name) for name in ("catalog", "ingest")]
    return [os.path.dirname(spec.origin) for spec in found if spec is not None and spec.origin]


def connect(address: str | None):
    """The Ray module, connected: to `address`, to the cluster this process already joined, or a new local one."""
    ray = require_ray()
    if not ray.is_initialized():
        runtime_env = None
        if address:  # a remote cluster gets this code shipped; its Python must have the dependencies
            runtime_env = {"py_modules": _package_folders()}
        try:
            ray.init(
                address=address,
                runtime_env=runtime_env,
                include_dashboard=False,
                log_to_driver=False,
                logging_level="ERROR",
            )
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise CatalogError(f"cannot reach the Ray cluster at {address or 'this machine'}: {error}") from None
    return ray


def encode_on_ray(
    photos: list[tuple[int, str, str]],
    spec: EncoderSpec,
    options: RayOptions,
    progress: Callable[[int], None] | None,
    images,
    photos_table: tuple[str, dict[str, str], Callable[[list], None]],
    known: frozenset[str] = frozenset(),
) -> Iterator[tuple[int, np.ndarray | None, np.ndarray | None, None, str, str]]:
    """(id, photo path or key, stored sha256 or "") -> (id, vector or None, stored features or None,
    None, reason, sha256) as batches come back, in any order (the fourth field, a thumbnail, is always
    None: see below). The reason is UNCHANGED for a photo whose bytes are the stored ones and
    CHECKPOINTED for one whose sha256 is in `known` (neither is decoded nor encoded).

    `images`: where the paths/keys are (a PhotoFolder or PhotoPrefix, ingest/images.py). Workers read
    the photos themselves: a folder must be mounted on every worker; an object-store prefix is read
    with the same settings (credentials from the workers' environment or the storage options).
    `photos_table`: (dataset URI, storage options, receiver): the workers write the thumbnails
    there, and the receiver gets the written files' metadata, for the driver to commit."""
    import pickle

    if not photos:
        return
    ray = connect(options.address)
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
    workers = options.workers or (gpus or max(1, cpus // 2))
    # Logical shares: decode tasks and actors overlap in time; TF's threads are sized to the share.
    cpus_per_actor = max(0.25, (cpus - 0.5) / workers) if not gpus else 1
    threads = max(1, int(cpus / workers)) if not gpus else max(1, int(cpus / max(gpus, 1)))
    import logging

    import ray.data

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # per-dataset INFO lines would reach the terminal
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    items = [{"id": int(product_id), "path": str(path), "stored": str(sha)} for product_id, path, sha in photos]
    uri, table_options, receive = photos_table
    dataset = (
        # About one encoder batch per block (so vectors stream back as batches finish), capped so a huge
        # catalog does not become millions of tiny Ray tasks.
        ray.data.from_items(items, override_num_blocks=max(1, min(len(items) // options.batch_size, 64 * workers)))
        .map_batches(
            decode_photos,
            fn_kwargs={
                "size": spec.image_size,
                "images": str(images or "/"),
                "storage_options": _storage_options(images),
                "environment": _store_environment(getattr(images, "storage", None) is not None),
                "known": known,
            },
            batch_size=options.batch_size,
            batch_format="numpy",
            num_cpus=0.25,
        )
        .map_batches(
            PhotoEncoder,
            fn_constructor_kwargs={"spec": spec, "threads": threads},
            batch_size=options.batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=cpus_per_actor,
            num_gpus=1 if gpus else 0,
        )
        # Files of WRITE_ROWS thumbnails (~1 MB), not of one encoder batch: fewer, larger fragments.
        .map_batches(
            write_photos,
            fn_kwargs={"uri": uri, "storage_options": table_options, "environment": _store_environment("://" in uri)},
            batch_size=WRITE_ROWS,
            batch_format="numpy",
            num_cpus=0.25,
        )
    )
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for cell in batch["fragments"]:
            if cell:
                receive(pickle.loads(cell))
        for product_id, vector, features, reason, sha in zip(
            batch["id"], batch["vector"], batch["features"], batch["reason"], batch["sha"]
        ):
            ok = not reason
            yield int(product_id), (vector if ok else None), (features if ok else None), None, str(reason), str(sha)
        if progress is not None:
            progress(len(batch["id"]))
