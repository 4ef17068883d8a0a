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

Here: the options and the run (hold out, retrain, measure). Beside it: `split` (the catalog as
codes, the held-out choice), `ranker` (search's order on in-memory arrays), `arithmetic` (the
arithmetic figures) and `report` (the document, saved for `catalog plot eval`). Callers import
from this module; it re-exports what they use.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np

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
from catalog.core.ranking import DEFAULT_RANKING, RankingSettings
from catalog.core.ranking import cosine_top_k as cosine_knn
from catalog.core.spaces import EVAL_SPACES
from catalog.evaluate.arithmetic import (  # noqa: F401  (re-exported)
    MULTI_RESULTS,
    ArithmeticSetup,
    arithmetic_trials,
    catalog_item_values,
    multi_term_arithmetic,
)
from catalog.evaluate.ranker import Ranker, preference_scores
from catalog.evaluate.report import EVAL_FILE, Evaluation, load_evaluation, save_evaluation  # noqa: F401  (re-exported)
from catalog.evaluate.split import Split, attribute_codes, holdout_mask, load_catalog, split_catalog  # noqa: F401
from catalog.models.encoder import import_keras
from catalog.models.linker import LinkerParams, linker_sample, train_linker
from catalog.query.search import Attribute, infer_photo, rec_preferences, settings_of
from catalog.store.database import Store
from ingest.graph import attribute_values
from ingest.graph_space import Node2VecParams, catalog_graph, embed_graph, progress_total

SPACES = EVAL_SPACES
_Ranker = Ranker  # the name tests/test_search.py imports eval's ranker by


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
    # Changes to the ranking settings the database recorded (`RankingSettings.changed`: the Rec
    # weights, pools, band, the linker's column weights), measured without changing the database.
    ranking_overrides: dict = field(default_factory=dict)


class _QuietReporter:
    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator:
        yield lambda n=1: None


# -- the run ----------------------------------------------------------------------------------


@dataclass
class _Retrained:
    """The graph space and linker rebuilt on the in-sample products only."""

    node_vectors: np.ndarray  # in-sample products, in `Split.sample` order
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
    ranking = settings_of(store).changed(options.ranking_overrides)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    split = split_catalog(store, options.holdout, options.seed, options.k)
    seconds["load"] = time.perf_counter() - started
    retrained = _retrain(split, node2vec, linker_params, reporter, seconds, ranking)
    started = time.perf_counter()
    measures = _measure(split, retrained, linker_params, options, ranking)
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
            "ranking": ranking.to_dict(),
        },
        seconds={name: round(value, 2) for name, value in seconds.items()},
        held_out_ids=split.catalog.loc[split.held, "id"].astype(int).tolist(),
    )


# In this module, not beside the split: tests/test_evaluate.py spies on `catalog_graph` and
# `train_linker` here to check that no held-out product reaches training.
def _retrain(
    split: Split,
    node2vec: Node2VecParams,
    linker_params: LinkerParams,
    reporter,
    seconds: dict[str, float],
    ranking: RankingSettings = DEFAULT_RANKING,
) -> _Retrained:
    """node2vec and the linker on the in-sample products only, so nothing held out leaks in; the
    linker weighs its columns by `ranking.linker_weights`."""
    started = time.perf_counter()
    rows = split.catalog.loc[split.sample, ["id", *ATTRIBUTE_COLUMNS]].reset_index(drop=True)
    graph = catalog_graph(rows, node2vec)
    with reporter.stage("node2vec without held-out products", progress_total(graph, node2vec)) as progress:
        space = embed_graph(graph, node2vec, progress=progress)
    seconds["node2vec"] = time.perf_counter() - started
    # The graph keeps row order, so product vectors line up with `rows`.
    attributes = [
        Attribute(key, *split_key(key), vector) for key, vector in zip(graph.attribute_keys, space.attribute_vectors)
    ]

    started = time.perf_counter()
    if linker_params.kind != "attributes":  # the attributes linker is scikit-learn: no TensorFlow at all
        import_keras()  # train_linker imports Keras; this first import keeps TensorFlow's start-up chatter off stderr
    # The photos ingest would train on: every in-sample photo, or its seeded sample of at most
    # LINKER_SAMPLE (CATALOG_LINKER_SAMPLE), so eval measures what that limit costs.
    trained = linker_sample(np.flatnonzero(split.sample_has_image), linker_params.seed)
    sample_images = split.image_vectors[split.sample]
    features = None
    if linker_params.kind == "attributes" and linker_params.photo_features:
        features = split.photo_features(np.flatnonzero(split.sample)[trained])
    with reporter.stage(f"linker ({linker_params.kind}) without held-out products", linker_params.epochs) as progress:
        fit = train_linker(
            sample_images[trained],
            space.product_vectors[trained],
            linker_params,
            progress,
            values=attribute_values(rows.iloc[trained]),
            features=features,
            column_weights=ranking.linker_weights,
        )
    fit.metrics["sample"] = {"photos": int(split.sample_has_image.sum()), "trained_on": int(len(trained))}
    seconds["linker"] = time.perf_counter() - started
    return _Retrained(space.product_vectors, attributes, fit.linker, fit.metrics)


# -- measuring --------------------------------------------------------------------------------


@dataclass
class _HeldOut:
    """The held-out photos as queries: what the retrained linker reads off each, as off a new photo."""

    codes: np.ndarray  # their attribute value codes: the right answers
    images: np.ndarray  # their image vectors (the image space's queries; they order ties)
    translated: np.ndarray  # the linker's translation into the graph space (Rec's queries)
    probabilities: list[dict | None]  # per photo, the classifiers' value probabilities (None: no classifiers)


def _measure(
    split: Split,
    retrained: _Retrained,
    linker_params: LinkerParams,
    options: EvalOptions,
    ranking: RankingSettings = DEFAULT_RANKING,
) -> dict:
    """Query the held-out photos as new ones and score every space, the linker, arithmetic and inference.

    One seeded generator serves every sample, drawn from in this order (random picks, graph
    reference, linker recall, arithmetic): reordering the steps would change the figures.
    """
    rng = np.random.default_rng(options.seed)
    held_out = _read_held_out(split, retrained.linker)
    neighbours = _space_neighbours(split, retrained.node_vectors, held_out, options, rng, ranking)
    graph = _graph_reference(split, retrained.node_vectors, options, rng)
    precision, ndcg = _space_scores(split, held_out.codes, neighbours, graph)
    linker = _linker_figures(split, retrained, linker_params, options, rng)
    arithmetic = _arithmetic(split, retrained, held_out, options, rng, ranking)
    return {
        "precision": precision,
        "ndcg": ndcg,
        "linker": linker,
        "arithmetic": arithmetic,
        **_inference(split, retrained, held_out),
    }


def _read_held_out(split: Split, linker) -> _HeldOut:
    """Translate the held-out photos, and read each one's probabilities, as `query --image` does."""
    images = split.image_vectors[split.held]
    features = split.photo_features(np.flatnonzero(split.held)) if linker.photo_features else None
    translated = linker.translate(images, features)
    # One photo at a time: value_probabilities averages over the photos it is given (a query's items).
    probabilities = [
        linker.value_probabilities(image, None if features is None else features[n]) for n, image in enumerate(images)
    ]
    return _HeldOut(split.codes[split.held], images, translated, probabilities)


def _space_neighbours(
    split: Split,
    node_vectors: np.ndarray,
    held_out: _HeldOut,
    options: EvalOptions,
    rng: np.random.Generator,
    ranking: RankingSettings = DEFAULT_RANKING,
) -> dict[str, np.ndarray]:
    """Each held-out photo's k results per space, as in-sample positions: Rec (translated photo ->
    node vectors, its pool ordered by the classifiers as `similar` orders it), the image space
    (photo -> in-sample photos) and random picks, the floor."""
    k = options.k
    sample_images, with_image = split.image_vectors[split.sample], split.sample_with_image
    ranker = Ranker(node_vectors, split.pool_images, split.pool_ids, ranking)
    preferences = [
        rec_preferences(p, ranking) if p is not None and options.rec_order else None for p in held_out.probabilities
    ]
    sample_codes = split.codes[split.sample]
    rec = [
        ranker.top(query, k, tie, preferences=preference_scores(p, sample_codes, split.vocabularies))
        for query, tie, p in zip(held_out.translated, held_out.images, preferences)
    ]
    return {
        "rec": np.array(rec).reshape(-1, k),
        "image": with_image[cosine_knn(held_out.images, sample_images[with_image], k)],
        "random": random_neighbours(len(held_out.translated), len(node_vectors), k, rng),
    }


def _graph_reference(
    split: Split, node_vectors: np.ndarray, options: EvalOptions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The upper reference: in-sample products with a photo (as many as are held out, capped) and
    their k nearest other node vectors. The graph space is built from the very attributes scored;
    held-out products have no node vector, so in-sample ones stand in."""
    queries = _subsample(split.sample_with_image, min(options.max_queries, max(int(split.held.sum()), 1)), rng)
    return queries, cosine_knn(node_vectors[queries], node_vectors, options.k, exclude=queries)


def _space_scores(
    split: Split, held_codes: np.ndarray, neighbours: dict[str, np.ndarray], graph: tuple[np.ndarray, np.ndarray]
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """precision@k per space and column, and nDCG@k per space, rounded for the document."""
    sample_codes = split.codes[split.sample]
    graph_queries, graph_neighbours = graph
    precision = {space: precision_at_k(held_codes, sample_codes[n]) for space, n in neighbours.items()}
    precision["graph"] = precision_at_k(sample_codes[graph_queries], sample_codes[graph_neighbours])
    ndcg = {space: ndcg_at_k(held_codes, sample_codes, n) for space, n in neighbours.items()}
    ndcg["graph"] = ndcg_at_k(sample_codes[graph_queries], sample_codes, graph_neighbours, exclude=graph_queries)
    return (
        {space: _by_column(precision[space]) for space in SPACES},
        {space: round(ndcg[space], 4) for space in SPACES},
    )


def _linker_figures(
    split: Split, retrained: _Retrained, linker_params: LinkerParams, options: EvalOptions, rng: np.random.Generator
) -> dict:
    """The linker's own validation figures, and recall@k of an in-sample product's own node vector
    from its translated photo: how well it lands photos where their products are."""
    k, node_vectors, linker = options.k, retrained.node_vectors, retrained.linker
    queries = _subsample(split.sample_with_image, options.max_queries, rng)
    features = split.photo_features(np.flatnonzero(split.sample)[queries]) if linker.photo_features else None
    translated = linker.translate(split.image_vectors[split.sample][queries], features)
    recall = own_vector_recall(translated, node_vectors, queries, k)
    metrics = retrained.linker_metrics
    return {
        "kind": linker_params.kind,
        **{
            name: metrics[name]
            # `sample`: how many in-sample photos the linker trained on (LINKER_SAMPLE, as ingest).
            for name in ("val_mse", "val_mse_mean_predictor", "val_cosine", "train_cosine", "epochs", "sample")
            if name in metrics
        },
        "recall_at_k": round(recall, 4),
        "recall_chance": round(k / len(node_vectors), 4),
    }


def _arithmetic(
    split: Split,
    retrained: _Retrained,
    held_out: _HeldOut,
    options: EvalOptions,
    rng: np.random.Generator,
    ranking: RankingSettings = DEFAULT_RANKING,
) -> dict:
    """Arithmetic on the translated held-out photos against the in-sample node vectors: one value
    swapped (top k), then several terms (MULTI_RESULTS per query, as the paper shows them); then the
    several terms from in-sample catalog items (`query --id`: their values known, themselves never
    among their results), with a generator of their own so the photos' figures keep their draws."""
    setup = ArithmeticSetup(
        base_vectors=held_out.translated,
        base_codes=held_out.codes,
        node_vectors=retrained.node_vectors,
        pool_codes=split.codes[split.sample],
        attributes=retrained.attributes,
        vocabularies=split.vocabularies,
        base_images=held_out.images,
        pool_images=split.pool_images,
        pool_ids=split.pool_ids,
        replace_own=options.replace_own,
        band=options.band,
        ranking=ranking,
        base_values=held_out.probabilities,
    )
    arithmetic = arithmetic_trials(setup, options.k, options.arithmetic_trials, rng)
    arithmetic["multi_term"] = multi_term_arithmetic(setup, MULTI_RESULTS, rng)
    arithmetic["multi_term_ids"] = _catalog_items_arithmetic(split, retrained, setup, options)
    return arithmetic


def _catalog_items_arithmetic(
    split: Split, retrained: _Retrained, photos: ArithmeticSetup, options: EvalOptions
) -> dict:
    """The several-terms measurement from in-sample products with a photo, as `query --id` asks it:
    the item's stored translated vector (its photo through the linker), its catalog values kept."""
    rows = split.sample_with_image  # pool positions
    linker = retrained.linker
    features = split.photo_features(np.flatnonzero(split.sample)[rows]) if linker.photo_features else None
    images = split.image_vectors[split.sample][rows]
    codes = split.codes[split.sample][rows]
    setup = replace(
        photos,
        base_vectors=linker.translate(images, features),
        base_codes=codes,
        base_images=images,
        base_values=catalog_item_values(codes, split.vocabularies),
        base_rows=rows,
    )
    return multi_term_arithmetic(setup, MULTI_RESULTS, np.random.default_rng((options.seed, 22)))


def _inference(split: Split, retrained: _Retrained, held_out: _HeldOut) -> dict:
    """Top-1 accuracy per column of the attributes read off each held-out photo, beside always
    guessing the in-sample commonest value (a column with one dominant value scores high either way)."""
    held_codes, sample_codes = held_out.codes, split.codes[split.sample]
    inferred = infer_top1(held_out.translated, retrained.attributes, split.vocabularies, held_out.probabilities)
    return {
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


def _subsample(indices: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    if len(indices) <= count:
        return indices
    return np.sort(rng.choice(indices, size=count, replace=False))


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
