"""`Catalog`: the library's one entry point. The CLI and the web app are faces of it.

    >>> from catalog import Catalog
    >>> catalog = Catalog("db")                                       # doctest: +SKIP
    >>> catalog.ingest("demo/styles.csv", "demo/images", weights="random")  # doctest: +SKIP
    >>> catalog.similar(1163, k=3).ids                                # doctest: +SKIP

Every method returns a typed result (`catalog/results.py`) whose `to_dict()` is what the CLI's
`--json` prints. Nothing here imports TensorFlow or LanceDB at import time: LanceDB is opened on
the first read, TensorFlow only when a photo is encoded (`ingest`, or `query`/`infer` with `image=`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog.core.errors import CatalogError, NotFound
from catalog.core.spaces import SPACES
from catalog.models.encoder import Encoder
from catalog.results import (
    AttributeCount,
    AttributeCounts,
    CatalogInfo,
    History,
    Inference,
    PhotoResults,
    Product,
    ProductPage,
    SearchResults,
)

if TYPE_CHECKING:
    from catalog.evaluate.evaluation import Evaluation
    from catalog.store.database import Run, Store
    from ingest.pipeline import IngestReport, Reporter

SPACE_NAMES = SPACES  # what `similar(space=...)` takes besides "all" (all: the three, in the paper's order)
PathLike = str | os.PathLike[str]
# `plus`/`minus` of `query`: "green,shoes", ["green", "baseColour=Red:2"] or {"green": 2.0, "shoes": 1.0}
Terms = str | Sequence[str] | Mapping[str, float]


class Catalog:
    """A catalog database folder: read it, search it, update it.

    `Catalog(path)` opens lazily: nothing is read until the first call, and `ingest` creates the
    database if it is not there yet. `encoder` plugs in another image backbone (anything with
    `id`, `image_size` and `encode(pixels) -> vectors`, see `catalog.models.encoder.Encoder`); by default
    the database's own Keras ResNet50 encoder is built when a photo needs encoding.

        >>> catalog = Catalog("db")                     # doctest: +SKIP
        >>> catalog.info().products                     # doctest: +SKIP
        600
    """

    def __init__(
        self,
        path: PathLike | None = None,
        *,
        encoder: Encoder | None = None,
        memory: bool = False,
        follow: float | None = None,
        storage_options: Mapping[str, str] | None = None,
    ):
        """`path`: a folder, or `s3://bucket/prefix`, `gs://...`, `az://...`, with `storage_options`
        (LanceDB's keys: `aws_endpoint`, `allow_http`, `region`...; default: the standard environment
        variables), see docs/object-storage.md. `memory`: answer `similar`, `query` and `browse` from an in-memory copy of the committed
        products (`catalog/query/snapshot.py`; for a long-running reader such as `catalog serve`).
        `follow`: check at most every `follow` seconds whether another process committed a newer
        run, and move to it (each call still reads one consistent run)."""
        from catalog.store.database import default_db_path
        from catalog.store.storage import DbLocation, split_location

        where, options = split_location(path if path is not None else default_db_path(), dict(storage_options or {}))
        self.path = where  # a Path, or the URI of an object-store database
        self.storage_options = options
        # What Store and the write-side functions take: the location and its options as one value.
        self._location = DbLocation(where, options) if options else where
        self.encoder = encoder
        self.memory = memory
        self.follow = follow
        self._view: _View | None = None
        self._checked = 0.0  # time.monotonic() of the last look at the commit log
        self._opening = threading.Lock()
        self._encoding = threading.Lock()  # one photo encoded at a time: the model uses every core anyway
        self._built_encoder: Encoder | None = None

    def __repr__(self) -> str:
        return f"Catalog({str(self.path)!r})"

    @property
    def store(self) -> Store:
        """The committed state, opened on first use (one consistent view until the next write)."""
        return self._current().store

    @property
    def run(self) -> int:
        """The number of the committed run this handle reads."""
        return self.last_run.run

    @property
    def last_run(self) -> Run:
        """The record of the committed run this handle reads: when, what kind, which encoder."""
        return _committed(self._current().store)

    def refresh(self) -> None:
        """See what other processes committed since this handle first read."""
        self._view = None

    def _current(self) -> _View:
        """The (store, snapshot) pair of the run being read. Replaced as a whole, so a call that took
        it reads one run throughout.

        With `follow`, a background thread looks at the commit log at most every `follow` seconds
        and, when a newer run committed, opens it (and copies it into memory) while calls go on
        reading the previous run; the new pair is swapped in when it is ready.
        """
        view = self._view
        if view is None:
            with self._opening:
                if self._view is None:
                    self._view = self._open()
                    self._checked = time.monotonic()
                return self._view
        if self.follow is not None and time.monotonic() - self._checked >= self.follow and self._opening.acquire(False):
            self._checked = time.monotonic()
            threading.Thread(target=self._follow, args=(view,), name="catalog-follow", daemon=True).start()
        return view

    def _open(self) -> _View:
        from catalog.store.database import Store

        store = Store.open(self._location)
        snapshot = None
        if self.memory:
            from catalog.query.snapshot import Snapshot

            snapshot = Snapshot.load(store)
        return _View(store, snapshot)

    def _follow(self, view: _View) -> None:
        """Move to the newest committed run if it is not the one being read (holds `_opening`)."""
        try:
            if view.store.latest_run_number() != _committed(view.store).run and self._view is view:
                self._view = self._open()
        except Exception as error:  # a failed look (a writer mid-cleanup, a vanished file): keep reading, look again
            logging.getLogger("catalog").warning("could not look for a newer run in %s: %s", self.path, error)
        finally:
            self._checked = time.monotonic()
            self._opening.release()

    def ingest(
        self,
        csv: PathLike,
        images: PathLike,
        *,
        weights: str | None = None,
        seed: int | None = None,
        limit: int | None = None,
        image_size: int | None = None,
        batch_size: int | None = None,  # None: 16 on CPU, 64 when TensorFlow sees a GPU
        precision: str | None = None,  # f32 | bf16: how OpenVINO runs the encoder (catalog/models/runtime.py)
        walks: int | None = None,
        walk_length: int | None = None,
        p: float = 1.0,
        q: float = 1.0,
        linker: str | None = None,
        epochs: int | None = None,
        prune: bool = False,
        rebuild: bool = False,
        engine: str = "local",
        ray_address: str | None = None,
        ray_workers: int | None = None,
        ranking: Mapping[str, Any] | None = None,
        reporter: Reporter | None = None,
    ) -> IngestReport:
        """Read styles.csv and the photos in `images` (a folder, or an `s3://`/`gs://`/`az://` prefix)
        into the database, as one committed run.

        The first ingest trains everything; later ones are incremental. `weights`, `seed`,
        `image_size`, `linker` (kind) and `epochs` (of linker training, at most) default to what
        the database records (imagenet, 0, 256, cosine and 60 for a new one). `engine="ray"`
        decodes and encodes the photos on a Ray cluster (`ray_address`, default this machine's;
        `ray_workers` encoder actors): ingest/ray_engine.py, docs/scaling.md. `ranking`: changes to
        the recorded ranking settings (`catalog.core.ranking.RankingSettings.changed`, e.g.
        `{"arithmetic_band": 0.1}`; defaults: the values chosen on the demo catalogs, docs/quality.md).

            >>> report = Catalog("db").ingest("styles.csv", "images/", weights="random")  # doctest: +SKIP
            >>> report.summary["added"]                                                 # doctest: +SKIP
        """
        from ingest.graph_space import Node2VecParams
        from ingest.pipeline import IngestOptions, QuietReporter
        from ingest.pipeline import ingest as run_ingest

        node2vec = replace(Node2VecParams(), p=p, q=q, seed=seed or 0)
        if walks:
            node2vec = replace(node2vec, num_walks=walks)
        if walk_length:
            node2vec = replace(node2vec, walk_length=walk_length)
        options = IngestOptions(
            weights=weights,
            seed=seed,
            limit=limit,
            image_size=image_size,
            batch_size=batch_size,
            precision=precision,
            node2vec=node2vec,
            linker_kind=linker,
            linker_epochs=epochs,
            prune=prune,
            rebuild=rebuild,
            engine=engine,
            ray_address=ray_address,
            ray_workers=ray_workers,
            ranking=dict(ranking or {}),
        )
        report = run_ingest(
            self._location, Path(csv), _location_of(images), options, reporter or QuietReporter(), encoder=self.encoder
        )
        self.refresh()
        return report

    def rebuild(
        self,
        *,
        linker: str | None = None,
        walks: int | None = None,
        ranking: Mapping[str, Any] | None = None,
        reporter: Reporter | None = None,
    ) -> IngestReport:
        """Retrain the graph space and the linker on the current catalog (stored image vectors are reused).
        `ranking`: changes to the recorded ranking settings, as for `ingest`.

        >>> Catalog("db").rebuild().summary["inferred"]   # doctest: +SKIP
        0
        """
        from ingest.pipeline import QuietReporter
        from ingest.pipeline import rebuild as run_rebuild

        report = run_rebuild(
            self._location,
            linker=linker,
            walks=walks,
            ranking=dict(ranking or {}),
            reporter=reporter or QuietReporter(),
        )
        self.refresh()
        return report

    def remove(self, ids: Iterable[int]) -> Run:
        """Remove products by id, as one run (`rollback` brings them back).

        >>> Catalog("db").remove([1163]).summary["removed"]   # doctest: +SKIP
        1
        """
        from ingest.updates import remove_products

        run = remove_products(self._location, [int(i) for i in ids])
        self.refresh()
        return run

    def rollback(self, run: int) -> Run:
        """Bring products, attributes and models back to run `run`, recorded as a new run.

        >>> Catalog("db").rollback(1).summary["rolled_back_to"]   # doctest: +SKIP
        1
        """
        from ingest.updates import rollback as run_rollback

        record = run_rollback(self._location, int(run))
        self.refresh()
        return record

    # -- reading -----------------------------------------------------------------------------

    def similar(self, id: int, k: int = 6, space: str = "rec", where: str | None = None) -> SearchResults:
        """The `k` products nearest product `id` in one space ("rec", "image", "graph") or "all".

        With "all", a space the product has no vector in (no photo: no image or rec vector) is
        left out rather than failing the call.

            >>> Catalog("db").similar(1163, k=3, space="graph").ids   # doctest: +SKIP
        """
        from catalog.query import search

        if space == "all":
            spaces: tuple[str, ...] = SPACE_NAMES
        elif space in SPACE_NAMES:
            spaces = (space,)
        else:
            raise CatalogError(f"unknown space {space!r}; spaces are {', '.join(SPACE_NAMES)}, all")
        view = self._current()
        reader = view.snapshot or search
        item, results = reader.similar(view.store, int(id), k, spaces, where=where, skip_missing=space == "all")
        query = search.Query(items=[item], where=where.strip() if where is not None else None)
        left_out = [name for name in spaces if name not in results]
        return SearchResults(query, results, f"product {id}", keyed=space == "all", left_out=left_out)

    def query(
        self,
        image: PathLike | bytes | None = None,
        ids: int | Sequence[int] = (),
        plus: Terms = (),
        minus: Terms = (),
        where: str | None = None,
        k: int = 6,
        weights: str | None = None,
        replace: bool = True,
        band: bool = True,
    ) -> SearchResults:
        """Search the graph space from a photo or from products, with attribute arithmetic.

        `plus`/`minus`: words (`"green,shoes"`, `["green", "shoes"]`), `column=value` keys, an
        optional `:weight` suffix, or a `{word: weight}` mapping. Every vector is L2-normalised
        before it is weighted and summed (README, "query"). With `replace` (the default) an added
        value replaces the item's own value of its column, which is subtracted unless `minus`
        already names a value of that column (`search.replacing`). With `band` (the default) and
        arithmetic terms, the results within `search.ARITHMETIC_BAND` of the best query cosine are
        ordered by closeness to the item's own vector (`search.band_order`; docs/quality.md).

            >>> Catalog("db").query(ids=[1163], plus="green,shoes", minus="topwear", k=3).ids  # doctest: +SKIP
        """
        from catalog.query import search

        product_ids = [int(ids)] if isinstance(ids, int) else [int(i) for i in ids]
        if (image is None) == (not product_ids):
            raise CatalogError("give either an image or one or more product ids")
        view = self._current()
        store = view.store
        attributes = view.snapshot.attributes if view.snapshot is not None else search.load_attributes(store)
        terms = search.parse_terms(_term_list(plus), _term_list(minus), attributes)
        mask = None
        if where is not None and view.snapshot is not None:
            # From memory, a filter is checked once, when its mask is first made.
            mask = view.snapshot.where_mask(store, where)
            where = where.strip()
        elif where is not None:
            where = search.check_where(store, where)
        preferences = None  # without arithmetic, the classifiers order Rec's results (search.rec_preferences)
        settings = view.snapshot.settings if view.snapshot is not None else search.settings_of(store)
        values: dict[str, dict[str, float]] | None = None  # the item's values, which arithmetic keeps
        if image is not None:
            encoded = self._encode(store, image, weights)
            tie, base = encoded.image_vector, encoded.translated  # the photo's image vector orders ties
            items = []
            values = encoded.probabilities  # what arithmetic keeps of a photo: the classifiers' reading
            if not terms and encoded.probabilities is not None:
                preferences = search.rec_preferences(encoded.probabilities, settings)
        elif view.snapshot is not None:
            base, items = view.snapshot.base_vector(product_ids)
            tie = view.snapshot.photo_vector(product_ids)
            preferences = view.snapshot.preferences(store, product_ids) if not terms else None
        else:
            base, items = search.base_vector(store, product_ids)
            tie = search.photo_vector(store, product_ids)  # orders products that tie (docs/graph-space.md)
            preferences = search.stored_preferences(store, product_ids) if not terms else None
        if replace:
            terms = search.replacing(base, terms, attributes, items)
        vector = search.compose(base, terms)
        item = base if band and terms else None
        # Arithmetic's order: the terms' values carried, then the item's other values kept (the
        # catalog's values for --id, the classifiers' probabilities for a photo), docs/quality.md.
        if image is None:
            values = search.catalog_values(items)
        target = search.query_target(terms, values, settings) if item is not None else None
        if view.snapshot is not None:
            results = {
                "rec": view.snapshot.nearest(
                    vector,
                    "node_vector",
                    k,
                    tuple(product_ids),
                    mask,
                    tie,
                    item_vector=item,
                    preferences=preferences,
                    target=target,
                )
            }
        else:
            results = {
                "rec": search.nearest(
                    store,
                    vector,
                    "node_vector",
                    k,
                    exclude=tuple(product_ids),
                    where=where,
                    tie_vector=tie,
                    item_vector=item,
                    preferences=preferences,
                    settings=settings,
                    target=target,
                )
            }
        query = search.Query(items=items, image=_image_label(image), terms=terms, where=where)
        return SearchResults(query, results, query.label())

    def infer(
        self, image: PathLike | bytes | None = None, id: int | None = None, top: int = 3, weights: str | None = None
    ) -> Inference:
        """The likely attribute values of a photo (or of a product's stored photo), `top` per column.

        >>> Catalog("db").infer(id=1163, top=1).best("articleType")   # doctest: +SKIP
        """
        from catalog.core.columns import DISPLAY_COLUMNS
        from catalog.query import search

        if (image is None) == (id is None):
            raise CatalogError("give exactly one of an image or a product id")
        from catalog.query.stored_models import load_linker, photo_probabilities

        store = self.store
        linker = load_linker(store)  # read once: it translates the photo and reads its attributes
        if image is not None:
            encoded, items = self._encode(store, image, weights, linker), []
            probabilities, vector = encoded.probabilities, encoded.translated
        else:
            columns = [*DISPLAY_COLUMNS, "has_image", "image_vector", "rec_vector", *search.preference_columns(store)]
            product = search.get_product(store, int(id), list(dict.fromkeys(columns)))  # type: ignore[arg-type]
            if not product["has_image"]:
                raise CatalogError(f"product {id} has no photo to infer attributes from")
            stored = search.unpack([product.get(search.FEATURES_COLUMN)])
            thumbnails = search.thumbnails_to_measure(store, [product], stored)
            probabilities = photo_probabilities(linker, product["image_vector"], thumbnails, stored)
            vector = product["rec_vector"]
            items = [{c: product[c] for c in DISPLAY_COLUMNS}]
        inferred = search.infer_photo(probabilities, vector, search.load_attributes(store), top)
        query = search.Query(items=items, image=_image_label(image))
        return Inference(query, inferred, f"attributes of {query.label()}")

    def product(self, id: int) -> Product:
        """One product: its catalog values, photo, node-vector source, run, and attribute degrees.

        >>> Catalog("db").product(1163).values["articleType"]   # doctest: +SKIP
        """
        from catalog.core.columns import DISPLAY_COLUMNS
        from catalog.query.browse import product_details

        view = self._current()
        if view.snapshot is not None:
            details = view.snapshot.product_details(int(id))
        else:
            details = product_details(view.store, int(id))
        return Product(
            id=int(details["id"]),
            values={c: details[c] for c in DISPLAY_COLUMNS if c != "id"},
            has_image=bool(details["has_image"]),
            image_path=details["image_path"] or None,
            node_source=details["node_source"],
            run=int(details["run"]),
            encoder_id=details["encoder_id"] or None,
            shared_with=details["shared_with"],
        )

    def attributes(self, column: str | None = None) -> AttributeCounts:
        """Attribute values with product counts (one column: short names like "colour" work).

        >>> Catalog("db").attributes("colour").to_pandas().head()   # doctest: +SKIP
        """
        from catalog.query.browse import attribute_counts
        from catalog.query.search import resolve_column

        # Counted once per committed run (a run never changes), then kept with it: a server's every
        # page asks for the pickers' counts.
        view = self._current()
        key = resolve_column(column) if column else None
        if key not in view.counts:
            view.counts[key] = attribute_counts(view.store, key)
        return AttributeCounts(AttributeCount(r["column"], r["value"], r["products"]) for r in view.counts[key])

    def info(self) -> CatalogInfo:
        """Counts, encoder, node2vec and linker parameters and metrics, versions, disk use (all as of
        the committed run this handle reads, measured once per run).

        >>> Catalog("db").info().with_image   # doctest: +SKIP
        """
        from catalog.query.browse import catalog_info

        # Once per run: disk use walks the whole folder (or lists the whole prefix on an object store).
        view = self._current()
        if view.info is None:
            view.info = catalog_info(view.store)
        return CatalogInfo(**view.info)

    def history(self) -> History:
        """The runs (ingest, remove, rebuild, rollback), oldest first.

        >>> [run.kind for run in Catalog("db").history()]   # doctest: +SKIP
        ['ingest']
        """
        return History(self.store.runs())  # read afresh: the commit log may have grown since this run

    def answers_from_memory(self, where: str | None = None) -> bool:
        """Whether `similar`, `query` from products, `product` and `browse` (with this `where`
        filter) are answered now from the in-memory copy without reading the database: a server
        runs such a call on its event loop, and anything that reads files in a worker thread.
        False before the first run is opened, without `memory`, and for a filter not yet evaluated."""
        view = self._view
        if view is None or view.snapshot is None:
            return False
        return where is None or view.snapshot.has_mask(where)

    @property
    def loaded_at(self) -> float:
        """When the committed run this handle reads was opened (and copied into memory), as a Unix time."""
        return self._current().loaded_at

    def evaluate(
        self,
        *,
        holdout: float = 0.1,
        seed: int = 0,
        k: int = 10,
        linker: str | None = None,
        walks: int | None = None,
        walk_length: int | None = None,
        p: float | None = None,
        q: float | None = None,
        epochs: int | None = None,
        trials: int = 200,
        replace: bool = True,
        band: bool = True,
        rec_order: bool = True,
        photo_features: bool | None = None,
        calibrate: bool | None = None,
        ranking: Mapping[str, Any] | None = None,
        save: bool = True,
        reporter: Reporter | None = None,
    ) -> Evaluation:
        """Hold out photos, rebuild graph space and linker without them, and measure (see README, "eval").

        With `save`, the document is also written to `<db>/eval.json` for `catalog plot eval`
        (a read-only database still gets its result). The same seed gives the same figures.
        `rec_order=False` measures Rec in plain cosine order; `photo_features=False` an `attributes`
        linker that reads the image vectors alone (both the defaults before; docs/quality.md);
        `calibrate` turns the `attributes` linker's per-column temperatures on or off (default: as recorded).
        `ranking`: changes to the recorded ranking settings to measure (`RankingSettings.changed`),
        without changing the database; the document's `settings.ranking` records what was measured.

            >>> Catalog("db").evaluate(walks=10, trials=20).ndcg["rec"]   # doctest: +SKIP
        """
        from catalog.evaluate.evaluation import EvalOptions, evaluate, save_evaluation

        options = EvalOptions(
            k=k,
            holdout=holdout,
            seed=seed,
            arithmetic_trials=trials,
            replace_own=replace,
            band=band,
            rec_order=rec_order,
            node2vec_overrides={"num_walks": walks, "walk_length": walk_length, "p": p, "q": q},
            linker_overrides={
                "kind": linker,
                "epochs": epochs,
                "photo_features": photo_features,
                "calibrate": calibrate,
            },
            ranking_overrides=dict(ranking or {}),
        )
        result = evaluate(self.store, options, reporter)
        if save:
            try:
                result.saved_to = save_evaluation(self.store, result.to_dict())
            except (OSError, CatalogError) as error:
                result.save_error = str(getattr(error, "strerror", None) or error)
        return result

    # -- helpers -----------------------------------------------------------------------------

    def _encode(self, store: Store, image: PathLike | bytes, weights: str | None, linker: Any = None) -> Any:
        """The `EncodedPhoto` of a photo file or its bytes, with the database's encoder,
        built once per handle (TensorFlow and the model load on the first photo only); `linker`:
        the database's linker when the caller has read it already."""
        from catalog.query.stored_models import check_photo, database_encoder, encode_photo

        check_photo(image if isinstance(image, bytes) else Path(image))  # a typo fails before the model loads
        with self._encoding:
            encoder = self.encoder
            if encoder is None and weights is None:
                recorded = (_committed(store).encoder or {}).get("id")
                if self._built_encoder is None or self._built_encoder.id != recorded:
                    self._built_encoder = None
                    self._built_encoder = database_encoder(store)
                encoder = self._built_encoder
            photo = image if isinstance(image, bytes) else Path(image)
            return encode_photo(store, photo, weights, encoder=encoder, linker=linker)

    # -- for long-running readers (catalog serve) ------------------------------------------------

    def photo(self, image: PathLike | bytes, k: int = 6, top: int = 3) -> PhotoResults:
        """A photo's nearest products in the graph space (Rec) and among the photos (image space),
        and its likely attribute values, from one encoding of it.

            >>> found = Catalog("db").photo("shirt.jpg")   # doctest: +SKIP
            >>> found.results["rec"][0].id, found.inferred["articleType"][0]   # doctest: +SKIP
        """
        from catalog.query import search
        from catalog.query.stored_models import load_linker

        view = self._current()
        linker = load_linker(view.store)  # read once: it translates the photo and reads its attributes
        image_vector, translated, probabilities = self._encode(view.store, image, None, linker)
        settings = view.snapshot.settings if view.snapshot is not None else search.settings_of(view.store)
        preferences = search.rec_preferences(probabilities, settings) if probabilities is not None else None
        reader = view.snapshot
        if reader is not None:
            results = {
                "image": reader.nearest(image_vector, "image_vector", k),
                "rec": reader.nearest(translated, "node_vector", k, tie_vector=image_vector, preferences=preferences),
            }
        else:
            results = {
                "image": search.nearest(view.store, image_vector, "image_vector", k),
                "rec": search.nearest(
                    view.store, translated, "node_vector", k, tie_vector=image_vector, preferences=preferences
                ),
            }
        attributes = search.load_attributes(view.store)
        inferred = search.infer_photo(probabilities, translated, attributes, top)
        return PhotoResults(search.Query(image=_image_label(image)), results, inferred)

    def browse(
        self, text: str = "", filters: Mapping[str, str] | None = None, page: int = 1, per_page: int = 24
    ) -> ProductPage:
        """Products whose name holds every word of `text` (or whose id is `text`), whose attribute
        columns equal `filters` (short names like "colour" work), in id order, a page at a time.

            >>> Catalog("db").browse("black", {"gender": "Women"}, page=2).total   # doctest: +SKIP
        """
        from catalog.query.search import resolve_column

        columns = {resolve_column(column): value for column, value in (filters or {}).items()}
        view = self._current()
        if view.snapshot is not None:
            return view.snapshot.browse(text, columns, page, per_page)
        from catalog.query.browse import browse_products

        return browse_products(view.store, text, columns, page, per_page)

    def thumbnail(self, id: int) -> bytes | None:
        """The stored JPEG thumbnail of a product (None without a photo); an unknown id is NotFound."""
        from catalog.query.search import thumbnail

        return thumbnail(self.store, int(id))

    def thumbnails(self, ids: Iterable[int]) -> dict[int, bytes]:
        """The stored JPEG thumbnails of these products, by id (products without a photo are left out)."""
        from catalog.query.search import thumbnails

        return thumbnails(self.store, [int(i) for i in ids])

    def last_evaluation(self) -> dict | None:
        """The document of the last `catalog eval` run on this database, or None."""
        from catalog.evaluate.evaluation import load_evaluation

        try:
            return load_evaluation(self.store)
        except CatalogError:
            return None

    def plot_spaces(
        self,
        out: PathLike,
        *,
        color: str = "masterCategory",
        sample: int = 3000,
        seed: int = 0,
        reporter: Reporter | None = None,
    ) -> Path:
        """The paper's Figure 4 (t-SNE of the image and graph spaces, one colour per `color` value) as a PNG.

        >>> Catalog("db").plot_spaces("spaces.png", color="articleType", sample=500)  # doctest: +SKIP
        """
        from catalog.evaluate.plot import plot_spaces
        from ingest.pipeline import QuietReporter

        with (reporter or QuietReporter()).stage("t-SNE (image space, graph space)", 2) as progress:
            return plot_spaces(self.store, Path(out), color=color, sample=sample, seed=seed, progress=progress)

    def plot_evaluation(self, out: PathLike) -> Path:
        """The last `evaluate` run as bars (precision per column and space, nDCG) in a PNG.

        >>> Catalog("db").plot_evaluation("eval.png")  # doctest: +SKIP
        """
        from catalog.evaluate.evaluation import load_evaluation
        from catalog.evaluate.plot import plot_eval

        # From the folder, not an opened database: eval.json is all `plot eval` needs.
        return plot_eval(load_evaluation(self._location), Path(out))

    def evaluation_plot(self) -> bytes:
        """The last evaluation drawn as `catalog plot eval` draws it, as PNG bytes."""
        from catalog.evaluate.plot import eval_png

        document = self.last_evaluation()
        if document is None:
            raise NotFound(f"no eval run saved in {self.path} (run `catalog eval` first)")
        return eval_png(document)


class _View:
    """One committed run as read by a `Catalog`: its store, and its in-memory products if any; and
    what is measured once per run (info, attribute counts), kept with it."""

    __slots__ = ("store", "snapshot", "loaded_at", "info", "counts")

    def __init__(self, store: Store, snapshot):
        self.store, self.snapshot = store, snapshot
        self.loaded_at = time.time()
        self.info: dict | None = None
        self.counts: dict[str | None, list] = {}


def _image_label(image) -> str | None:
    """How a query names its photo: the path, or "upload" for bytes."""
    if image is None:
        return None
    return "upload" if isinstance(image, bytes) else str(image)


def _location_of(where: PathLike) -> Path | str:
    """A folder as a Path; an object-store URI (`s3://...`) kept as a string."""
    from catalog.store.storage import db_location

    return db_location(where if isinstance(where, Path) else os.fspath(where))


def _committed(store: Store) -> Run:
    """The run a store reads (Store.open refuses a database without one)."""
    run = store.run
    assert run is not None
    return run


def _term_list(terms: Terms) -> list[str]:
    """Terms in the form `search.parse_terms` reads: comma lists of `word[:weight]`."""
    if isinstance(terms, str):
        return [terms]
    if isinstance(terms, Mapping):
        return [f"{word}:{float(weight):g}" for word, weight in terms.items()]
    return [str(t) for t in terms]
