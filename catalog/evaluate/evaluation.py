"""`catalog eval`: how good are the recommendations, measured without leaks.

The paper shows hand-picked result tables; here every claim is a number. A share of the products
with photos is held out: removed from the graph before node2vec and from linker training. The
graph space and the linker are then rebuilt on the rest, reusing the stored image vectors (no photo
is encoded again), and the held-out photos are queried as if they were new:

- precision@k per attribute column: the share of results sharing the query's value, for Rec
  (translated photo -> in-sample node vectors), the image space (photo -> in-sample photos) and
  random picks; the graph space of in-sample products (node vector -> other node vectors) is the
  upper reference, since it is built from the very attributes being scored;
- graded nDCG@k, relevance = number of attribute values a result shares with the query;
- the linker: validation MSE and cosine (from its own validation split), and recall@k of a product's
  own node vector from its translated photo, over in-sample products;
- arithmetic: held-out photo + one attribute value − the photo's own value of that column;
  "success" is the share of results carrying the added value (and so not the removed one), "kept"
  the share of the query's other attribute values the results keep; and the multi-term case
  `photo + colour + subCategory − its own subCategory` over groups of 25 items per target, with
  how many different products the results hold and the kept share per untouched column;
- attribute inference: top-1 accuracy per column of reading attributes off a translated photo.

The metric functions work on integer attribute codes (one column per attribute, -1 = empty cell),
so they can be checked on hand-made neighbour lists.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.core.keys import split_key
from catalog.core.metrics import (  # noqa: F401  (re-exported: the metrics eval reports)
    accuracy,
    commonest,
    ndcg_at_k,
    own_vector_recall,
    precision_at_k,
    random_neighbours,
    relevance,
)
from catalog.core.photo_features import COLUMN as FEATURES_COLUMN
from catalog.core.photo_features import features_of, unpack
from catalog.core.spaces import EVAL_SPACES
from catalog.core.vectors import cosine_top_k as cosine_knn
from catalog.core.vectors import unit
from catalog.models.encoder import import_keras
from catalog.models.linker import LinkerParams, train_linker
from catalog.query.search import (
    ARITHMETIC_POOL,
    REC_POOL,
    Attribute,
    Term,
    band_order,
    coded_preferences,
    compose,
    infer_photo,
    preference_order,
    rec_preferences,
    replacing,
)
from catalog.store.database import Store
from ingest.graph import attribute_values, build_graph
from ingest.graph_space import Node2VecParams, embed_graph, progress_total

EVAL_FILE = "eval.json"
SPACES = EVAL_SPACES
# Arithmetic swaps one of these columns; they are the paper's examples (+Green, +Shoes −Topwear).
ARITHMETIC_COLUMNS = ("baseColour", "subCategory")
# Changing one level of the category tree changes the others with it (Shoes are never Apparel),
# so "kept" does not count them against a category swap.
CATEGORY_COLUMNS = ("masterCategory", "subCategory", "articleType")


@dataclass(frozen=True)
class EvalOptions:
    k: int = 10
    holdout: float = 0.1  # share of the products with photos held out
    seed: int = 0
    # Changes to the node2vec and linker parameters the database was built with (e.g. num_walks
    # for a quicker run, kind="paper" to measure the paper's linker); None values are ignored.
    node2vec_overrides: dict = field(default_factory=dict)
    linker_overrides: dict = field(default_factory=dict)
    arithmetic_trials: int = 200
    replace_own: bool = True  # an added value replaces the photo's own value of its column, as `catalog query` does
    band: bool = True  # arithmetic results are the query's band ordered by the item, as `catalog query` returns them
    rec_order: bool = True  # Rec's pool ordered by the linker's classifiers, as `similar` and `query --image` return it
    max_queries: int = 2000  # cap for in-sample query sets (graph reference, linker recall)


@dataclass
class Evaluation:
    """One eval run; `document()` is the --json output and what `catalog plot eval` draws."""

    k: int
    holdout: int  # held-out products (queried as new photos)
    in_sample: int  # products the graph and linker were rebuilt on
    precision: dict[str, dict[str, float]]  # space -> column -> precision@k
    ndcg: dict[str, float]  # space -> nDCG@k
    linker: dict
    arithmetic: dict
    inference: dict[str, float]  # column -> top-1 accuracy
    inference_majority: dict[str, float]  # column -> accuracy of always guessing the commonest value
    settings: dict  # seed, holdout share, run, node2vec and linker parameters
    seconds: dict[str, float]
    held_out_ids: list[int]
    saved_to: Path | str | None = None  # where `Catalog.evaluate` saved the document for `catalog plot eval`
    save_error: str | None = None  # why it could not (a read-only database still gets its figures)

    def document(self) -> dict:
        """Plain JSON: no NaN (a metric with nothing to score is null), no held-out id list."""
        doc = asdict(self)
        for name in ("held_out_ids", "saved_to", "save_error"):
            del doc[name]
        return _without_nan(doc)

    def to_dict(self) -> dict:
        """What `catalog eval --json` prints (the same as `document()`)."""
        return self.document()


def _without_nan(value):
    if isinstance(value, dict):
        return {key: _without_nan(v) for key, v in value.items()}
    if isinstance(value, float) and value != value:
        return None
    return value


class _QuietReporter:
    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator:
        yield lambda n=1: None


# -- the run ----------------------------------------------------------------------------------


@dataclass
class _Split:
    """The catalog as eval sees it: codes per product, and which products are held out."""

    catalog: pd.DataFrame
    codes: np.ndarray
    vocabularies: list[list[str]]
    held: np.ndarray  # boolean mask: queried as new photos
    image_vectors: np.ndarray
    thumbnails: list  # JPEG bytes, None without a photo: the photo features of rows that have none stored
    stored_features: np.ndarray  # (products, FEATURE_DIM) uint8 as ingest stores them; zeros = none

    def photo_features(self, rows: np.ndarray) -> np.ndarray:
        """The photo features of these catalog rows (indices), stored or measured."""
        return features_of(self.stored_features[rows], [self.thumbnails[r] for r in rows])

    @property
    def sample(self) -> np.ndarray:
        return ~self.held

    @property
    def sample_has_image(self) -> np.ndarray:
        return self.catalog["has_image"].to_numpy()[self.sample]


@dataclass
class _Retrained:
    """The graph space and linker rebuilt on the in-sample products only."""

    node_vectors: np.ndarray  # in-sample products, in `_Split.sample` order
    attributes: list[Attribute]
    linker: object  # catalog.models.linker.Linker
    linker_metrics: dict


def evaluate(store: Store, options: EvalOptions = EvalOptions(), reporter=None) -> Evaluation:
    """Hold out, rebuild graph space and linker on the rest, and measure. `reporter.stage(name, total)`
    yields a progress callback per retraining stage (the ingest pipeline's Reporter protocol).

    The same seed gives the same figures: Word2Vec runs on one worker here (gensim with several is
    not reproducible, see docs/design.md, "Reproducibility"), and every sample is seeded.
    """
    reporter = reporter or _QuietReporter()
    run = store.run
    node2vec = _override(Node2VecParams.from_dict(run.node2vec), {**options.node2vec_overrides, "workers": 1})
    linker_params = _override(_recorded_linker(run.linker), options.linker_overrides)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    split = _split(store, options)
    seconds["load"] = time.perf_counter() - started
    retrained = _retrain(split, node2vec, linker_params, reporter, seconds)
    started = time.perf_counter()
    measures = _measure(split, retrained, linker_params, options)
    seconds["measure"] = time.perf_counter() - started
    return Evaluation(
        k=options.k,
        holdout=int(split.held.sum()),
        in_sample=int(split.sample.sum()),
        **measures,
        settings={
            "seed": options.seed,
            "holdout_share": options.holdout,
            "run": run.run,
            "node2vec": node2vec.to_dict(),
            "linker": linker_params.to_dict(),
            "arithmetic_replaces_own_value": options.replace_own,
            "arithmetic_band": options.band,
            "rec_order": options.rec_order,
        },
        seconds={name: round(value, 2) for name, value in seconds.items()},
        held_out_ids=split.catalog.loc[split.held, "id"].astype(int).tolist(),
    )


def _split(store: Store, options: EvalOptions) -> _Split:
    """Load the catalog, code its attributes and choose the held-out products."""
    catalog = load_catalog(store)
    codes, vocabularies = attribute_codes(catalog)
    held = holdout_mask(catalog["has_image"].to_numpy(), options.holdout, options.seed)
    k = options.k
    if int((~held & catalog["has_image"].to_numpy()).sum()) <= k:
        raise CatalogError(f"-k {k} needs more than {k} in-sample products with photos; lower -k or --holdout")
    image_vectors = np.stack(catalog["image_vector"].to_numpy()).astype(np.float32)
    stored = unpack(catalog.pop(FEATURES_COLUMN).tolist())
    return _Split(catalog, codes, vocabularies, held, image_vectors, catalog.pop("thumbnail").tolist(), stored)


def _retrain(
    split: _Split, node2vec: Node2VecParams, linker_params: LinkerParams, reporter, seconds: dict[str, float]
) -> _Retrained:
    """node2vec and the linker on the in-sample products only, so nothing held out leaks in."""
    started = time.perf_counter()
    rows = split.catalog.loc[split.sample, ["id", *ATTRIBUTE_COLUMNS]].reset_index(drop=True)
    graph = build_graph(rows)
    with reporter.stage("node2vec without held-out products", progress_total(graph, node2vec)) as progress:
        space = embed_graph(graph, node2vec, progress=progress)
    seconds["node2vec"] = time.perf_counter() - started
    # build_graph keeps row order, so product vectors line up with `rows`.
    attributes = [
        Attribute(key, *split_key(key), vector) for key, vector in zip(graph.attribute_keys, space.attribute_vectors)
    ]

    started = time.perf_counter()
    if linker_params.kind != "attributes":  # the attributes linker is scikit-learn: no TensorFlow at all
        import_keras()  # train_linker imports Keras; this first import keeps TensorFlow's start-up chatter off stderr
    has_image = split.sample_has_image
    sample_images = split.image_vectors[split.sample]
    features = None
    if linker_params.kind == "attributes" and linker_params.photo_features:
        features = split.photo_features(np.flatnonzero(split.sample)[has_image])
    with reporter.stage(f"linker ({linker_params.kind}) without held-out products", linker_params.epochs) as progress:
        fit = train_linker(
            sample_images[has_image],
            space.product_vectors[has_image],
            linker_params,
            progress,
            values=attribute_values(rows.loc[has_image]),
            features=features,
        )
    seconds["linker"] = time.perf_counter() - started
    return _Retrained(space.product_vectors, attributes, fit.linker, fit.metrics)


def _measure(split: _Split, retrained: _Retrained, linker_params: LinkerParams, options: EvalOptions) -> dict:
    """Query the held-out photos as new ones and score every space, the linker, arithmetic and inference."""
    k = options.k
    rng = np.random.default_rng(options.seed)
    node_vectors = retrained.node_vectors
    sample_images = split.image_vectors[split.sample]
    held_codes, sample_codes = split.codes[split.held], split.codes[split.sample]
    linker = retrained.linker
    held_images = split.image_vectors[split.held]
    held_features = split.photo_features(np.flatnonzero(split.held)) if linker.photo_features else None
    translated = linker.translate(held_images, held_features)
    probabilities = [
        linker.value_probabilities(image, None if held_features is None else held_features[n])
        for n, image in enumerate(held_images)
    ]
    with_image = np.flatnonzero(split.sample_has_image)
    pool_images = np.where(split.sample_has_image[:, None], sample_images, 0.0)  # photo-less products sort last in ties
    ranker = _Ranker(node_vectors, pool_images)
    preferences = [rec_preferences(p) if p is not None and options.rec_order else None for p in probabilities]
    neighbours = {
        "rec": np.array(
            [
                ranker.top(query, k, tie, preferences=_preference_scores(p, sample_codes, split.vocabularies))
                for query, tie, p in zip(translated, held_images, preferences)
            ]
        ).reshape(-1, k),
        "image": with_image[cosine_knn(split.image_vectors[split.held], sample_images[with_image], k)],
        "random": random_neighbours(len(translated), len(node_vectors), k, rng),
    }
    graph_queries = _subsample(with_image, min(options.max_queries, max(int(split.held.sum()), 1)), rng)
    graph_neighbours = cosine_knn(node_vectors[graph_queries], node_vectors, k, exclude=graph_queries)

    precision = {space: precision_at_k(held_codes, sample_codes[n]) for space, n in neighbours.items()}
    precision["graph"] = precision_at_k(sample_codes[graph_queries], sample_codes[graph_neighbours])
    ndcg = {space: ndcg_at_k(held_codes, sample_codes, n) for space, n in neighbours.items()}
    ndcg["graph"] = ndcg_at_k(sample_codes[graph_queries], sample_codes, graph_neighbours, exclude=graph_queries)

    recall_queries = _subsample(with_image, options.max_queries, rng)
    recall_features = (
        split.photo_features(np.flatnonzero(split.sample)[recall_queries]) if linker.photo_features else None
    )
    recall = own_vector_recall(
        linker.translate(sample_images[recall_queries], recall_features), node_vectors, recall_queries, k
    )
    metrics = retrained.linker_metrics
    linker = {
        "kind": linker_params.kind,
        **{
            name: metrics[name]
            for name in ("val_mse", "val_mse_mean_predictor", "val_cosine", "train_cosine", "epochs")
            if name in metrics
        },
        "recall_at_k": round(recall, 4),
        "recall_chance": round(k / len(node_vectors), 4),
    }
    arithmetic = arithmetic_trials(
        translated,
        held_codes,
        node_vectors,
        sample_codes,
        retrained.attributes,
        split.vocabularies,
        k,
        options.arithmetic_trials,
        rng,
        held_images,
        pool_images,
        replace_own=options.replace_own,
        band=options.band,
    )
    arithmetic["multi_term"] = multi_term_arithmetic(
        translated,
        held_codes,
        node_vectors,
        sample_codes,
        retrained.attributes,
        split.vocabularies,
        MULTI_RESULTS,
        rng,
        held_images,
        pool_images,
        replace_own=options.replace_own,
        band=options.band,
    )
    inferred = infer_top1(translated, retrained.attributes, split.vocabularies, probabilities)
    return {
        "precision": {space: _by_column(precision[space]) for space in SPACES},
        "ndcg": {space: round(ndcg[space], 4) for space in SPACES},
        "linker": linker,
        "arithmetic": arithmetic,
        "inference": {column: accuracy(inferred[:, c], held_codes[:, c]) for c, column in enumerate(ATTRIBUTE_COLUMNS)},
        "inference_majority": {
            column: accuracy(np.full(len(held_codes), commonest(sample_codes[:, c])), held_codes[:, c])
            for c, column in enumerate(ATTRIBUTE_COLUMNS)
        },
    }


def _override(params, overrides: dict):
    return replace(params, **{name: value for name, value in overrides.items() if value is not None})


def _recorded_linker(record: dict) -> LinkerParams:
    if not record:
        raise CatalogError("this database has no trained linker (no product has a photo); nothing to evaluate")
    return LinkerParams.from_dict(record)


def load_catalog(store: Store) -> pd.DataFrame:
    """id, the attribute columns, has_image, image_vector, thumbnail and photo features (None where
    not stored) of every product, sorted by id."""
    table = store.table("products").to_arrow()
    stored = [FEATURES_COLUMN] if FEATURES_COLUMN in table.schema.names else []
    columns = ["id", *ATTRIBUTE_COLUMNS, "has_image", "image_vector", "thumbnail", *stored]
    frame = table.select(columns).sort_by("id").to_pandas()
    if not stored:  # a table written before the features were stored
        frame[FEATURES_COLUMN] = None
    for column in ATTRIBUTE_COLUMNS:
        frame[column] = frame[column].fillna("").astype(object)
    return frame


def attribute_codes(catalog: pd.DataFrame) -> tuple[np.ndarray, list[list[str]]]:
    """Attribute values as int32 codes (products x columns), -1 for an empty cell; and the values per column."""
    codes = np.full((len(catalog), len(ATTRIBUTE_COLUMNS)), -1, dtype=np.int32)
    vocabularies = []
    for c, column in enumerate(ATTRIBUTE_COLUMNS):
        cells = np.array([str(v).strip() for v in catalog[column].to_numpy(dtype=object)], dtype=object)
        present = np.flatnonzero(cells != "")
        values, inverse = np.unique(cells[present].astype(str), return_inverse=True)
        codes[present, c] = inverse
        vocabularies.append(values.tolist())
    return codes, vocabularies


def holdout_mask(has_image: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A seeded choice of round(share x products with photos) products, as a boolean mask."""
    candidates = np.flatnonzero(has_image)
    count = int(round(len(candidates) * share))
    if not 0 < share < 1 or count < 1 or count > len(candidates) - 2:
        raise CatalogError(
            f"--holdout {share} of {len(candidates)} products with photos leaves nothing to "
            "hold out or too little to train on"
        )
    mask = np.zeros(len(has_image), dtype=bool)
    mask[np.random.default_rng(seed).choice(candidates, size=count, replace=False)] = True
    return mask


def _subsample(indices: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    if len(indices) <= count:
        return indices
    return np.sort(rng.choice(indices, size=count, replace=False))


# -- neighbours ------------------------------------------------------------------------------


# -- metrics -----------------------------------------------------------------------------------


def infer_top1(
    vectors: np.ndarray,
    attributes: list[Attribute],
    vocabularies: list[list[str]],
    probabilities: list[dict | None] | None = None,
) -> np.ndarray:
    """Per translated vector and column, the code of the value `search.infer_photo` puts first
    (-1 if none): the linker's classifiers' likeliest (`probabilities`, one per vector) where it
    has them, else the nearest attribute vector.

    Scoring the library function itself means the accuracy is that of what `catalog infer` shows.
    """
    index = [{value: code for code, value in enumerate(values)} for values in vocabularies]
    out = np.full((len(vectors), len(ATTRIBUTE_COLUMNS)), -1, dtype=np.int32)
    for row, vector in enumerate(vectors):
        inferred = infer_photo(probabilities[row] if probabilities is not None else None, vector, attributes, top=1)
        for c, column in enumerate(ATTRIBUTE_COLUMNS):
            best = inferred.get(column) or []
            if best:
                out[row, c] = index[c].get(best[0][0], -1)
    return out


def _by_column(values: np.ndarray) -> dict[str, float]:
    return {column: round(float(v), 4) for column, v in zip(ATTRIBUTE_COLUMNS, values)}


# -- arithmetic ------------------------------------------------------------------------------


def arithmetic_trials(
    base_vectors: np.ndarray,
    base_codes: np.ndarray,
    node_vectors: np.ndarray,
    pool_codes: np.ndarray,
    attributes: list[Attribute],
    vocabularies: list[list[str]],
    k: int,
    trials: int,
    rng: np.random.Generator,
    base_images: np.ndarray | None = None,
    pool_images: np.ndarray | None = None,
    replace_own: bool = True,
    band: bool = True,
) -> dict:
    """`item + value − item's value` of a baseColour or subCategory, for sampled items and values.

    Added values are drawn among those at least k pool products carry, so a perfect answer exists.
    Success: share of the k results carrying the added value. Kept: share of the item's other
    (non-empty) attribute values the results keep — for a category swap, the category columns
    are not counted, since Shoes are never Topwear's articleType; `kept_by_column` splits it by
    column. `kept_without_arithmetic` is the same share for the plain query, the ceiling
    arithmetic works under. With `base_images`/`pool_images` (photo vectors), products that tie
    are ordered by photo closeness, as search does (docs/graph-space.md).
    """
    by_key = {(a.column, a.value): a for a in attributes}
    per_column = {column: {"success": [], "kept": [], "kept_plain": []} for column in ARITHMETIC_COLUMNS}
    kept_by_column: dict[str, list[float]] = {column: [] for column in ATTRIBUTE_COLUMNS}
    candidates = {}
    for column in ARITHMETIC_COLUMNS:
        c = ATTRIBUTE_COLUMNS.index(column)
        counts = np.bincount(pool_codes[:, c][pool_codes[:, c] >= 0], minlength=len(vocabularies[c]))
        candidates[column] = [code for code in np.flatnonzero(counts >= k) if (column, vocabularies[c][code]) in by_key]
    ranker = _Ranker(node_vectors, pool_images)
    for _trial in range(trials if len(base_vectors) else 0):
        item = int(rng.integers(len(base_vectors)))
        column = ARITHMETIC_COLUMNS[int(rng.integers(len(ARITHMETIC_COLUMNS)))]
        c = ATTRIBUTE_COLUMNS.index(column)
        own = int(base_codes[item, c])
        removed = by_key.get((column, vocabularies[c][own])) if own >= 0 else None
        choices = [code for code in candidates[column] if code != own]
        if removed is None or not choices:
            continue
        added_code = int(choices[int(rng.integers(len(choices)))])
        added = by_key[(column, vocabularies[c][added_code])]
        tie = base_images[item] if base_images is not None else None
        terms = [Term(added, 1.0), Term(removed, -1.0)]
        if replace_own:
            terms = replacing(base_vectors[item], terms, attributes)
        results = ranker.top(compose(base_vectors[item], terms), k, tie, base_vectors[item] if band else None)
        plain = ranker.top(base_vectors[item], k, tie)
        others = [
            o
            for o in range(len(ATTRIBUTE_COLUMNS))
            if o != c
            and base_codes[item, o] >= 0
            and not (column in CATEGORY_COLUMNS and ATTRIBUTE_COLUMNS[o] in CATEGORY_COLUMNS)
        ]
        stats = per_column[column]
        stats["success"].append(float((pool_codes[results, c] == added_code).mean()))
        stats["kept"].append(
            float((pool_codes[results][:, others] == base_codes[item, others]).mean()) if others else np.nan
        )
        stats["kept_plain"].append(
            float((pool_codes[plain][:, others] == base_codes[item, others]).mean()) if others else np.nan
        )
        for o in others:
            kept_by_column[ATTRIBUTE_COLUMNS[o]].append(float((pool_codes[results, o] == base_codes[item, o]).mean()))

    def summary(stats: dict) -> dict:
        n = len(stats["success"])
        mean = lambda xs: round(float(np.nanmean(xs)), 4) if n else float("nan")  # noqa: E731
        return {
            "success": mean(stats["success"]),
            "kept": mean(stats["kept"]),
            "kept_without_arithmetic": mean(stats["kept_plain"]),
            "trials": n,
        }

    every = {
        name: sum((per_column[c][name] for c in ARITHMETIC_COLUMNS), []) for name in ("success", "kept", "kept_plain")
    }
    return {
        **summary(every),
        "kept_by_column": {c: _mean(v) for c, v in kept_by_column.items() if v},
        "by_column": {column: summary(per_column[column]) for column in ARITHMETIC_COLUMNS},
    }


# The multi-term case: the paper's showcase (+Green +Shoes −Topwear) as a measurement.
MULTI_ITEMS = 25  # items per target, as the showcase was judged: 25 items x 6 results
MULTI_RESULTS = 6  # results per query, whatever -k: the paper's appendix shows 6
MULTI_TARGETS = 8  # colour + subCategory targets sampled
MULTI_MIN_PRODUCTS = 40  # targets carried by at least this many products when the catalog has any
UNTOUCHED_COLUMNS = ("gender", "season", "year", "usage")  # what `+colour +subCategory` leaves alone


def multi_term_arithmetic(
    base_vectors: np.ndarray,
    base_codes: np.ndarray,
    node_vectors: np.ndarray,
    pool_codes: np.ndarray,
    attributes: list[Attribute],
    vocabularies: list[list[str]],
    k: int,
    rng: np.random.Generator,
    base_images: np.ndarray | None = None,
    pool_images: np.ndarray | None = None,
    items: int = MULTI_ITEMS,
    targets: int = MULTI_TARGETS,
    replace_own: bool = True,
    band: bool = True,
) -> dict:
    """`item + colour + subCategory − item's own subCategory` for groups of items sharing a target.

    Targets are (colour, subCategory) pairs that at least MULTI_MIN_PRODUCTS pool products carry
    (or, in a small catalog without such pairs, at least k), so that many different good answers
    exist; each is queried from up to `items` items of another subCategory. Success: the share of
    results carrying every added value. Distinct: different products among a target's items x k
    results (one list for every item scores 1/items of the results). Kept: per untouched column
    (gender, season, year, usage), the share of results with the item's value, beside the plain
    query's share.
    """
    colour, sub = ATTRIBUTE_COLUMNS.index("baseColour"), ATTRIBUTE_COLUMNS.index("subCategory")
    by_key = {(a.column, a.value): a for a in attributes}
    known = (pool_codes[:, colour] >= 0) & (pool_codes[:, sub] >= 0)
    pairs, counts = np.unique(pool_codes[known][:, [colour, sub]], axis=0, return_counts=True)
    usable = [
        (int(a), int(b), int(n))
        for (a, b), n in zip(pairs, counts)
        if ("baseColour", vocabularies[colour][a]) in by_key and ("subCategory", vocabularies[sub][b]) in by_key
    ]
    floor = MULTI_MIN_PRODUCTS if any(n >= MULTI_MIN_PRODUCTS for *_, n in usable) else k
    usable = [pair for pair in usable if pair[2] >= floor]
    k = min(k, len(pool_codes))
    ranker = _Ranker(node_vectors, pool_images)
    success: list[float] = []
    distinct: list[float] = []
    carriers: list[int] = []
    kept: dict[str, list[float]] = {column: [] for column in UNTOUCHED_COLUMNS}
    kept_plain: dict[str, list[float]] = {column: [] for column in UNTOUCHED_COLUMNS}
    untouched = [ATTRIBUTE_COLUMNS.index(column) for column in UNTOUCHED_COLUMNS]
    if usable and len(base_vectors):
        for index in rng.choice(len(usable), size=min(targets, len(usable)), replace=False):
            add_colour, add_sub, carried = usable[int(index)]
            eligible = np.flatnonzero((base_codes[:, sub] >= 0) & (base_codes[:, sub] != add_sub))
            eligible = [i for i in eligible if ("subCategory", vocabularies[sub][base_codes[i, sub]]) in by_key]
            if not eligible:
                continue
            chosen = rng.choice(eligible, size=min(items, len(eligible)), replace=False)
            plus = [
                by_key[("baseColour", vocabularies[colour][add_colour])],
                by_key[("subCategory", vocabularies[sub][add_sub])],
            ]
            seen: set[int] = set()
            for item in chosen:
                minus = by_key[("subCategory", vocabularies[sub][base_codes[item, sub]])]
                tie = base_images[item] if base_images is not None else None
                terms = [Term(plus[0], 1.0), Term(plus[1], 1.0), Term(minus, -1.0)]
                if replace_own:  # the colour's own value goes too (the subCategory's is already subtracted)
                    terms = replacing(base_vectors[item], terms, attributes)
                results = ranker.top(compose(base_vectors[item], terms), k, tie, base_vectors[item] if band else None)
                plain = ranker.top(base_vectors[item], k, tie)
                seen.update(int(r) for r in results)
                success.append(
                    float(((pool_codes[results, colour] == add_colour) & (pool_codes[results, sub] == add_sub)).mean())
                )
                for column, o in zip(UNTOUCHED_COLUMNS, untouched):
                    if base_codes[item, o] >= 0:
                        kept[column].append(float((pool_codes[results, o] == base_codes[item, o]).mean()))
                        kept_plain[column].append(float((pool_codes[plain, o] == base_codes[item, o]).mean()))
            distinct.append(len(seen) / (len(chosen) * k))
            carriers.append(carried)
    every_kept = [x for column in UNTOUCHED_COLUMNS for x in kept[column]]
    every_plain = [x for column in UNTOUCHED_COLUMNS for x in kept_plain[column]]
    return {
        "success": _mean(success),
        "distinct": _mean(distinct),  # share of results that are different products, per target
        "distinct_per_150": round(_mean(distinct) * 150, 1) if distinct else float("nan"),  # 25 items x 6 results
        "kept": _mean(every_kept),
        "kept_without_arithmetic": _mean(every_plain),
        "kept_by_column": {column: _mean(kept[column]) for column in UNTOUCHED_COLUMNS},
        "kept_without_arithmetic_by_column": {column: _mean(kept_plain[column]) for column in UNTOUCHED_COLUMNS},
        "targets": len(distinct),
        "queries": len(success),
        "products_per_target": _mean(carriers),
    }


def _mean(values) -> float:
    return round(float(np.mean(values)), 4) if len(values) else float("nan")


class _Ranker:
    """Top k of a pool by cosine; ties (one attribute combination on the collapsed graph) ordered
    by photo closeness to the query's photo, then photo-less products last, as search orders them."""

    def __init__(self, node_vectors: np.ndarray, pool_images: np.ndarray | None):
        self.pool = unit(node_vectors)
        self.images = unit(pool_images) if pool_images is not None else None
        self.photoless = (np.linalg.norm(pool_images, axis=1) == 0) if pool_images is not None else None

    def top(
        self,
        query: np.ndarray,
        k: int,
        tie: np.ndarray | None = None,
        item: np.ndarray | None = None,
        preferences: np.ndarray | None = None,
    ) -> np.ndarray:
        if preferences is not None:  # Rec: the query's first REC_POOL ordered by the classifiers, as search does
            candidates = self.top(query, min(max(k, REC_POOL), len(self.pool)), tie)
            return candidates[preference_order(preferences[candidates])[:k]]
        if item is not None:  # arithmetic: the band of the query ordered by the item, as search does
            candidates = self.top(query, min(max(k, ARITHMETIC_POOL), len(self.pool)), tie)
            query_unit, item_unit = unit(np.asarray(query)[None, :])[0], unit(np.asarray(item)[None, :])[0]
            order = band_order(self.pool[candidates] @ query_unit, self.pool[candidates] @ item_unit)
            return candidates[order[:k]]
        scores = self.pool @ unit(np.asarray(query)[None, :])[0]
        if tie is None or self.images is None:
            return _top_k_scores(scores, k)
        kth = np.partition(-scores, k - 1)[k - 1]
        candidates = np.flatnonzero(-scores <= kth + 1e-6)  # the top k and everything tied with the k-th
        closeness = np.where(self.photoless[candidates], -np.inf, self.images[candidates] @ unit(tie[None, :])[0])
        rounded = np.round(scores[candidates] / 1e-6)  # cosines within float noise are one tie
        order = np.lexsort((candidates, -closeness, -rounded))[:k]
        return candidates[order]


def _preference_scores(
    preferences: dict[str, dict[str, float]] | None, codes: np.ndarray, vocabularies: list[list[str]]
) -> np.ndarray | None:
    """Every pool product's preference score (`search.coded_preferences`), from its value codes."""
    if preferences is None:
        return None
    position = {column: c for c, column in enumerate(ATTRIBUTE_COLUMNS)}
    return coded_preferences(preferences, lambda column: (vocabularies[position[column]], codes[:, position[column]]))


def _top_k_scores(scores: np.ndarray, k: int) -> np.ndarray:
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


# -- the saved run -------------------------------------------------------------------------------


def _storage(database):
    """A Store's location, or that of a database path, URI or DbLocation."""
    from catalog.store.storage import open_storage

    return database.storage if hasattr(database, "storage") else open_storage(database)


def save_evaluation(database, document: dict) -> Path | str:
    """Write the eval document beside the tables (whole or not at all, replacing the previous one).

    `database`: a Store, or a database path, URI or DbLocation. Returns where it went."""
    storage = _storage(database)
    storage.write_bytes(EVAL_FILE, json.dumps(document, indent=1).encode())
    return storage.root / EVAL_FILE if storage.is_local else f"{storage}/{EVAL_FILE}"


def load_evaluation(database) -> dict:
    storage = _storage(database)
    where = f"{storage}/{EVAL_FILE}"
    try:
        document = json.loads(storage.read_bytes(EVAL_FILE))
    except FileNotFoundError:
        raise CatalogError(f"no eval run saved in {storage} (run `catalog eval` first)") from None
    except (OSError, ValueError) as error:
        raise CatalogError(f"cannot read {where}: {error}") from None
    if not isinstance(document, dict) or "precision" not in document:
        raise CatalogError(f"{where} is not a `catalog eval` result")
    return document
