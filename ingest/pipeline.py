"""The ingest pipeline: styles.csv + images -> vectors -> one committed database version.

Stages, each in its own module:

    reader      styles.csv -> rows + rejected rows            ingest/reader.py
    images      photo files -> 256x256 RGB + thumbnails       ingest/images.py
    encode      pixels -> 128-d image vectors (I_ResNet)      catalog/models/encoder.py (+ ingest/checkpoints.py)
    graph       rows -> bipartite product–attribute graph     ingest/graph.py
    walks       graph -> node2vec walks (CSR, numpy)          ingest/walks.py
    graph space walks -> 32-d node vectors (gensim)           ingest/graph_space.py
    placement   new products -> node vectors, no retraining   ingest/placement.py
    features    thumbnails -> colour + silhouette features    catalog/core/photo_features.py
    linker      image vectors (+ features) -> node vectors    catalog/models/linker.py
    batches     the catalog held lean; rows in record batches ingest/batches.py
    write       products, attributes, run record              catalog/store/database.py

The first ingest (and `catalog rebuild`) trains the graph space and the linker on the whole
catalog. Later ingests are incremental: each product carries content hashes (its row values, its
photo's bytes, the encoder id), only new or changed photos are encoded, new or changed products
are placed in the existing graph space (ingest/placement.py) and translated by the existing
linker, and nothing else is touched. An ingest that changes nothing writes nothing.
"""

from __future__ import annotations

import hashlib
import time
from array import array
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Protocol, overload

import numpy as np
import pandas as pd
import pyarrow as pa

from catalog.core.columns import ATTRIBUTE_COLUMNS, IMAGE_SIZE, NAME_COLUMN
from catalog.core.errors import CatalogError
from catalog.core.keys import split_key
from catalog.core.photo_features import COLUMN as FEATURES_COLUMN
from catalog.core.photo_features import from_stored, photo_features, to_stored
from catalog.core.ranking import UNRANKED, RankingSettings, tie_ranks
from catalog.models.encoder import Encoder, encode_stream, encoding_batch_size, weights_identity
from catalog.models.linker import Linker, LinkerParams, linker_sample, linker_sample_limit, linker_warning, train_linker
from catalog.models.runtime import check_precision, default_precision
from catalog.query.stored_models import linker_features, precision_of
from catalog.store.database import ATTRIBUTES_SCHEMA, PRODUCTS_SCHEMA, Run, Store, Writer
from catalog.store.storage import DbLocation
from ingest.allocator import reuse_freed_memory
from ingest.batches import HELD_COLUMNS, Products, product_batches, set_cells
from ingest.checkpoints import EncodeCheckpoints, PhotoRows
from ingest.graph import attribute_values
from ingest.graph_space import Node2VecParams, catalog_graph, embed_graph
from ingest.images import PhotoFolder, PhotoPrefix, load_images, open_photos
from ingest.placement import attribute_degrees, place_attributes, place_products
from ingest.ray_engine import CHECKPOINTED, UNCHANGED
from ingest.reader import Reject, read_styles

Progress = Callable[[int], None]
FEATURES = (
    FEATURES_COLUMN  # bytes per photo (catalog/core/photo_features.py), None without a photo or where not yet stored
)
STYLE_COLUMNS = [*ATTRIBUTE_COLUMNS, NAME_COLUMN]
# Past this share of products with inferred (not walk-trained) node vectors, ingest suggests
# `catalog rebuild`: see benchmarks/README.md (incremental) for the measurement behind it.
REBUILD_SUGGESTION_SHARE = 0.2
TRANSLATE_ROWS = 8192  # photos translated at a time: the linker's intermediate arrays stay small


class Reporter(Protocol):
    """How the pipeline tells a front end about long stages (the CLI draws rich progress bars)."""

    def stage(self, name: str, total: int | None) -> ContextManager[Progress]: ...


class QuietReporter:
    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator[Progress]:
        yield lambda n=1: None


@dataclass(frozen=True)
class IngestOptions:
    """What an ingest may choose. None means: what the database records (for a new one: the default
    in brackets), so a later `catalog ingest` needs no options repeated."""

    weights: str | None = None  # imagenet | random | FILE  [imagenet]
    seed: int | None = None  # [0]
    limit: int | None = None
    image_size: int | None = None  # [IMAGE_SIZE]
    batch_size: int | None = None  # photos per encoder batch; None: 16 on CPU, 64 with a GPU
    # f32 | bf16 [default_precision(engine)]: how OpenVINO runs the encoder (catalog/models/runtime.py)
    precision: str | None = None
    node2vec: Node2VecParams = field(default_factory=Node2VecParams)
    linker: LinkerParams | None = None  # [LinkerParams(seed=seed)]
    linker_kind: str | None = None  # changes the kind of `linker` (cosine | paper)
    linker_epochs: int | None = None  # changes the epochs (at most) of `linker`
    prune: bool = False  # remove products that are not in the CSV
    rebuild: bool = False  # retrain graph space and linker on the whole catalog
    # Changes to the recorded ranking settings (`RankingSettings.changed`: Rec's weights, the pools,
    # the band, the linker's column weights); `resolved` makes it the run's RankingSettings.
    ranking: Any = None
    engine: str = "local"  # "ray": photos decoded and encoded on a Ray cluster (ingest/ray_engine.py)
    ray_address: str | None = None
    ray_workers: int | None = None

    def resolved(self, previous: Run | None) -> IngestOptions:
        """These options with every None filled from the previous run's record (or the defaults)."""
        recorded = (previous.encoder if previous else None) or {}
        weights = self.weights
        if weights is None:
            weights = (recorded.get("weights_path") or recorded.get("weights")) if recorded else "imagenet"
            if weights is None or weights.startswith("file:") or weights == "custom":
                weights = "imagenet"
        seed = self.seed if self.seed is not None else int(recorded.get("seed") or 0)
        image_size = self.image_size or int(recorded.get("image_size") or IMAGE_SIZE)
        precision = check_precision(
            self.precision or (precision_of(recorded) if recorded else default_precision(self.engine))
        )
        linker = self.linker
        if linker is None:
            linker = (
                LinkerParams.from_dict(previous.linker) if previous and previous.linker else LinkerParams(seed=seed)
            )
        if self.linker_kind:
            linker = replace(linker, kind=self.linker_kind)
        if self.linker_epochs:
            linker = replace(linker, epochs=self.linker_epochs)
        ranking = self.ranking
        if not isinstance(ranking, RankingSettings):
            recorded_ranking = ((previous.linker if previous else None) or {}).get("ranking")
            ranking = RankingSettings.from_dict(recorded_ranking).changed(ranking or {})
        return replace(
            self, weights=weights, seed=seed, image_size=image_size, precision=precision, linker=linker, ranking=ranking
        )


@dataclass(frozen=True)
class ImageProblem:
    id: int
    reason: str


class ImageProblems(Sequence[ImageProblem]):
    """An ingest's photo problems, in id order. A catalog without photos has one per product ("no
    image file"), ten million at 10M products: held as an id array and a reason number each, with
    the text of each distinct reason once (ID_MARK in it stands for the product's id)."""

    ID_MARK = "\x00"  # never in a path or a reason: replaced by the id when a problem is read

    def __init__(self) -> None:
        self._ids = array("q")
        self._codes = array("l")
        self._reasons: dict[str, int] = {}
        self._texts: list[str] = []

    def add(self, product_id: int, reason: str) -> None:
        code = self._reasons.setdefault(reason, len(self._texts))
        if code == len(self._texts):
            self._texts.append(reason)
        self._ids.append(product_id)
        self._codes.append(code)

    def sort(self) -> None:
        order = np.argsort(np.frombuffer(self._ids, np.int64), kind="stable")
        self._ids = array("q", np.frombuffer(self._ids, np.int64)[order].tobytes())
        self._codes = array("l", np.frombuffer(self._codes, np.int_)[order].tobytes())

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> ImageProblem: ...
    @overload
    def __getitem__(self, index: slice) -> list[ImageProblem]: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        product_id = self._ids[index]
        return ImageProblem(product_id, self._texts[self._codes[index]].replace(self.ID_MARK, str(product_id)))

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented


@dataclass
class IngestReport:
    """What `Catalog.ingest` and `Catalog.rebuild` return; `to_dict()` is their `--json`."""

    run: Run | None  # the run committed, or None when nothing changed
    products: int  # products in the database after the ingest
    rejects: list[Reject]
    image_problems: Sequence[ImageProblem]
    seconds: dict[str, float]  # wall time per stage
    summary: dict  # added / changed / removed / unchanged / encoded counts, mode, new attributes

    @property
    def linker_metrics(self) -> dict:
        return self.run.linker.get("metrics", {}) if self.run else {}

    @property
    def warnings(self) -> list[str]:
        """Things the user should know about the result (a linker no better than the mean)."""
        if not self.run or self.summary.get("mode") != "full" or not self.run.linker:
            return []
        warning = linker_warning(self.run.linker.get("kind", "cosine"), self.linker_metrics)
        return [warning] if warning else []

    def to_dict(self) -> dict:
        return {
            "run": self.run.run if self.run else None,
            "summary": self.summary,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "linker": self.linker_metrics,
            "warnings": self.warnings,
            "rejected_rows": [{"line": r.line, "id": r.id, "reason": r.reason} for r in self.rejects],
            "image_problems": [{"id": p.id, "reason": p.reason} for p in self.image_problems],
        }


def row_hash(values: dict) -> str:
    """Content hash of a product's styles values: a changed row is one whose hash differs."""
    text = "\x1f".join(str(values.get(column, "")) for column in STYLE_COLUMNS)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- the products table in memory: ingest/batches.py (Products and their record batches); thumbnails: the photos table


# -- the pipeline ------------------------------------------------------------------------------


def ingest(
    db_path: Path | str | DbLocation,
    csv_path: Path,
    images_dir: Path | str | PhotoFolder | PhotoPrefix,
    options: IngestOptions = IngestOptions(),
    reporter: Reporter = QuietReporter(),
    encoder: Encoder | None = None,
) -> IngestReport:
    """Read, encode, embed, link and commit. On any error the database stays at its previous run.

    `encoder`: the image encoder to use (default: the Keras encoder the options or the database's
    record describe, built only if a photo needs encoding).
    """
    reuse_freed_memory()  # before this ingest's threads start: ingest/allocator.py
    images_dir = open_photos(images_dir)  # a folder, or an object-store prefix (s3://bucket/images)
    if isinstance(images_dir, PhotoPrefix) and not images_dir.storage.storage_options:
        from catalog.store.storage import split_location

        # Photos on the same kind of store as the database: the database's settings apply to them too.
        images_dir = open_photos(str(images_dir), split_location(db_path)[1])
    images_dir.check()
    if options.weights is not None:
        weights_identity(options.weights)  # a missing weights file fails before the CSV is read
    if options.engine == "ray":
        from ingest.ray_engine import require_ray

        require_ray()  # before any work: a missing extra is one line, not a failure after the CSV and photos
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    styles = read_styles(csv_path)
    rows = styles.rows if options.limit is None else styles.rows.head(options.limit)
    seconds["read"] = time.perf_counter() - started

    store = Store(db_path)
    with store.writer() as writer:
        previous = writer.previous
        options = options.resolved(previous)
        _check_encoder_choice(previous, options, encoder)
        # What every stage needs of the stored catalog, never its thumbnails (ingest/batches.py).
        state = Products.read(writer.products, writer.photos) if previous else Products.empty()
        protected = {int(float(r.id)) for r in styles.rejects if r.id and _is_int(r.id)}
        state, change = _apply_rows(state, rows, options.prune, protected)
        csv_ids = rows["id"].to_numpy(np.int64)
        del rows, styles.rows  # the rows now live in `state`

        started = time.perf_counter()
        problems, encoder_record, encoded = _encode_photos(
            writer, state, change, csv_ids, images_dir, options, reporter, encoder
        )
        seconds["images+encode"] = time.perf_counter() - started

        full = previous is None or options.rebuild or not previous.linker
        summary = change.summary(state, encoded, styles.rejects, problems, "full" if full else "incremental")
        # Checked before anything is written: an incremental ingest keeps the linker, so its weights stay.
        kept_linker = _with_ranking(previous.linker, options.ranking) if not full else {}
        if not full and not change.any():
            if options.ranking != RankingSettings.from_dict(previous.linker.get("ranking")):
                raise CatalogError(
                    "no product changed, so this ingest writes nothing; change ranking settings alone with "
                    "`catalog rebuild --ranking KEY=VALUE`"
                )
            return IngestReport(None, len(state.frame), styles.rejects, problems, seconds, summary)

        if full:
            attributes, linker_record, node2vec_record = _train_spaces(store, state, options, reporter, seconds)
            touched = np.arange(len(state.frame))
        else:
            attributes, summary["new_attributes"] = _place_incrementally(writer, state, change, previous, seconds)
            linker_record, node2vec_record = kept_linker, previous.node2vec
            touched = change.touched_index(state)
        run = _commit(
            writer,
            "rebuild" if options.rebuild else "ingest",
            state,
            touched,
            sorted(change.removed),
            attributes,
            full=full,
            encoder=encoder_record,
            node2vec=node2vec_record,
            linker=linker_record,
            summary=summary,
            seconds=seconds,
        )
        # Still under the lock: a next writer may already be writing its own checkpoints once it is released.
        EncodeCheckpoints.clear(store.storage)
    return IngestReport(run, len(state.frame), styles.rejects, problems, seconds, summary)


def rebuild(
    db_path: Path | str | DbLocation,
    options: IngestOptions | None = None,
    reporter: Reporter = QuietReporter(),
    *,
    linker: str | None = None,
    walks: int | None = None,
    ranking: dict | None = None,
) -> IngestReport:
    """Retrain graph space and linker on the current catalog, reusing the stored image vectors.

    Without `options`, the node2vec and linker parameters are the recorded ones, with `linker`
    (a kind) and `walks` (walks per node) changed when given; `ranking`: changes to the recorded
    ranking settings (`RankingSettings.changed`).
    """
    reuse_freed_memory()  # ingest/allocator.py
    store = Store.open(db_path)
    if options is None:
        options = _recorded_training(store.run, linker, walks, ranking)
    seconds: dict[str, float] = {}
    with store.writer() as writer:
        previous = writer.previous
        options = options.resolved(previous)
        state = Products.read(writer.products, writer.photos)
        attributes, linker_record, node2vec_record = _train_spaces(store, state, options, reporter, seconds)
        count = len(state.frame)
        summary = {
            "products": count,
            "added": 0,
            "changed": 0,
            "removed": 0,
            "unchanged": count,
            "encoded": 0,
            "mode": "full",
        }
        run = _commit(
            writer,
            "rebuild",
            state,
            np.arange(count),
            [],
            attributes,
            full=True,
            encoder=previous.encoder,
            node2vec=node2vec_record,
            linker=linker_record,
            summary=summary,
            seconds=seconds,
        )
    return IngestReport(run, len(state.frame), [], [], seconds, summary)


def _recorded_training(
    run: Run | None, linker: str | None, walks: int | None, ranking: dict | None = None
) -> IngestOptions:
    """The node2vec and linker parameters a database was built with, with a new linker kind or walk
    count (the ranking settings: the recorded ones, changed by `ranking`, in `resolved`)."""
    node2vec = Node2VecParams.from_dict(run.node2vec) if run else Node2VecParams()
    params = LinkerParams.from_dict(run.linker) if run and run.linker else LinkerParams()
    if walks:
        node2vec = replace(node2vec, num_walks=walks)
    if linker:
        params = replace(params, kind=linker)
    return IngestOptions(node2vec=node2vec, linker=params, ranking=ranking)


def _with_ranking(linker_record: dict, ranking: RankingSettings) -> dict:
    """The previous run's linker record with these ranking settings (an incremental ingest keeps
    the linker). The linker's column weights shape the trained linker, so changing them needs a
    retraining; the other settings only order results and change with the record."""
    if not linker_record:
        return linker_record  # no linker (no photos): nothing ranks by classifiers, nothing to record with
    recorded = RankingSettings.from_dict(linker_record.get("ranking"))
    if dict(ranking.linker_weights) != dict(recorded.linker_weights):
        raise CatalogError(
            "the linker's column weights (linker_weights) shape the trained linker; change them with "
            "`catalog rebuild --ranking linker_weights.COLUMN=VALUE`"
        )
    return {**linker_record, "ranking": ranking.to_dict()}


def _commit(
    writer: Writer,
    kind: str,
    state: Products,
    touched: np.ndarray,
    removed: list[int],
    attributes: pd.DataFrame,
    *,
    full: bool,
    encoder: dict,
    node2vec: dict,
    linker: dict,
    summary: dict,
    seconds: dict[str, float],
) -> Run:
    """Write the touched product rows, the removals and the attribute table, compact, and commit one run.

    Shared by ingest and rebuild, so both stamp rows with the run and record the same metrics.
    Rows go in record batches (ingest/batches.py): a `full` run rewrites every product as one
    streamed Lance commit (a new table version holding exactly the catalog: removed products are
    simply not in it); an incremental run upserts only the touched rows, a batch at a time, and
    deletes the removed ones. Either way nothing is visible before the run record.
    """
    run_number = (writer.previous.run + 1) if writer.previous else 1
    state.frame.loc[touched, "run"] = run_number
    if full:  # every row is written: rank the photo-less products of each combination by id
        frame = state.frame
        ids, photo = frame["id"].to_numpy(np.int64), frame["has_image"].to_numpy(bool)
        frame["tie_rank"] = tie_ranks(state.vectors["node_vector"], ids, photo)
    else:  # a rewritten row's rank would be stale: unranked until the next full write
        state.frame.loc[touched, "tie_rank"] = UNRANKED
    attributes["run"] = run_number
    summary.update(_inferred_share(state))
    started = time.perf_counter()
    batches = product_batches(state, np.asarray(touched))
    if full:
        writer.upsert_products(pa.RecordBatchReader.from_batches(PRODUCTS_SCHEMA, batches), replace=True)
    else:
        for batch in batches:
            writer.upsert_products(pa.Table.from_batches([batch]))
        writer.delete_products(removed)
    # Written: no step of this run reads the vectors and features again, and the index builds in
    # `compact` are the write's largest step (~1.1 KB a product freed before them).
    state.drop_arrays()
    writer.replace_attributes(pa.Table.from_pandas(attributes, schema=ATTRIBUTES_SCHEMA, preserve_index=False))
    writer.compact()
    seconds["write"] = time.perf_counter() - started
    metrics = {"seconds": {k: round(v, 2) for k, v in seconds.items()}, "linker": linker.get("metrics", {})}
    return writer.commit(kind, encoder=encoder, node2vec=node2vec, linker=linker, metrics=metrics, summary=summary)


def _is_int(text: str) -> bool:
    try:
        return float(text).is_integer()
    except ValueError:
        return False


def _check_encoder_choice(previous: Run | None, options: IngestOptions, encoder: Encoder | None) -> None:
    """One database, one image space: refuse to mix encoders across ingests."""
    if not previous or not previous.encoder:
        return
    recorded = previous.encoder
    if encoder is not None:
        if encoder.id != recorded.get("id"):
            raise CatalogError(
                f"this database was encoded with {recorded.get('id')}; the encoder given is {encoder.id} "
                "(use the same encoder, or a new --db for a different one)"
            )
        return
    if recorded.get("weights") == "custom":
        raise CatalogError(
            f"this database was encoded with a custom encoder ({recorded.get('id')}); pass it to ingest more photos"
        )
    wanted = {
        "weights": weights_identity(options.weights or "imagenet"),
        "seed": options.seed,
        "image_size": options.image_size,
        "precision": options.precision,
    }
    recorded = {**recorded, "precision": precision_of(recorded)}
    differs = [name for name, value in wanted.items() if recorded.get(name) != value]
    if differs:
        mine = ", ".join(f"{name}={wanted[name]}" for name in differs)
        theirs = ", ".join(f"{name}={recorded.get(name)}" for name in differs)
        raise CatalogError(
            f"this database was encoded with {theirs}; this ingest asks for {mine} "
            "(use the same options, or a new --db for a different encoder)"
        )


# -- what changed -------------------------------------------------------------------------------


@dataclass
class Change:
    # Sorted ids. An array, not a set: a first ingest adds every product (a set of 10M ints is ~0.6 GB).
    added: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    attributes_changed: set[int] = field(default_factory=set)  # their graph neighbourhood moved
    name_changed: set[int] = field(default_factory=set)  # only the display name changed
    photo_changed: set[int] = field(default_factory=set)  # re-encoded (existing products)
    removed: set[int] = field(default_factory=set)

    def any(self) -> bool:
        return bool(
            len(self.added) or self.attributes_changed or self.name_changed or self.photo_changed or self.removed
        )

    def is_added(self, product_id: int) -> bool:
        at = int(np.searchsorted(self.added, product_id))
        return at < len(self.added) and int(self.added[at]) == product_id

    def changed(self) -> set[int]:
        return {i for i in self.attributes_changed | self.name_changed | self.photo_changed if not self.is_added(i)}

    def with_added(self, ids: set[int]) -> np.ndarray:
        """The added ids and these, as one array (for `isin`)."""
        return np.concatenate([self.added, np.fromiter(ids, np.int64, len(ids))])

    def touched_index(self, state: Products) -> np.ndarray:
        return np.flatnonzero(state.frame["id"].isin(self.with_added(self.changed())).to_numpy())

    def summary(self, state, encoded, rejects, problems, mode) -> dict:
        return {
            "products": len(state.frame),
            "added": len(self.added),
            "changed": len(self.changed()),
            "removed": len(self.removed),
            "unchanged": len(state.frame) - len(self.added) - len(self.changed()),
            "encoded": encoded,
            "rejected_rows": len(rejects),
            "image_problems": len(problems),
            "mode": mode,
        }


def _apply_rows(state: Products, rows: pd.DataFrame, prune: bool, protected: set[int]) -> tuple[Products, Change]:
    """The catalog after this CSV: stored products updated by its rows (the CSV wins), in place.

    Rows are hashed a chunk at a time and compared as arrays; nothing is copied per product but
    the rows that change (a pruned catalog is the one exception: it takes the kept rows once).
    New products are appended in CSV order, after the stored ones in table order: no stage
    depends on the order, and sorting would copy every vector.
    """
    change = Change()
    ids = rows["id"].to_numpy(np.int64)
    hashes = np.empty(len(rows), object)
    size = 65536  # rows hashed at a time: their values as Python strings exist only for one chunk
    for start in range(0, len(rows), size):
        chunk = [rows[column].iloc[start : start + size].to_numpy(dtype=object) for column in STYLE_COLUMNS]
        hashes[start : start + size] = [row_hash(dict(zip(STYLE_COLUMNS, values))) for values in zip(*chunk)]
    where = state.positions(ids)
    known = where >= 0
    stored_hash = state.frame["row_hash"].to_numpy(dtype=object)[where[known]]
    differs = np.flatnonzero(known)[stored_hash != hashes[known]]
    if differs.size:
        targets = where[differs]
        old = state.frame[list(ATTRIBUTE_COLUMNS)].iloc[targets].astype(str).to_numpy()
        new = rows[list(ATTRIBUTE_COLUMNS)].iloc[differs].astype(str).to_numpy()
        moved = (old != new).any(axis=1)
        change.attributes_changed.update(int(i) for i in ids[differs[moved]])
        change.name_changed.update(int(i) for i in ids[differs[~moved]])
        for column in STYLE_COLUMNS:
            state.frame.loc[targets, column] = rows[column].iloc[differs].to_numpy(dtype=object)
        state.frame.loc[targets, "row_hash"] = hashes[differs]
    if prune:
        keep = set(ids.tolist()) | protected
        change.removed = {int(i) for i in state.frame["id"] if int(i) not in keep}
    added = np.flatnonzero(~known)
    if added.size:
        change.added = np.sort(ids[added])
        additions = rows.iloc[added][["id", *STYLE_COLUMNS]].reset_index(drop=True)
        additions["id"] = additions["id"].astype("int64")
        additions["row_hash"] = hashes[added]
        for name in HELD_COLUMNS:
            if name not in additions:
                additions[name] = _default(name)
        additions["node_source"] = "inferred"
        state.extend(additions[HELD_COLUMNS])
    if change.removed:
        state = state.take(np.flatnonzero(~state.frame["id"].isin(change.removed).to_numpy()))
    return state, change


def _default(name: str):
    kind = PRODUCTS_SCHEMA.field(name).type
    if kind == pa.bool_():
        return False
    if kind == pa.int64():
        return 0
    return ""


# -- photos ------------------------------------------------------------------------------------


def _encode_photos(
    writer: Writer, state: Products, change: Change, csv_ids, images_dir, options, reporter, encoder=None
):
    """Encode the photos of CSV products that are new or whose bytes changed; report the missing.

    `encoder`: the one given to the ingest, else the Keras encoder of the options, built only here,
    once a photo needs encoding (TensorFlow is imported then). Thumbnails go to the photos table as
    they are made (by this process, or by the Ray workers), never to the ingest's memory.
    """
    store = writer.store
    frame = state.frame
    on_ray = options.engine == "ray"
    # With Ray the workers hash the photos as they read them: the driver only lists and stats.
    problems, to_encode, refs = _photos_to_encode(state, csv_ids, images_dir, reporter, hash_here=not on_ray)
    position = dict(zip(to_encode, state.positions(np.fromiter(to_encode, np.int64, len(to_encode))).tolist()))
    previous = store.run
    encoder_record = dict(previous.encoder) if previous and previous.encoder else {}
    if not to_encode:
        return problems, encoder_record, 0

    if encoder is None:
        encoder, encoder_record = _database_encoder(store, encoder_record, options)
    else:  # the given encoder encodes, at its own precision (a Keras encoder: f32)
        own = replace(options, precision=getattr(encoder, "precision", "f32"))
        encoder_record = _encoder_record(store, encoder, own, encoder_record)
        if encoder_record.get("precision", own.precision) != own.precision:
            raise CatalogError(
                f"this database's photos are encoded in {encoder_record['precision']}; "
                f"the encoder given runs in {own.precision}"
            )
    photos = PhotoRows(writer)
    checkpoints = EncodeCheckpoints(store.storage, encoder_record["id"], photos)

    stored_rows = array("q")  # the rows whose photo this run stores, and their photos' hashes: set in
    stored_hashes: list[str] = []  # the frame after the loop (set_cells)

    def store_vector(product_id: int, vector: np.ndarray, features: np.ndarray, digest: str) -> None:
        n = position[product_id]
        state.vectors["image_vector"][n] = vector
        state.features[n] = features
        stored_rows.append(n)
        stored_hashes.append(digest)
        if not change.is_added(product_id):
            change.photo_changed.add(product_id)

    with reporter.stage("encoding photos", len(to_encode)) as progress:
        pending = []
        for product_id, digest in to_encode.items():
            cached = checkpoints.get(digest) if digest else None
            if cached is None:
                pending.append(product_id)
            else:
                store_vector(product_id, cached[0], cached[1], digest)
                progress(1)
        unchanged = failed = 0
        if on_ray:
            stored = frame["image_hash"].to_numpy(dtype=object)
            has_image = frame["has_image"].to_numpy(bool)
            items = [(i, refs[i], stored[position[i]] if has_image[position[i]] else "") for i in pending]
            results = _encode_on_ray(
                writer, images_dir, items, checkpoints.known(), encoder_record, options, progress, photos
            )
        else:
            results = _encode_here(encoder, images_dir, pending, options, progress)
        for product_id, vector, features, thumbnail, reason, digest in results:
            digest = digest or to_encode[product_id]
            if reason == UNCHANGED:  # a Ray worker read the stored bytes again
                unchanged += 1
                continue
            if reason == CHECKPOINTED:  # hashed by a Ray worker: an interrupted run encoded it
                store_vector(product_id, *checkpoints.get(digest), digest)
                continue
            if vector is None:
                problems.add(product_id, reason)
                failed += 1
                continue
            if thumbnail is not None:  # made here; a Ray worker has written its own and measured its features
                features = to_stored(photo_features(thumbnail))
                photos.add(digest, thumbnail)
            store_vector(product_id, vector, features, digest)
            checkpoints.add(digest, vector, features)
        checkpoints.flush()
    rows = np.frombuffer(stored_rows, np.int64)
    set_cells(frame, rows, image_hash=stored_hashes, has_image=True, encoder_id=encoder_record["id"])
    problems.sort()
    return problems, encoder_record, len(to_encode) - unchanged - failed  # photos whose vector is stored


def _photos_to_encode(
    state: Products, csv_ids: np.ndarray, images_dir: PhotoFolder | PhotoPrefix, reporter, hash_here: bool = True
) -> tuple[ImageProblems, dict[int, str], dict[int, str]]:
    """The CSV's products whose photo is new or changed (id -> sha256 of the file; "" when not
    `hash_here`: a photo whose size and mtime changed, hashed later where it is read), the missing
    photos, and where each photo to encode is (id -> path or key in `images_dir`).

    Records each found photo's location (absolute path or URI) and stat (size:mtime, or size:ETag)
    in the frame, so an unchanged file is not read again next time.
    """
    frame = state.frame
    rows = state.positions(csv_ids)
    held = rows >= 0
    ids, rows = np.asarray(csv_ids, np.int64)[held], rows[held]
    stored_photo = frame["has_image"].to_numpy(bool)
    problems = ImageProblems()
    missing = f"no image file {ImageProblems.ID_MARK}.jpg in {images_dir}"
    to_encode: dict[int, str] = {}
    refs: dict[int, str] = {}
    found = Found()
    with reporter.stage("checking photos", len(ids)) as progress:
        for start in range(0, len(ids), CHECK_ROWS):  # Python objects for a slice at a time, not 10M at once
            part = rows[start : start + CHECK_ROWS]
            stored = zip(frame["image_stat"].iloc[part].tolist(), frame["image_hash"].iloc[part].tolist())
            for product_id, n, (old_stat, old_hash) in zip(
                ids[start : start + CHECK_ROWS].tolist(), part.tolist(), stored
            ):
                ref = images_dir.find(product_id)
                if ref is None:
                    if not stored_photo[n]:
                        problems.add(product_id, missing)
                    continue  # a photo missing now but stored before: keep the stored one
                stat = images_dir.stat(ref)
                if stored_photo[n] and old_stat == stat:
                    continue  # same size and mtime (or ETag): the same bytes, without reading them
                found.add(n, images_dir.location(ref), stat)
                digest = images_dir.sha256(ref) if hash_here else ""
                if digest and stored_photo[n] and old_hash == digest:
                    continue
                to_encode[product_id], refs[product_id] = digest, ref
            progress(min(CHECK_ROWS, len(ids) - start))
    set_cells(frame, found.rows(), image_path=found.locations, image_stat=found.stats)
    return problems, to_encode, refs


CHECK_ROWS = 65536


class Found:
    """The rows whose photo file was found new or changed, with its location and stat."""

    def __init__(self) -> None:
        self._rows = array("q")
        self.locations: list[str] = []
        self.stats: list[str] = []

    def add(self, row: int, location: str, stat: str) -> None:
        self._rows.append(row)
        self.locations.append(location)
        self.stats.append(stat)

    def rows(self) -> np.ndarray:
        return np.frombuffer(self._rows, np.int64)


def _encode_here(encoder, images_dir, ids, options, progress):
    """(id, vector or None, None, thumbnail, reason): photos decoded in a thread pool, encoded in this
    process (the features are measured by the caller, on the thumbnail)."""
    loaded = load_images(images_dir, ids, size=encoder.image_size)
    thumbnails: dict[int, bytes] = {}
    failed: list[tuple[int, None, None, None, str, str]] = []

    def pixels():
        for product_id, image, reason in loaded:
            if image is None:
                failed.append((product_id, None, None, None, reason, ""))
                progress(1)
                continue
            thumbnails[product_id] = image.thumbnail
            yield product_id, image.pixels

    batch_size = options.batch_size or encoding_batch_size()
    # The encoder's own stream where it has one (the OpenVINO encoder keeps every core busy across
    # batches: catalog/models/runtime.py); the plain batch loop for any other encoder.
    stream = getattr(encoder, "encode_stream", None)
    batches = (
        stream(pixels(), batch_size=batch_size, progress=progress)
        if stream is not None
        else encode_stream(encoder, pixels(), batch_size=batch_size, progress=progress)
    )
    for batch_ids, batch_vectors in batches:
        yield from failed
        failed.clear()
        for product_id, vector in zip(batch_ids, batch_vectors):
            yield product_id, vector, None, thumbnails.pop(product_id), "", ""
    yield from failed


def _encode_on_ray(writer, images_dir, items, known, encoder_record, options, progress, photos):
    """The same results from a Ray Data pipeline: actors load this database's encoder from its record
    (the runtime model file on a CPU; the Keras encoder rebuilt from its head on a GPU); the workers
    write the thumbnails to the photos table's data files and measure the features themselves, so
    results carry no thumbnail, and `photos` receives the written files' metadata to commit."""
    store = writer.store
    from catalog.models.runtime import model_key
    from catalog.query.stored_models import model_id_of
    from ingest.ray_engine import EncoderSpec, RayOptions, encode_on_ray

    if not encoder_record.get("head_file"):
        raise CatalogError(
            "--engine ray rebuilds the Keras encoder on every worker; "
            "a custom encoder (Catalog(encoder=...)) runs with --engine local only"
        )
    spec = EncoderSpec(
        weights=options.weights,
        seed=options.seed,
        image_size=options.image_size,
        head=store.read_file(encoder_record["head_file"]),
        encoder_id=encoder_record["id"],
        model=store.read_file(key) if store.storage.has(key := model_key(model_id_of(encoder_record))) else None,
        model_id=model_id_of(encoder_record),
        precision=precision_of(encoder_record),
    )
    ray_options = RayOptions(
        address=options.ray_address, workers=options.ray_workers, batch_size=options.batch_size or RayOptions.batch_size
    )
    uri, storage_options = writer.photos_location()
    return encode_on_ray(
        items, spec, ray_options, progress, images_dir, (uri, storage_options, photos.add_fragments), known
    )


def _database_encoder(store: Store, recorded: dict, options: IngestOptions) -> tuple[Encoder | None, dict]:
    """The encoder the options (or the database's record) describe, and its record.

    On a CPU it is the OpenVINO model stored with the database (catalog/models/runtime.py): read
    without TensorFlow when the database has it already, else made from the Keras encoder, which
    is built only then. With a GPU visible to TensorFlow (or CATALOG_RUNTIME=keras) the Keras
    encoder itself encodes (f32 only). With --engine ray the workers encode: this process only
    makes sure the model file is stored, and returns no encoder.
    """
    from catalog.models.encoder import gpu_possible
    from catalog.models.runtime import keras_requested, model_key
    from catalog.query.stored_models import model_id_of, runtime_encoder, store_runtime_model

    on_ray = options.engine == "ray"
    keras_only = keras_requested(options.precision or "f32") or (not on_ray and gpu_possible())
    if recorded.get("head_file") and not keras_only and store.storage.has(model_key(model_id_of(recorded))):
        # _check_encoder_choice has matched the options to the record: no TensorFlow needed
        return (None if on_ray else runtime_encoder(store, recorded)), recorded
    from catalog.models.encoder import ImageEncoder, gpus_visible  # TensorFlow only when a photo needs encoding

    head = store.local_file(recorded["head_file"]) if recorded.get("head_file") else None
    keras = ImageEncoder(weights=options.weights, seed=options.seed, image_size=options.image_size, head_path=head)
    if not hasattr(keras, "export_runtime"):  # a stand-in with no runtime form encodes itself, in f32
        options = replace(options, precision="f32")
    record = _encoder_record(store, keras, options, recorded)
    if keras_only or (not on_ray and gpus_visible()) or not hasattr(keras, "export_runtime"):
        if record["precision"] != "f32":
            raise CatalogError(
                f"a GPU encodes with Keras in f32; this ingest asks for --precision {record['precision']}"
            )
        return keras, record
    if on_ray:
        store_runtime_model(store, record, keras=keras)
        return None, record
    return runtime_encoder(store, record, keras=keras), record


def _encoder_record(store: Store, encoder: Encoder, options: IngestOptions, recorded: dict) -> dict:
    """What the run records about the encoder, so a photo queried later lands in the same space.

    A Keras encoder (one that can save its head) is recorded with its weights, seed and head file,
    from which `catalog.query.stored_models.load_encoder` rebuilds it; any other encoder by its id and image
    size only (it must be passed in again to encode a photo).
    """
    precision = options.precision or "f32"
    model_id = _model_id(encoder)
    if recorded.get("model_id", recorded.get("id")) == model_id:
        return {"model_id": recorded.get("id"), "precision": "f32", **recorded}
    if not hasattr(encoder, "save_head") or not hasattr(encoder, "info"):
        return {
            "id": encoder.id,
            "weights": "custom",
            "weights_path": None,
            "seed": None,
            "image_size": encoder.image_size,
            "head_file": None,
        }
    head_file = f"models/head-{encoder.info.head_sha256[:16]}.weights.h5"
    if not store.storage.has(head_file):
        # Written whole or not at all: a kill mid-write must not leave a partial file that a later
        # ingest takes for the finished one (the name is content-addressed, so existing = done).
        store.storage.write_with(head_file, encoder.save_head)
    weights_path = options.weights if options.weights not in ("imagenet", "random") else None
    from catalog.models.runtime import precision_suffix

    return {
        # The vectors' id: the Keras model's (model_id) for f32, whose vectors OpenVINO's f32 matches;
        # another id for bf16, whose vectors differ.
        "id": model_id + precision_suffix(precision),
        "model_id": model_id,
        "precision": precision,
        "weights": encoder.info.weights,
        "weights_path": str(Path(weights_path).resolve()) if weights_path else None,
        "seed": encoder.info.seed,
        "image_size": encoder.info.image_size,
        "head_file": head_file,
    }


def _model_id(encoder: Encoder) -> str:
    """The id of an encoder's f32 model: `info.model_id` for the Keras encoder, else its id."""
    info = getattr(encoder, "info", None)
    return getattr(info, "model_id", None) or encoder.id


# -- graph space and linker ------------------------------------------------------------------------


def _train_spaces(store: Store, state: Products, options: IngestOptions, reporter, seconds):
    """Full training: node2vec over the whole catalog graph, then the linker on every photo."""
    frame = state.frame
    with reporter.stage("graph walks + word2vec", None) as progress:
        graph = catalog_graph(frame, options.node2vec)
        space = embed_graph(graph, options.node2vec, progress=progress)
    seconds["walks"], seconds["word2vec"] = space.walks_seconds, space.train_seconds
    # The graph's products are the frame's rows in order (the graph keeps them).
    state.vectors["node_vector"] = np.asarray(space.product_vectors, np.float32)
    attribute_keys = list(graph.attribute_keys)
    del space.product_vectors, graph
    frame["node_source"] = "walks"

    started = time.perf_counter()
    photos = np.flatnonzero(frame["has_image"].to_numpy(bool))
    state.reset_rec_vectors()
    linker_record: dict = {}
    if len(photos) >= 2:
        sample = linker_sample(photos, options.linker.seed)
        reads_features = options.linker.kind == "attributes" and options.linker.photo_features
        with reporter.stage("linker", options.linker.epochs) as progress:
            fit = train_linker(
                state.vectors["image_vector"][sample],
                state.vectors["node_vector"][sample],
                options.linker,
                progress,
                values=attribute_values(frame.iloc[sample]),
                features=state.features[sample] if reads_features else None,  # stored bytes: floats a slice at a time
                column_weights=options.ranking.linker_weights,
            )
        for start in range(0, len(photos), TRANSLATE_ROWS):  # every photo, a slice of inputs at a time
            part = photos[start : start + TRANSLATE_ROWS]
            features = from_stored(state.features[part]) if reads_features else None
            state.vectors["rec_vector"][part] = fit.linker.translate(state.vectors["image_vector"][part], features)
        linker_file = store.save_model("linker", fit.linker.to_bytes(), ".npz")
        linker_record = {
            **options.linker.to_dict(),
            "file": linker_file,
            "metrics": fit.metrics,
            # The ranking settings travel with the linker record: they weigh its classifiers (Rec's
            # order, its column weights) and every later run that keeps the linker carries them.
            "ranking": options.ranking.to_dict(),
            # Recorded with the run: which photos trained it (all, or a seeded sample of them).
            "sample": {"photos": int(len(photos)), "trained_on": int(len(sample)), "limit": linker_sample_limit()},
        }
    seconds["linker"] = time.perf_counter() - started

    attributes = attribute_rows(attribute_keys, attribute_degrees(frame), space.attribute_vectors, "walks")
    return attributes, linker_record, options.node2vec.to_dict()


def _place_incrementally(writer: Writer, state: Products, change: Change, previous: Run, seconds):
    """New/changed products placed in the existing spaces; the models stay as they are."""
    started = time.perf_counter()
    frame = state.frame
    moved = frame["id"].isin(change.with_added(change.attributes_changed)).to_numpy()
    known = (frame["node_source"] == "walks").to_numpy() & ~moved
    if not known.any():  # nothing walk-trained left to place against: fall back to every placed vector
        known = ~moved
    if moved.any() and known.any():
        state.vectors["node_vector"][moved] = place_products(
            frame[moved], frame[known], state.vectors["node_vector"][known]
        )
        frame.loc[moved, "node_source"] = "inferred"

    photos = frame["id"].isin(change.with_added(change.photo_changed)).to_numpy() & frame["has_image"].to_numpy(bool)
    if photos.any():
        linker = Linker.from_bytes(writer.store.read_file(previous.linker["file"]), previous.linker["file"])
        for part in np.array_split(np.flatnonzero(photos), max(1, int(photos.sum()) // TRANSLATE_ROWS + 1)):
            # Every photo here has its features (stored, or measured when encoded or read): no thumbnail needed.
            features = linker_features(linker, [None] * len(part), state.features[part])
            state.vectors["rec_vector"][part] = linker.translate(state.vectors["image_vector"][part], features)

    existing = writer.attributes.to_arrow().to_pandas()
    degrees = attribute_degrees(frame)
    existing["degree"] = existing["key"].map(degrees).fillna(0).astype("int64")
    new_keys = sorted(set(degrees) - set(existing["key"]))
    vectors = place_attributes(new_keys, frame, state.vectors["node_vector"])
    additions = attribute_rows(new_keys, degrees, vectors, "inferred")
    attributes = pd.concat([existing.drop(columns=["run"]), additions], ignore_index=True)
    attributes = attributes[attributes["degree"] > 0].reset_index(drop=True)
    attributes["vector"] = [np.asarray(v, np.float32) for v in attributes["vector"]]
    seconds["placement"] = time.perf_counter() - started
    return attributes, new_keys


def attribute_rows(keys: list[str], degrees: dict[str, int], vectors: np.ndarray, source: str) -> pd.DataFrame:
    """Rows of the attributes table: key, column, value, degree, vector, where the vector came from."""
    split = [split_key(key) for key in keys]
    return pd.DataFrame(
        {
            "key": keys,
            "column": [column for column, _ in split],
            "value": [value for _, value in split],
            "degree": [degrees.get(key, 0) for key in keys],
            "vector": list(np.asarray(vectors, dtype=np.float32)),
            "node_source": source,
        }
    )


def _inferred_share(state: Products | pd.Series) -> dict:
    """How many products hold placed (not walk-trained) node vectors; `state` or its node_source column."""
    sources = state if isinstance(state, pd.Series) else state.frame["node_source"]
    inferred = int((sources == "inferred").sum())
    share = inferred / max(len(sources), 1)
    return {
        "inferred": inferred,
        "inferred_share": round(share, 4),
        "suggest_rebuild": share > REBUILD_SUGGESTION_SHARE,
    }
