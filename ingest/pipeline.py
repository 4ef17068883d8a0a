"""The ingest pipeline: styles.csv + images -> vectors -> one committed database version.

Stages, each in its own module:

    reader      styles.csv -> rows + rejected rows            ingest/reader.py
    images      photo files -> 256x256 RGB + thumbnails       ingest/images.py
    encode      pixels -> 128-d image vectors (I_ResNet)      catalog/encoder.py
    graph       rows -> bipartite product–attribute graph     ingest/graph.py
    walks       graph -> node2vec walks (CSR, numpy)          ingest/walks.py
    graph space walks -> 32-d node vectors (gensim)           ingest/graph_space.py
    linker      image vectors -> node vectors (L_I2G)         catalog/linker.py
    write       products, attributes, run record              catalog/store.py

Image vectors are reused for every product whose photo bytes and encoder are unchanged, so only
new or changed photos pass through ResNet50 (and TensorFlow is not even imported when none do).
"""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from catalog.columns import ATTRIBUTE_COLUMNS, IMAGE_DIM, IMAGE_SIZE, NAME_COLUMN, NODE_DIM
from catalog.errors import CatalogError
from catalog.linker import Linker, LinkerParams, train_linker
from catalog.models import file_sha256, weights_identity
from catalog.store import Run, Store
from ingest.graph import build_graph
from ingest.graph_space import Node2VecParams, embed_graph
from ingest.images import find_image, load_images
from ingest.reader import Reject, read_styles

Progress = Callable[[int], None]


class Reporter(Protocol):
    """How the pipeline tells a front end about long stages (the CLI draws rich progress bars)."""

    def stage(self, name: str, total: int | None) -> ContextManager[Progress]: ...


class QuietReporter:
    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Progress]:
        yield lambda n=1: None


@dataclass(frozen=True)
class IngestOptions:
    weights: str = "imagenet"
    seed: int = 0
    limit: int | None = None
    image_size: int = IMAGE_SIZE
    batch_size: int = 16
    node2vec: Node2VecParams = field(default_factory=Node2VecParams)
    linker: LinkerParams = field(default_factory=LinkerParams)


@dataclass(frozen=True)
class ImageProblem:
    id: int
    reason: str


@dataclass
class IngestReport:
    run: Run
    products: int  # products in the database after the ingest
    rejects: list[Reject]
    image_problems: list[ImageProblem]
    seconds: dict[str, float]  # wall time per stage
    summary: dict  # added / changed / unchanged / removed / encoded counts


def row_hash(row: dict) -> str:
    """Content hash of a product's styles values: a changed row is one whose hash differs."""
    text = "\x1f".join(str(row.get(column, "")) for column in (*ATTRIBUTE_COLUMNS, NAME_COLUMN))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def ingest(
    db_path: Path,
    csv_path: Path,
    images_dir: Path,
    options: IngestOptions = IngestOptions(),
    reporter: Reporter = QuietReporter(),
) -> IngestReport:
    """Read, encode, embed, link and commit. On any error the database stays at its previous run."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise CatalogError(f"images folder {images_dir} not found" if not images_dir.exists() else f"{images_dir} is not a folder")
    weights = weights_identity(options.weights)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    styles = read_styles(csv_path)
    rows = styles.rows if options.limit is None else styles.rows.head(options.limit)
    seconds["read"] = time.perf_counter() - started

    store = Store(db_path)
    with store.writer() as writer:
        previous = writer.previous
        _check_encoder_choice(previous, weights, options)
        existing = writer.products.to_arrow() if previous else None
        catalog = _merge_rows(existing, rows)

        started = time.perf_counter()
        images, problems, encoder_record, encoded = _image_vectors(store, catalog, existing, images_dir, weights, options, reporter)
        seconds["images+encode"] = time.perf_counter() - started

        with reporter.stage("graph walks + word2vec", None) as progress:
            graph = build_graph(catalog)
            space = embed_graph(graph, options.node2vec, progress=progress)
        seconds["walks"], seconds["word2vec"] = space.walks_seconds, space.train_seconds
        node_vectors = _reorder(space.product_vectors, graph.product_ids, catalog["id"].to_numpy())

        started = time.perf_counter()
        has_image = images["has_image"]
        rec_vectors = np.zeros((len(catalog), NODE_DIM), np.float32)
        linker_record: dict = {}
        if has_image.sum() >= 2:
            with reporter.stage("linker", options.linker.epochs) as progress:
                fit = train_linker(images["vectors"][has_image], node_vectors[has_image], options.linker, progress)
            rec_vectors[has_image] = fit.linker.translate(images["vectors"][has_image])
            linker_record = {**options.linker.to_dict(), "file": str(fit.linker.save(store.models_dir).relative_to(store.path)), "metrics": fit.metrics}
        seconds["linker"] = time.perf_counter() - started

        started = time.perf_counter()
        run_number = (previous.run + 1) if previous else 1
        table = _products_table(catalog, images, node_vectors, rec_vectors, encoder_record.get("id", ""), run_number)
        writer.upsert_products(table)
        writer.replace_attributes(_attributes_table(graph, space, run_number))
        summary = _summary(existing, catalog, table, encoded, styles.rejects, problems)
        metrics = {"seconds": {k: round(v, 2) for k, v in seconds.items()}, "linker": linker_record.get("metrics", {})}
        run = writer.commit(
            "ingest", encoder=encoder_record, node2vec=options.node2vec.to_dict(), linker=linker_record,
            metrics=metrics, summary=summary,
        )
        seconds["write"] = time.perf_counter() - started
    return IngestReport(run, len(catalog), styles.rejects, problems, seconds, summary)


def _check_encoder_choice(previous: Run | None, weights: str, options: IngestOptions) -> None:
    """One database, one image space: refuse to mix encoders across ingests."""
    if not previous or not previous.encoder:
        return
    recorded = previous.encoder
    wanted = {"weights": weights, "seed": options.seed, "image_size": options.image_size}
    differs = [name for name, value in wanted.items() if recorded.get(name) != value]
    if differs:
        mine = ", ".join(f"{name}={wanted[name]}" for name in differs)
        theirs = ", ".join(f"{name}={recorded.get(name)}" for name in differs)
        raise CatalogError(
            f"this database was encoded with {theirs}; this ingest asks for {mine} "
            "(use the same options, or a new --db for a different encoder)"
        )


def _merge_rows(existing: pa.Table | None, rows: pd.DataFrame) -> pd.DataFrame:
    """The catalog after this ingest: stored products updated by the CSV's rows (CSV wins)."""
    columns = ["id", *ATTRIBUTE_COLUMNS, NAME_COLUMN]
    incoming = rows[columns].copy()
    if existing is None or existing.num_rows == 0:
        catalog = incoming
    else:
        kept = existing.select(columns).to_pandas()
        kept = kept[~kept["id"].isin(incoming["id"])]
        catalog = pd.concat([kept, incoming], ignore_index=True)
    catalog = catalog.sort_values("id", kind="stable").reset_index(drop=True)
    catalog["id"] = catalog["id"].astype("int64")
    return catalog


def _image_vectors(store, catalog, existing, images_dir, weights, options, reporter):
    """Image vectors, thumbnails and hashes for every product; encodes only new or changed photos."""
    ids = catalog["id"].to_numpy()
    count = len(ids)
    vectors = np.zeros((count, IMAGE_DIM), np.float32)
    has_image = np.zeros(count, bool)
    thumbnails: list[bytes | None] = [None] * count
    image_hashes = [""] * count
    paths = [""] * count
    position = {int(i): n for n, i in enumerate(ids)}
    problems: list[ImageProblem] = []

    stored = {}
    if existing is not None and existing.num_rows:
        for row in existing.select(["id", "image_hash", "encoder_id", "thumbnail", "image_vector", "has_image"]).to_pylist():
            if row["has_image"]:
                stored[row["id"]] = row

    with reporter.stage("hashing photos", count) as progress:
        to_encode = []
        for n, product_id in enumerate(ids):
            path = find_image(images_dir, int(product_id))
            progress(1)
            if path is None:
                old = stored.get(int(product_id))
                if old is not None:  # photo folder no longer has it: keep what we stored
                    vectors[n], thumbnails[n], image_hashes[n], has_image[n] = old["image_vector"], old["thumbnail"], old["image_hash"], True
                else:
                    problems.append(ImageProblem(int(product_id), f"no image file {product_id}.jpg in {images_dir}"))
                continue
            paths[n] = str(path)
            digest = file_sha256(path)
            old = stored.get(int(product_id))
            if old is not None and old["image_hash"] == digest:
                vectors[n], thumbnails[n], image_hashes[n], has_image[n] = old["image_vector"], old["thumbnail"], digest, True
            else:
                to_encode.append(int(product_id))

    previous = store.run
    encoder_record = dict(previous.encoder) if previous and previous.encoder else {}
    if to_encode:
        encoder = _build_encoder(store, encoder_record, options)
        encoder_record = _encoder_record(store, encoder, options, encoder_record)
        with reporter.stage("encoding photos", len(to_encode)) as progress:
            loaded = load_images(images_dir, to_encode, size=options.image_size)

            def pixels():
                for product_id, image, reason in loaded:
                    if image is None:
                        problems.append(ImageProblem(product_id, reason))
                        progress(1)
                        continue
                    n = position[product_id]
                    thumbnails[n], image_hashes[n] = image.thumbnail, image.sha256
                    yield product_id, image.pixels

            for batch_ids, batch_vectors in encoder.encode_stream(pixels(), batch_size=options.batch_size, progress=progress):
                for product_id, vector in zip(batch_ids, batch_vectors):
                    n = position[product_id]
                    vectors[n], has_image[n] = vector, True
    problems.sort(key=lambda p: p.id)
    images = {"vectors": vectors, "has_image": has_image, "thumbnails": thumbnails, "hashes": image_hashes, "paths": paths}
    return images, problems, encoder_record, len(to_encode)


def _build_encoder(store: Store, recorded: dict, options: IngestOptions):
    from catalog.encoder import ImageEncoder  # TensorFlow only when a photo needs encoding

    head = store.path / recorded["head_file"] if recorded.get("head_file") else None
    return ImageEncoder(weights=options.weights, seed=options.seed, image_size=options.image_size, head_path=head)


def _encoder_record(store: Store, encoder, options: IngestOptions, recorded: dict) -> dict:
    if recorded.get("head_file"):
        return recorded
    head_path = store.models_dir / f"head-{encoder.info.head_sha256[:16]}.weights.h5"
    if not head_path.exists():
        encoder.save_head(head_path)
    weights_path = options.weights if options.weights not in ("imagenet", "random") else None
    return {
        "id": encoder.info.id,
        "weights": encoder.info.weights,
        "weights_path": str(Path(weights_path).resolve()) if weights_path else None,
        "seed": encoder.info.seed,
        "image_size": encoder.info.image_size,
        "head_file": str(head_path.relative_to(store.path)),
    }


def _reorder(vectors: np.ndarray, from_ids: np.ndarray, to_ids: np.ndarray) -> np.ndarray:
    index = {int(i): n for n, i in enumerate(from_ids)}
    return vectors[[index[int(i)] for i in to_ids]].astype(np.float32)


def _fixed(vectors: np.ndarray, dim: int) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(vectors, np.float32).reshape(-1)), dim)


def _products_table(catalog, images, node_vectors, rec_vectors, encoder_id, run_number) -> pa.Table:
    data = {"id": pa.array(catalog["id"].to_numpy(), pa.int64())}
    for column in (*ATTRIBUTE_COLUMNS, NAME_COLUMN):
        data[column] = pa.array(catalog[column].astype(str).to_numpy(dtype=object), pa.string())
    records = catalog.to_dict("records")
    has_image = images["has_image"]
    data.update(
        image_path=pa.array(images["paths"], pa.string()),
        thumbnail=pa.array(images["thumbnails"], pa.binary()),
        has_image=pa.array(has_image, pa.bool_()),
        row_hash=pa.array([row_hash(r) for r in records], pa.string()),
        image_hash=pa.array(images["hashes"], pa.string()),
        encoder_id=pa.array([encoder_id if h else "" for h in has_image], pa.string()),
        image_vector=_fixed(images["vectors"], IMAGE_DIM),
        node_vector=_fixed(node_vectors, NODE_DIM),
        rec_vector=_fixed(rec_vectors, NODE_DIM),
        node_source=pa.array(["walks"] * len(catalog), pa.string()),
        run=pa.array([run_number] * len(catalog), pa.int64()),
    )
    return pa.table(data)


def _attributes_table(graph, space, run_number) -> pa.Table:
    keys = list(graph.attribute_keys)
    degree = graph.degree()[graph.num_products:]
    return pa.table(
        {
            "key": keys,
            "column": [key.split("=", 1)[0] for key in keys],
            "value": [key.split("=", 1)[1] for key in keys],
            "degree": pa.array(degree, pa.int64()),
            "vector": _fixed(space.attribute_vectors, NODE_DIM),
            "node_source": ["walks"] * len(keys),
            "run": pa.array([run_number] * len(keys), pa.int64()),
        }
    )


def _summary(existing, catalog, table, encoded, rejects, problems) -> dict:
    before = {}
    if existing is not None and existing.num_rows:
        before = dict(zip(existing.column("id").to_pylist(), zip(existing.column("row_hash").to_pylist(), existing.column("image_hash").to_pylist())))
    after = zip(table.column("id").to_pylist(), table.column("row_hash").to_pylist(), table.column("image_hash").to_pylist())
    added = changed = 0
    for product_id, row, image in after:
        if product_id not in before:
            added += 1
        elif before[product_id] != (row, image):
            changed += 1
    return {
        "products": len(catalog),
        "added": added,
        "changed": changed,
        "unchanged": len(catalog) - added - changed,
        "removed": 0,
        "encoded": encoded,
        "rejected_rows": len(rejects),
        "image_problems": len(problems),
    }
