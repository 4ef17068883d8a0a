"""An in-memory copy of one committed run's products, for a long-running reader (`catalog serve`).

Why: one LanceDB vector query over the 44k node vectors costs ~12 ms of CPU, so a server making
one per request tops out near 90 requests/s on 2 cores. The same cosine top-k over the same
vectors held as a unit-normalised numpy matrix costs ~1 ms (benchmarks/README.md, "serve").
LanceDB stays the store of record: a snapshot is read from the versions the newest run record
names, is never written, and is replaced when a newer run commits (see `catalog.live`).

What it holds: the display columns (for result rows, browsing and paging), `has_image`, and the
three vectors, unit-normalised (cosine is all any search here needs); for Rec's order, the image
vectors also as stored and the stored photo features (what the linker's classifiers read). Not
the thumbnails (read from LanceDB per request, a few per page) nor the hashes. At a million
products that is ~3.5 GB (BYTES_PER_PRODUCT), where `catalog serve` may choose LanceDB's indexed
search instead (its --memory-limit).

Results match `catalog.query.search.nearest` (exact cosine, the same rounding); a `--where` filter is
evaluated by LanceDB once per (run, filter), and the matching rows are kept as a mask.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog.core.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS, NAME_COLUMN, attribute_key
from catalog.core.errors import CatalogError, NotFound
from catalog.core.photo_features import COLUMN as FEATURES_COLUMN
from catalog.core.photo_features import FEATURE_DIM, from_stored, stored_features
from catalog.core.ranking import (
    ArithmeticTarget,
    RankingSettings,
    arithmetic_order,
    band_order,
    coded_preferences,
    preference_order,
    rec_preferences,
    target_scores,
    top_k,
    top_with_ties,
)
from catalog.core.vectors import photo_closeness, unit
from catalog.query.browse import DETAIL_COLUMNS
from catalog.query.search import (
    NO_PHOTO,
    SPACES,
    Attribute,
    Result,
    check_where,
    load_attributes,
    settings_of,
    stored_preferences,
)
from catalog.results import ProductPage

VECTOR_COLUMNS = ("image_vector", "node_vector", "rec_vector")
# Resident memory of a loaded snapshot per product, its display rows built (`warm`), measured with
# `python -m benchmarks.serve --catalog DB --memory-limit 100000` on a 1M-product database: the
# server's RSS 3,994 MB against 473 MB with --no-memory (benchmarks/README.md, "A 10M-product
# catalog"). A product without a photo costs about as much: every row has its slot in the image
# vector and feature matrices. A server uses it to decide, before loading, whether the copy fits
# (catalog/cli/serve.py).
BYTES_PER_PRODUCT = 3600


def estimated_bytes(products: int) -> int:
    """What a snapshot of `products` products holds once it has answered."""
    return products * BYTES_PER_PRODUCT


FILTER_CACHE = 64  # distinct --where filters whose row masks are kept per snapshot


class Snapshot:
    """The products of one committed run, in memory. Immutable once loaded; safe across threads."""

    def __init__(
        self,
        run: int,
        table: pa.Table,
        vectors: dict[str, np.ndarray],
        source: str = "the database",
        degrees: dict[str, int] | None = None,
        features: np.ndarray | None = None,
    ):
        self.run = run
        self.settings = RankingSettings()  # the run's ranking settings (`load` reads them)
        self.source = source
        self.degrees = degrees or {}  # attribute key -> products with that value
        self.attributes: list[Attribute] = []  # the attribute values with their vectors, for arithmetic
        order = np.argsort(table.column("id").to_numpy(), kind="stable")
        self.table = table.take(pa.array(order))  # sorted by id: browsing pages in id order
        self.ids = self.table.column("id").to_numpy()
        self.has_image = self.table.column("has_image").to_numpy(zero_copy_only=False)
        self._no_image = np.flatnonzero(~self.has_image)
        self.vectors = {name: _unit_rows(matrix[order]) for name, matrix in vectors.items()}
        # What the linker's classifiers read for Rec's order: the image vectors as stored (not
        # unit-normalised: rebuilding them from unit vector x length differs in the last bits, which
        # reordered near-equal candidates against LanceDB's answer) and the stored photo features.
        self.stored_images = np.ascontiguousarray(vectors["image_vector"][order], np.float32)
        self.features = features[order] if features is not None else np.zeros((len(order), FEATURE_DIM), np.uint8)
        self._rows: list[dict] | None = None
        self._masks: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._linker = None  # read on the first Rec query from a product's photo
        self._codes: dict[str, tuple[list, np.ndarray]] = {}  # column -> (values, row codes), for Rec's order
        self._folded_names: np.ndarray | None = None

    @classmethod
    def load(cls, store) -> "Snapshot":
        """Read the committed run's products from LanceDB (a full scan, once per run)."""
        products = store.table("products")
        stored = [FEATURES_COLUMN] if FEATURES_COLUMN in products.schema.names else []
        # Only the columns it keeps: never the thumbnails (several KB a photo, read per request).
        table = products.search().select([*DISPLAY_COLUMNS, *DETAIL_COLUMNS, *VECTOR_COLUMNS, *stored]).to_arrow()
        features = stored_features(table)
        vectors = {}
        for name in VECTOR_COLUMNS:
            column = table.column(name).combine_chunks()
            width = column.type.list_size
            vectors[name] = column.flatten().to_numpy(zero_copy_only=False).reshape(-1, width).astype(np.float32)
        attributes = store.table("attributes").to_arrow().select(["key", "degree"]).to_pydict()
        degrees = dict(zip(attributes["key"], (int(d) for d in attributes["degree"])))
        table = table.drop_columns([*VECTOR_COLUMNS, *stored])
        snapshot = cls(store.run.run, table, vectors, str(store.path), degrees, features)
        snapshot.attributes = load_attributes(store)
        snapshot.settings = settings_of(store)
        snapshot.warm(store)
        return snapshot

    def __len__(self) -> int:
        return len(self.ids)

    # -- rows ---------------------------------------------------------------------------------

    @property
    def rows(self) -> list[dict]:
        """Display rows as dicts, built once (a result list then costs a list lookup per hit)."""
        if self._rows is None:
            self._rows = self.table.select(list(DISPLAY_COLUMNS)).to_pylist()
        return self._rows

    def position(self, product_id: int) -> int:
        """The row holding `product_id`, or a CatalogError naming it."""
        at = int(np.searchsorted(self.ids, product_id))
        if at >= len(self.ids) or self.ids[at] != product_id:
            raise NotFound(f"no product with id {product_id} in {self.source}")
        return at

    def row(self, product_id: int) -> dict:
        return dict(self.rows[self.position(product_id)])

    def product_details(self, product_id: int) -> dict:
        """`catalog.query.browse.product_details`, from memory: the row, its details and attribute degrees."""
        at = self.position(product_id)
        row = {**self.rows[at], **{c: self.table.column(c)[at].as_py() for c in DETAIL_COLUMNS}}
        keys = {column: attribute_key(column, row[column]) for column in ATTRIBUTE_COLUMNS if row[column]}
        return {**row, "shared_with": {c: self.degrees[k] for c, k in keys.items() if k in self.degrees}}

    def vector(self, product_id: int, column: str) -> np.ndarray:
        return self.vectors[column][self.position(product_id)]

    # -- search -------------------------------------------------------------------------------

    def nearest(
        self,
        vector: np.ndarray,
        column: str,
        k: int,
        exclude: tuple[int, ...] = (),
        mask: np.ndarray | None = None,
        tie_vector: np.ndarray | None = None,
        item_vector: np.ndarray | None = None,
        preferences: dict[str, dict[str, float]] | None = None,
        settings: RankingSettings | None = None,
        target: ArithmeticTarget | None = None,
    ) -> list[Result]:
        """Cosine top-k over one vector column, as `catalog.query.search.nearest` computes it (ties
        included; with `item_vector`, arithmetic's band ordered by closeness to the item; with
        `preferences`, Rec's pool ordered by the classifiers; with `target` too, arithmetic's order).
        `settings`: the run's by default."""
        settings = settings or self.settings
        wanted = k
        if item_vector is not None:
            wanted = max(k, settings.arithmetic_pool)
        elif preferences is not None:
            wanted = max(k, settings.rec_pool)
        scores = self.vectors[column] @ unit(vector)
        # Rows that may not be returned get -inf (scores is a fresh array): cheaper than gathering the rest.
        if column == "image_vector":
            scores[self._no_image] = -np.inf  # products without a photo hold a zero image vector
        if mask is not None:
            scores[~mask] = -np.inf
        for product_id in exclude:
            at = int(np.searchsorted(self.ids, product_id))
            if at < len(self.ids) and self.ids[at] == product_id:
                scores[at] = -np.inf
        if tie_vector is not None and column != "image_vector":
            images, has_image = self.vectors["image_vector"], self.has_image

            def closeness(rows: np.ndarray) -> np.ndarray:
                return photo_closeness(images[rows], has_image[rows], tie_vector)

            rows, values = top_with_ties(scores, wanted, has_image, self.ids, closeness)
        else:
            rows, values = top_k(scores, wanted, overwrite=True)
        if item_vector is not None and len(rows):
            closeness = self.vectors[column][rows] @ unit(item_vector)
            if target is not None and settings.arithmetic_order == "values":

                def candidate_codes(column: str):
                    names, codes = self._value_codes(column)
                    return names, codes[rows]

                order = arithmetic_order(*target_scores(target, candidate_codes), closeness)[:k]
            else:
                order = band_order(values, closeness, settings.arithmetic_band)[:k]
            rows, values = rows[order], values[order]
        elif preferences is not None and len(rows):

            def coded(column: str):
                values, codes = self._value_codes(column)
                return values, codes[rows]

            order = preference_order(coded_preferences(preferences, coded))[:k]
            rows, values = rows[order], values[order]
        return [Result(int(self.ids[r]), round(float(v), 4), self.rows[r]) for r, v in zip(rows, values)]

    def _value_codes(self, column: str) -> tuple[list, np.ndarray]:
        """A column's distinct values and each row's index among them (-1 for null), made once."""
        with self._lock:
            if column not in self._codes:
                encoded = self.table.column(column).combine_chunks().dictionary_encode()
                codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                self._codes[column] = (encoded.dictionary.to_pylist(), codes)
            return self._codes[column]

    def photo_vector(self, product_ids: list[int]) -> np.ndarray:
        """`catalog.query.search.photo_vector` from memory: the mean unit image vector of those with a
        photo, or NO_PHOTO."""
        rows = [self.position(i) for i in product_ids]
        vectors = [self.vectors["image_vector"][r] for r in rows if self.has_image[r]]
        return np.mean(vectors, axis=0) if vectors else NO_PHOTO

    def similar(
        self,
        store,
        product_id: int,
        k: int = 6,
        spaces: tuple[str, ...] = ("rec",),
        where: str | None = None,
        skip_missing: bool = False,
    ) -> tuple[dict, dict[str, list[Result]]]:
        """`catalog.query.search.similar`, answered from memory (same results, same errors)."""
        mask = self.where_mask(store, where) if where is not None else None
        at = self.position(product_id)
        results = {}
        for space in spaces:
            query_column, searched_column = SPACES[space]
            if query_column in ("rec_vector", "image_vector") and not self.has_image[at]:
                if skip_missing:
                    continue
                raise CatalogError(f"product {product_id} has no image, so it has no {space} vector; try --space graph")
            tie = self.vectors["image_vector"][at] if self.has_image[at] else NO_PHOTO
            preferences = self.preferences(store, [product_id]) if space == "rec" else None
            results[space] = self.nearest(
                self.vectors[query_column][at], searched_column, k, (product_id,), mask, tie, preferences=preferences
            )
        return dict(self.rows[at]), results

    def preferences(self, store, product_ids: list[int]) -> dict[str, dict[str, float]] | None:
        """`catalog.query.search.stored_preferences`, from memory: the linker read once per snapshot, the
        image vectors as stored and the stored photo features. Rows written
        before the features were stored fall back to LanceDB and their thumbnails."""
        rows = [r for r in (self.position(i) for i in product_ids) if self.has_image[r]]
        if not rows or not (store.run.linker or {}).get("file"):
            return None
        with self._lock:
            if self._linker is None:
                from catalog.query.stored_models import load_linker

                self._linker = load_linker(store)
        linker = self._linker
        features = None
        if linker.photo_features:
            if not self.features[rows].any(axis=1).all():
                return stored_preferences(store, product_ids, linker)
            features = from_stored(self.features[rows])
        image_vectors = self.stored_images[rows]
        probabilities = linker.value_probabilities(image_vectors, features)
        return rec_preferences(probabilities, self.settings) if probabilities is not None else None

    def base_vector(self, product_ids: list[int]) -> tuple[np.ndarray, list[dict]]:
        """`catalog.query.search.base_vector` from memory: the mean unit translated (or node) vector."""
        rows = [self.position(i) for i in product_ids]
        vectors = [self.vectors["rec_vector" if self.has_image[r] else "node_vector"][r] for r in rows]
        return np.mean(vectors, axis=0), [dict(self.rows[r]) for r in rows]

    def where_mask(self, store, where: str) -> np.ndarray:
        """Rows matching a --where filter: checked (`search.check_where`, the same one-line errors)
        and evaluated by LanceDB once per filter and run, then kept."""
        # Kept under the text `check_where` runs (stripped), and looked up under the same: a filter
        # with a trailing space was looked up as given and stored stripped, so it was never found.
        where = where.strip()
        with self._lock:
            mask = self._masks.get(where)
            if mask is not None:
                self._masks.move_to_end(where)
                return mask
        where = check_where(store, where)
        matching = store.table("products").search().where(where).select(["id"]).limit(len(self.ids)).to_arrow()
        mask = np.isin(self.ids, matching.column("id").to_numpy())
        with self._lock:
            self._masks[where] = mask
            while len(self._masks) > FILTER_CACHE:
                self._masks.popitem(last=False)
        return mask

    def has_mask(self, where: str) -> bool:
        """Whether `where_mask(where)` would answer from memory (the filter was evaluated already)."""
        with self._lock:
            return where.strip() in self._masks

    def warm(self, store) -> None:
        """Read now what the first queries would otherwise read or build (the display rows, the
        linker Rec's order reads): `Snapshot.load` runs off a server's event loop, a first query
        may run on it."""
        _ = self.rows
        if store.run.linker and store.run.linker.get("file"):
            from catalog.query.stored_models import load_linker

            try:
                linker = load_linker(store)
            except CatalogError:  # a missing linker file: the first Rec query reports it, as before
                return
            with self._lock:
                self._linker = linker

    # -- browsing -----------------------------------------------------------------------------

    def browse(
        self, text: str = "", filters: dict[str, str] | None = None, page: int = 1, per_page: int = 24
    ) -> ProductPage:
        """Products whose name holds every word of `text` (or whose id is `text`), whose columns
        equal `filters`, in id order, one page at a time."""
        if per_page < 1 or page < 1:
            raise CatalogError("page and per_page start at 1")
        keep = np.ones(len(self.ids), bool)
        for column, value in (filters or {}).items():
            if column not in ATTRIBUTE_COLUMNS:
                raise CatalogError(f"unknown attribute column {column!r}; columns are {', '.join(ATTRIBUTE_COLUMNS)}")
            keep &= pc.fill_null(pc.equal(self.table.column(column), value), False).to_numpy(zero_copy_only=False)
        words = text.split()
        if len(words) == 1 and re.fullmatch(r"\d{1,18}", words[0]):
            by_id = self.ids == int(words[0])
            if (by_id & keep).any():  # an id search finds that product; otherwise the digits are a name word
                keep &= by_id
                words = []
        for word in words:
            keep &= self._name_contains(word.lower())
        matching = np.flatnonzero(keep)
        begin = (page - 1) * per_page
        rows = [dict(self.rows[r]) for r in matching[begin : begin + per_page]]
        return ProductPage(rows, int(len(matching)), page, per_page)

    def _name_contains(self, word: str) -> np.ndarray:
        if self._folded_names is None:
            self._folded_names = pc.utf8_lower(pc.fill_null(self.table.column(NAME_COLUMN), ""))
        return pc.match_substring(self._folded_names, word).to_numpy(zero_copy_only=False)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(unit(matrix))
