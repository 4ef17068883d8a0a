"""Search: nearest products per space, latent-space arithmetic, and attributes read off a vector.

The spaces and which stored vector queries which column are in `catalog/core/spaces.py`; checking a
`--where` filter is `catalog/query/filters.py`, and turning attribute words into vectors `catalog/query/words.py`.

All scores are cosine similarities. Nothing here imports TensorFlow: the translated vector of every
product is stored, so only a new photo (`query --image`) needs the encoder.

Ties: the graph space is trained per combination of attribute values, so every product of one
combination holds the same node vector and scores the same in `graph`, `rec` and arithmetic
results. Tied products are ordered by how close their photo is to the query's photo (cosine of
image vectors), then products without a photo by id; a tie that straddles the k-th place is
filled with the combination's products whose photos are closest (docs/graph-space.md). A query
without a photo orders ties by a zero photo vector: every closeness is 0, so ties go by id
(photos first), the same order in LanceDB and in the in-memory snapshot, instead of the index's.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pyarrow as pa

from catalog.core.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS, IMAGE_DIM
from catalog.core.errors import CatalogError, NotFound
from catalog.core.keys import sql_ids
from catalog.core.photo_features import COLUMN as FEATURES_COLUMN
from catalog.core.photo_features import unpack
from catalog.core.ranking import (  # noqa: F401  (re-exported: callers and tests find the orders here)
    ARITHMETIC_BAND,
    ARITHMETIC_POOL,
    DEFAULT_RANKING,
    PREFERENCE_ROUNDING,
    REC_OTHER_WEIGHT,
    REC_POOL,
    REC_SHARPENING,
    REC_WEIGHTS,
    TIE_RANKS,
    TIE_TOLERANCE,
    UNRANKED,
    ArithmeticTarget,
    RankingSettings,
    arithmetic_order,
    arithmetic_target,
    band_order,
    coded_preferences,
    preference_order,
    rec_preferences,
    row_preferences,
    row_target_scores,
    tie_groups,
    tie_order,
    top_k,
    within_tie,
)
from catalog.core.spaces import SPACE_COLUMNS
from catalog.core.vectors import photo_closeness
from catalog.core.vectors import unit as _unit
from catalog.models.linker import likeliest
from catalog.query.filters import FILTER_COLUMNS, check_where, filter_message  # noqa: F401  (re-exported)
from catalog.query.words import (  # noqa: F401  (re-exported: search is where callers look for them)
    COLUMN_ALIASES,
    Attribute,
    Term,
    load_attributes,
    parse_terms,
    resolve_attribute,
    resolve_column,
)
from catalog.results import Query, Result  # noqa: F401  (re-exported: the types search returns)
from catalog.store.database import Store
from catalog.store.index import tune_query
from catalog.store.photos import thumbnails_by_hash, thumbnails_of

SPACES = SPACE_COLUMNS  # space -> (column holding the query vector, column searched)
# The tie vector of a query without a photo: closeness 0 to every product, so ties go by id with
# photos first. Leaving such ties unordered returned an arbitrary k of a straddling tie (whatever
# the IVF index met first), which differed from the snapshot's order (benchmarks/README.md).
NO_PHOTO = np.zeros(IMAGE_DIM, np.float32)


def get_product(store: Store, product_id: int, columns: list[str] | None = None) -> dict:
    table = store.table("products")
    rows = table.search().where(f"id = {int(product_id)}").select(columns or table.schema.names).limit(1).to_list()
    if not rows:
        raise NotFound(f"no product with id {product_id} in {store.path}")
    return rows[0]


def get_products(store: Store, product_ids: list[int], columns: list[str] | None = None) -> list[dict]:
    """Rows in the order asked; the first unknown id is an error."""
    return [get_product(store, product_id, columns) for product_id in product_ids]


def base_vector(store: Store, product_ids: list[int]) -> tuple[np.ndarray, list[dict]]:
    """The query vector of one or more catalog products, and their display rows.

    Each product contributes its translated vector (`rec_vector`, from its photo), or its node
    vector when it has no photo. Several products are averaged as unit vectors, so each weighs
    the same whatever its vector's length; `compose` normalises the mean again.
    """
    rows = get_products(store, product_ids, [*DISPLAY_COLUMNS, "has_image", "rec_vector", "node_vector"])
    vectors = [
        _unit(np.asarray(r["rec_vector"] if r["has_image"] else r["node_vector"], dtype=np.float32)) for r in rows
    ]
    return np.mean(vectors, axis=0), [{c: r[c] for c in DISPLAY_COLUMNS} for r in rows]


def photo_vector(store: Store, product_ids: list[int]) -> np.ndarray:
    """The image vector that orders ties for these products: the mean of their unit image
    vectors (those with a photo), or NO_PHOTO when none has a photo (ties then go by id)."""
    rows = get_products(store, product_ids, ["has_image", "image_vector"])
    vectors = [_unit(np.asarray(r["image_vector"], dtype=np.float32)) for r in rows if r["has_image"]]
    return np.mean(vectors, axis=0) if vectors else NO_PHOTO


def stored_preferences(store: Store, product_ids: list[int], linker=None) -> dict[str, dict[str, float]] | None:
    """What Rec orders the results for these products by (`rec_preferences`): their photos'
    probabilities under the linker's classifiers, averaged; None when none of them has a photo or
    the linker has no classifiers (results then stay in cosine order). `linker`: the database's,
    when the caller holds it."""
    return photo_preferences(store, get_products(store, product_ids, preference_columns(store)), linker)


def preference_columns(store: Store) -> list[str]:
    """The stored columns `photo_preferences` reads from a product's row."""
    columns = ["id", "has_image", "image_vector"]
    if FEATURES_COLUMN in store.table("products").schema.names:  # absent in a database not written since
        columns.append(FEATURES_COLUMN)
    return columns


def photo_preferences(store: Store, rows: list[dict], linker=None) -> dict[str, dict[str, float]] | None:
    """`stored_preferences` of product rows already read (with `preference_columns`)."""
    from catalog.query.stored_models import load_linker, photo_probabilities

    rows = [r for r in rows if r["has_image"]]
    if not rows or (linker is None and not (store.run.linker or {}).get("file")):
        return None  # no photo, or a catalog with one photo only: no linker was trained
    linker = linker or load_linker(store)
    stored = unpack([r.get(FEATURES_COLUMN) for r in rows])
    vectors = [r["image_vector"] for r in rows]
    probabilities = photo_probabilities(linker, vectors, thumbnails_to_measure(store, rows, stored), stored)
    return rec_preferences(probabilities, settings_of(store)) if probabilities is not None else None


def settings_of(store: Store) -> RankingSettings:
    """The ranking settings the committed run recorded (with its linker: docs/quality.md); the
    defaults for a database written before they were recorded, or without a trained linker."""
    run = store.run
    return RankingSettings.from_dict(((run.linker if run else None) or {}).get("ranking"))


def thumbnails(store: Store, product_ids: list[int]) -> dict[int, bytes]:
    """The stored JPEG thumbnails of these products (those without a photo are absent): their hashes
    from the committed products version, the bytes from the photos table (catalog/store/photos.py)."""
    return thumbnails_of(store.table("products"), store.photos(), product_ids)


def thumbnail(store: Store, product_id: int) -> bytes | None:
    """One product's thumbnail (None without a photo; NotFound for an unknown id): its row, then the
    photos table by its hash (two indexed lookups; a page of cards asks for one each)."""
    products = store.table("products")
    if "thumbnail" in products.schema.names:  # a version written before the photos table
        return get_product(store, product_id, ["thumbnail"])["thumbnail"] or None
    row = get_product(store, product_id, ["has_image", "image_hash"])
    if not row["has_image"]:
        return None
    return thumbnails_by_hash(store.photos(), [row["image_hash"]]).get(row["image_hash"])


def thumbnails_to_measure(store: Store, rows: list[dict], stored: np.ndarray | None) -> list[bytes | None]:
    """Per row (with `id`), its thumbnail where its photo features must be measured on it (a row written
    before they were stored), else None: the thumbnails are read only for those rows."""
    lacking = [r["id"] for n, r in enumerate(rows) if stored is None or not stored[n].any()]
    found = thumbnails(store, lacking) if lacking else {}
    return [found.get(r["id"]) for r in rows]


def nearest(
    store: Store,
    vector: np.ndarray,
    column: str,
    k: int,
    exclude: tuple[int, ...] = (),
    where: str | None = None,
    tie_vector: np.ndarray | None = None,
    item_vector: np.ndarray | None = None,
    preferences: dict[str, dict[str, float]] | None = None,
    settings: RankingSettings | None = None,
    target: ArithmeticTarget | None = None,
    own_tie: bool = False,
) -> list[Result]:
    """Cosine top-k over one vector column, filtered inside the search so k results come back.

    With `tie_vector` (the query's image vector, NO_PHOTO for a query without one), products that
    score the same (one combination of attribute values in the graph space) are ordered by the
    cosine of their image vector with it, and a tie at the k-th place is filled with the closest
    photos of that combination. Without it (None) ties keep the index's order.

    With `item_vector` (arithmetic: the item's own vector before any term was added), the query's
    first `arithmetic_pool` results are ordered by `target` (`arithmetic_order`: the terms' values
    carried, the item's other values kept, then closeness to the item), or without a target (a
    photo whose linker has no classifiers) or with `arithmetic_order` "band" by the band
    (`band_order`); scores stay the query's.

    With `preferences` (Rec from a photo: `rec_preferences` of its classifiers' probabilities), the
    query's first REC_POOL results are ordered by `preference_order`; scores stay the cosines.

    `own_tie`: `vector` is the node vector of a product without a photo that a full write ranked
    (`similar --space graph`): its own combination is tried first (`_own_tie_only`).

    `settings`: the pools and the band (`RankingSettings`); None: the database's (`settings_of`).
    """
    settings = settings or settings_of(store)
    scope = ["has_image = true"] if column == "image_vector" else []  # a photo-less row's image vector is zeros
    if where:
        scope.append(f"({where})")
    filters = [f"id NOT IN ({sql_ids(exclude)})", *scope] if exclude else scope
    breaking = tie_vector is not None and column != "image_vector"
    extra = ["has_image", "image_vector", *_ranked(store)] if breaking else []
    wanted = k
    if item_vector is not None:  # arithmetic: the band is taken among the query's first ARITHMETIC_POOL
        wanted = max(k, settings.arithmetic_pool)
        extra.append(column)
    elif preferences is not None:  # Rec: the classifiers order the query's first REC_POOL
        wanted = max(k, settings.rec_pool)
    # Not with a --where: it may leave out the query's own combination, and then the rows at
    # distance 0 are another's, which a reviewer's case showed can differ from the tie order.
    if own_tie and not where and breaking and column == "node_vector" and item_vector is None and preferences is None:
        own = _own_tie_only(store, vector, k, exclude, scope, [*DISPLAY_COLUMNS, *extra], np.asarray(tie_vector))
        if own is not None:
            return _results(own)
    # One row more than asked tells whether a tie runs past the last place.
    rows = _search(
        store, vector, column, wanted + 1 if breaking else wanted, filters, where, [*DISPLAY_COLUMNS, *extra]
    )
    if breaking and rows:
        rows = _break_ties(
            store,
            rows,
            wanted,
            np.asarray(vector, np.float32),
            np.asarray(tie_vector, np.float32),
            scope,
            exclude,
            extra,
        )
    if item_vector is not None and rows:
        rows = rows[:wanted]
        scores = np.array([1.0 - float(r["_distance"]) for r in rows])
        closeness = _unit(np.array([r[column] for r in rows], np.float32)) @ _unit(np.asarray(item_vector, np.float32))
        if target is not None and settings.arithmetic_order == "values":
            order = arithmetic_order(*row_target_scores(rows, target), closeness)
        else:
            order = band_order(scores, closeness, settings.arithmetic_band)
        rows = [rows[i] for i in order]
    elif preferences is not None and rows:
        rows = rows[:wanted]
        rows = [rows[i] for i in preference_order(row_preferences(rows, preferences))]
    return _results(rows[:k])


def _results(rows: list[dict]) -> list[Result]:
    return [
        Result(int(row["id"]), round(1.0 - float(row["_distance"]), 4), {c: row[c] for c in DISPLAY_COLUMNS})
        for row in rows
    ]


MAX_TIE = 100_000  # tied rows read to order them (more products than any real combination holds)


def _search(
    store: Store, vector, column: str, limit: int, filters: list[str], where: str | None, columns: list[str]
) -> list[dict]:
    search = store.table("products").search(np.asarray(vector, dtype=np.float32), vector_column_name=column)
    search = tune_query(search.metric("cosine").select([*columns, "_distance"]).limit(limit))
    if filters:
        search = search.where(" AND ".join(filters), prefilter=True)
    try:
        return search.to_list()
    except Exception as error:  # lance reports a bad user filter as a generic error
        if where:
            raise CatalogError(f"bad --where filter {where!r}: {filter_message(error)}") from None
        raise


def _break_ties(
    store: Store,
    rows: list[dict],
    k: int,
    vector: np.ndarray,
    tie_vector: np.ndarray,
    scope: list[str],
    exclude: tuple[int, ...],
    extra: list[str] = (),
) -> list[dict]:
    """Rows (best first, at most k + 1) in ranking's tie order (`catalog.core.ranking.tie_order`),
    the tie at the k-th place completed with its best photos. `scope`: the filters of the rows that
    may be results (a photo, a --where); `exclude`: ids that may not (the query's own products)."""
    scores = 1.0 - np.array([float(r["_distance"]) for r in rows])
    groups = tie_groups(scores)
    last = groups == groups[-1]
    taken = int((~last).sum())
    if taken >= k:  # the last group is only the lookahead row
        rows = rows[:taken]
    elif len(rows) > k:  # the tie at the k-th place continues past it: fetch the whole tie
        leader = rows[taken]
        distance = float(leader["_distance"])
        # Ids already placed or excluded are dropped in numpy after reading: an `id NOT IN` filter
        # inside the range query costs a pass over the whole id column.
        skip = np.array([*exclude, *(int(r["id"]) for r in rows[:taken])], np.int64)
        # Equal vectors are at one distance from the query (and in one IVF partition), so a range
        # query on the same column returns the tied rows and nothing else: one indexed search,
        # where filtering by the combination's 8 values would scan every row.
        columns = list(dict.fromkeys([*DISPLAY_COLUMNS, "has_image", "image_vector", *extra]))

        tie_rows = partial(_tie_rows, store, vector, distance, scope)  # (select, bounded, also, probes)

        # The tie's one partition is among the NPROBES the first search probed, unless a narrow
        # --where made it probe further: so probe those NPROBES (a range query that never fills
        # its limit would otherwise probe every partition), and all only if the tie's rows already
        # seen are not all back.
        # A tie at distance 0 is the query's own vector (`similar`'s usual tie: the product's own
        # combination): read by rank, probing the one partition nearest the query, where its equal
        # vectors were put (if not, ranks are missing and the whole tie is read). Only there: a tie
        # elsewhere may hold a second vector at the same distance (within TIE_TOLERANCE) whose
        # lowest ranks were removed since, and `tie_rank <= n` would hide the rest of it.
        # A tie in which the first search saw no photo is read with its display columns when the
        # ranks make it a few rows, and that read is the answer; with photos, the ids first.
        light = any(bool(r["has_image"]) for r in rows[taken:])
        select = ["id", "has_image"] if light else columns
        table = None
        if abs(distance) <= TIE_TOLERANCE:  # rows[:taken] lie in earlier ties: only `exclude` is in this one
            table = _first_of_tie(tie_rows, rows[taken:], k - taken + len(exclude), select, probes=1)
        if table is not None and not light:
            tied = _best_of_tie(table.to_pylist(), skip, k - taken, tie_vector)
        else:
            bounded = True
            if table is None:
                table = tie_rows(["id", "has_image"], bounded)
                if not {int(r["id"]) for r in rows[taken:]} <= set(table.column("id").to_pylist()):
                    bounded = False
                    table = tie_rows(["id", "has_image"], bounded)
            with_photos = bool(np.any(table.column("has_image").to_numpy(zero_copy_only=False)))
            photos = tie_rows(["id", "image_vector"], bounded, ("has_image = true",)) if with_photos else None
            tied = _page_of_tie(store, table, photos, skip, k - taken, tie_vector, columns)
        tied = [dict(r, _distance=leader["_distance"]) for r in tied]
        known = {int(r["id"]) for r in tied}
        rows = rows[:taken] + tied + [r for r in rows[taken:] if int(r["id"]) not in known]
    has_image = np.array([bool(r["has_image"]) for r in rows])
    images = np.array([r["image_vector"] for r in rows], np.float32)
    scores = 1.0 - np.array([float(r["_distance"]) for r in rows])
    ids = np.array([int(r["id"]) for r in rows])
    order = tie_order(scores, has_image, photo_closeness(images, has_image, tie_vector), ids)
    return [rows[i] for i in order]


def _tie_rows(
    store: Store,
    vector,
    distance: float,
    scope: list[str],
    select: list[str],
    bounded: bool,
    also: tuple[str, ...] = (),
    probes: int = 0,
) -> pa.Table:
    """The rows at `distance` from `vector` (within TIE_TOLERANCE) on node_vector: one tie."""
    search = store.table("products").search(np.asarray(vector, np.float32), vector_column_name="node_vector")
    search = search.metric("cosine").distance_range(distance - TIE_TOLERANCE, distance + TIE_TOLERANCE)
    # `_distance` asked for by name: leaving it implicit makes Lance print a deprecation
    # warning from Rust to the caller's stderr (it will stop adding it unasked).
    search = tune_query(search.select([*select, "_distance"]).limit(MAX_TIE), bounded)
    if probes:
        search = search.nprobes(probes)
    if scope or also:
        search = search.where(" AND ".join([*scope, *also]), prefilter=True)
    return search.to_arrow()


def _own_tie_only(
    store: Store, vector, k: int, exclude: tuple[int, ...], scope: list[str], columns: list[str], tie_vector
) -> list[dict] | None:
    """`similar --space graph` of a ranked product without a photo, answered from its own
    combination alone when that holds k results: nothing scores above a tie at distance 0 (the
    query's own vector), so its first k in tie order are the answer, read by rank
    (`_first_of_tie`) without the k-nearest search (~13-19 ms at 10M products). None when the
    ranked read cannot be trusted or the combination is too small; the caller searches as usual."""
    tie_rows = partial(_tie_rows, store, vector, 0.0, scope)
    table = _first_of_tie(tie_rows, None, k + len(exclude), columns, probes=1)
    if table is None:
        return None
    found = _best_of_tie(table.to_pylist(), np.array(exclude, np.int64), k, tie_vector)
    return found if len(found) == k else None


def _best_of_tie(found: list[dict], skip: np.ndarray, count: int, tie_vector: np.ndarray) -> list[dict]:
    """The first `count` of a tie's rows (display columns read) in `within_tie` order, less `skip`."""
    skipped = set(skip.tolist())
    found = [r for r in found if int(r["id"]) not in skipped]
    has_image = np.array([bool(r["has_image"]) for r in found], bool)
    images = np.array([r["image_vector"] for r in found], np.float32).reshape(len(found), IMAGE_DIM)
    ids = np.array([int(r["id"]) for r in found], np.int64)
    return [found[i] for i in within_tie(has_image, photo_closeness(images, has_image, tie_vector), ids)[:count]]


def _page_of_tie(
    store: Store,
    table: pa.Table,
    photos: pa.Table | None,
    skip: np.ndarray,
    count: int,
    tie_vector: np.ndarray,
    columns: list[str],
) -> list[dict]:
    """The first `count` of a tie in `within_tie` order, from its ids and photo flags (`table`) and
    its photos' vectors (`photos`), less `skip`; their display rows read by id.

    A tie holds up to tens of thousands of products at 10M rows, so it is read in three steps, each
    reading only what it needs: every tied id and whether it has a photo; the photo vectors of the
    tied products with a photo; then the display rows of the k that make the page. Reading every
    column of a 46k-product tie took ~650 ms at 10M rows, against ~60 ms for its ids."""
    table = table.filter(pa.array(~np.isin(table.column("id").to_numpy(), skip)))
    ids = table.column("id").to_numpy()
    has_image = table.column("has_image").to_numpy(zero_copy_only=False).astype(bool)
    closeness = np.zeros(len(ids))
    if photos is not None:
        images = photos.column("image_vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        images = np.asarray(images, np.float32).reshape(photos.num_rows, -1)
        photo_ids = photos.column("id").to_numpy()
        # (a photo the ids' read did not return, from a partition only this read probed, is left out)
        wanted = ~np.isin(photo_ids, skip) & np.isin(photo_ids, ids)
        at = {int(i): n for n, i in enumerate(ids.tolist())}
        rows_of = np.array([at[int(i)] for i in photo_ids[wanted].tolist()], np.int64)
        closeness[rows_of] = photo_closeness(images[wanted], np.ones(len(rows_of), bool), tie_vector)
    best = ids[within_tie(has_image, closeness, ids)[:count]]
    # The page's rows by id (the id index): a few rows, not another pass over the tie.
    page = store.table("products").search().where(f"id IN ({sql_ids(best.tolist())})").select(columns)
    by_id = {int(r["id"]): r for r in page.limit(len(best)).to_arrow().to_pylist()} if len(best) else {}
    return [by_id[int(i)] for i in best.tolist() if int(i) in by_id]


def _ranked(store: Store) -> list[str]:
    """["tie_rank"] where the products table has the column (a database written before it was
    added has not, until its next writer adds it)."""
    return ["tie_rank"] if "tie_rank" in store.table("products").schema.names else []


def _first_of_tie(
    tie_rows, seen: list[dict] | None, needed: int, select: list[str], probes: int = 0
) -> pa.Table | None:
    """The tie's rows that can make the page, read without the rest: every photo and every row not
    ranked since the last full write (`tie_rank` 0), and the `needed` photo-less rows of lowest id
    (ranks 1..needed). None when that cannot be trusted: ranks 1..needed are not all there (rows
    removed or rewritten since, a --where that drops some, a tie smaller than needed) or `needed`
    is past TIE_RANKS; the caller then reads the whole tie. Not tried when the tie's photo-less
    rows the first search saw (`seen`) are all unranked: a table no full write has ranked yet
    (ranks added to an older database are all 0), where it would only read the tie twice.

    Why: at 10M products a tie is a combination of tens of thousands, and reading every tied id
    to keep the first few by id was most of `similar`'s time (docs/graph-space.md). Ranks only
    ever grow with the id among one vector's rows, and rows only lose them (an incremental write
    stores 0), so ranks 1..needed, when all present, are the `needed` lowest ids of the tie. That
    holds for a tie of one vector: the caller asks only for a tie at distance 0 from the query,
    which another vector could join only by lying within TIE_TOLERANCE of the query's own.
    """
    if needed > TIE_RANKS or (seen is not None and "tie_rank" not in seen[0]):
        return None
    photo_less = [r["tie_rank"] for r in seen or () if not r["has_image"]]
    if photo_less and not any(photo_less):
        return None
    table = tie_rows(list(dict.fromkeys([*select, "tie_rank"])), True, (f"tie_rank <= {needed}",), probes)
    ranks = table.column("tie_rank").to_numpy()
    ranked = np.sort(ranks[ranks != UNRANKED])
    if not np.array_equal(ranked, np.arange(1, needed + 1)):
        return None
    return table


def similar(
    store: Store,
    product_id: int,
    k: int = 6,
    spaces: tuple[str, ...] = ("rec",),
    where: str | None = None,
    skip_missing: bool = False,
) -> tuple[dict, dict[str, list[Result]]]:
    """The product's display row and, per space, its k nearest other products (among `where`).

    A product without a photo has no image or rec vector: asking for those spaces is an error, or,
    with `skip_missing` (`--space all`), they are left out of the result.
    """
    if where is not None:
        where = check_where(store, where)
    vector_columns = sorted({SPACES[space][0] for space in spaces} | {"image_vector"})
    photo_columns = preference_columns(store) if "rec" in spaces else []  # read with the row, not again
    columns = list(dict.fromkeys([*DISPLAY_COLUMNS, "has_image", *vector_columns, *photo_columns, *_ranked(store)]))
    product = get_product(store, product_id, columns)
    # Ranked and without a photo: its combination's first products by id may be the whole answer.
    own_tie = not product["has_image"] and bool(product.get("tie_rank"))
    results = {}
    for space in spaces:
        query_column, searched_column = SPACES[space]
        if query_column in ("rec_vector", "image_vector") and not product["has_image"]:
            if skip_missing:
                continue
            raise CatalogError(f"product {product_id} has no image, so it has no {space} vector; try --space graph")
        tie = product["image_vector"] if product["has_image"] else NO_PHOTO
        preferences = photo_preferences(store, [product]) if space == "rec" else None
        results[space] = nearest(
            store,
            product[query_column],
            searched_column,
            k,
            exclude=(int(product_id),),
            where=where,
            tie_vector=tie,
            preferences=preferences,
            own_tie=own_tie and query_column == searched_column == "node_vector",
        )
    return {c: product[c] for c in DISPLAY_COLUMNS}, results


# -- arithmetic and inference ----------------------------------------------------------------


def infer_attributes(
    vector: np.ndarray, attributes: list[Attribute], top: int = 3
) -> dict[str, list[tuple[str, float]]]:
    """Per attribute column, the `top` values whose vectors are most cosine-similar to `vector`.

    `vector` lives in the graph space (a translated photo, or a product's node vector); so do
    the attribute nodes, which is what lets a photo name its own attributes (the paper's end
    goal). Every column of the catalog is present, best value first; scores are cosines.
    """
    query = _unit(np.asarray(vector, dtype=np.float32))
    inferred: dict[str, list[tuple[str, float]]] = {}
    for column in ATTRIBUTE_COLUMNS:
        candidates = [a for a in attributes if a.column == column]
        if not candidates:
            inferred[column] = []
            continue
        matrix = np.stack([_unit(a.vector) for a in candidates])
        scores = matrix @ query
        order = top_k(scores, top)[0]
        inferred[column] = [(candidates[i].value, round(float(scores[i]), 4)) for i in order]
    return inferred


def infer_photo(
    probabilities: dict[str, dict[str, float]] | None,
    translated: np.ndarray,
    attributes: list[Attribute],
    top: int = 3,
) -> dict[str, list[tuple[str, float]]]:
    """What `catalog infer` reads off a photo: with the `attributes` linker, its per-column
    classifiers' likeliest values and probabilities (`EncodedPhoto.probabilities`; on the
    600-product demo's held-out photos they name baseColour right .90 of the time, 6 splits; the
    translated vector's nearest colour vector did .59 on one, README "infer": the classifiers are what the
    translated vector is made from, before the averaging over combinations blurs them); otherwise
    the paper's reading, `infer_attributes`."""
    if probabilities is not None:
        return likeliest(probabilities, top)
    return infer_attributes(translated, attributes, top)


def replacing(base: np.ndarray, terms: list[Term], attributes: list[Attribute], items: list[dict] = ()) -> list[Term]:
    """`terms` plus, for each added value whose column has no subtracted value, the item's own value
    of that column subtracted with the same weight: `+green` on a black shirt means green instead
    of black, not black and green.

    The own value is the items' catalog value when they all share one, otherwise the value whose
    vector is closest to `base` (what `catalog infer` reads off a photo). Measured by `catalog eval`
    (docs/quality.md): with the item's value left in, `+colour +subCategory −own subCategory`
    returned fewer different products (38 against 42 per 25 items x 6 on the demo catalog).
    """
    replaced = {t.attribute.column for t in terms if t.weight < 0}
    added = {t.attribute.key for t in terms if t.weight > 0}
    extra = []
    for term in terms:
        column = term.attribute.column
        if term.weight <= 0 or column in replaced:
            continue
        replaced.add(column)
        candidates = [a for a in attributes if a.column == column]
        values = {item.get(column) for item in items}
        if len(values) == 1 and None not in values and "" not in values:
            own = next((a for a in candidates if a.value == next(iter(values))), None)
        else:
            own = max(
                candidates, key=lambda a: float(_unit(a.vector) @ _unit(np.asarray(base, np.float32))), default=None
            )
        if own is not None and own.key not in added:
            extra.append(Term(own, -term.weight))
    return [*terms, *extra]


def compose(base: np.ndarray, terms: list[Term]) -> np.ndarray:
    """base + sum(weight * attribute), every vector L2-normalised first.

    Why normalise: attribute vectors are about twice as long as a translated vector, so with raw
    vectors `+green +shoes -topwear` returns the same green shoes whatever the item. With unit
    vectors each term moves the query by the same amount as the item itself weighs, so the item's
    other attributes survive (measured by `catalog eval`: arithmetic success and kept share).
    """
    vector = _unit(np.asarray(base, dtype=np.float32))
    for term in terms:
        vector = vector + term.weight * _unit(term.attribute.vector)
    return vector


def catalog_values(items: list[dict]) -> dict[str, dict[str, float]]:
    """What arithmetic keeps of catalog items (`query --id`): per column, each value's share of the
    items (one item: its own value, sure), empty cells left out."""
    values: dict[str, dict[str, float]] = {}
    for column in ATTRIBUTE_COLUMNS:
        cells = [item.get(column) for item in items if item.get(column) not in (None, "")]
        for cell in cells:
            values.setdefault(column, {})
            values[column][str(cell)] = values[column].get(str(cell), 0.0) + 1.0 / len(cells)
    return values


def query_target(
    terms: list[Term], values: dict[str, dict[str, float]] | None, settings: RankingSettings
) -> ArithmeticTarget | None:
    """The `ArithmeticTarget` of a query's terms for an item with these values (`catalog_values`, or
    a photo's classifier probabilities); None when the item's values are unknown (a photo under a
    linker without classifiers: the band orders then)."""
    if values is None:
        return None
    return arithmetic_target([(t.attribute.column, t.attribute.value, t.weight) for t in terms], values, settings)
