"""catalog eval: metrics whose right answers are known by construction, a leak-free split, the CLI."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

import catalog.evaluate.evaluation as evaluate_module
from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.core.ranking import best_hits
from catalog.evaluate.arithmetic import _BestHits, _spread_most
from catalog.evaluate.evaluation import (
    EVAL_FILE,
    ArithmeticSetup,
    EvalOptions,
    arithmetic_trials,
    attribute_codes,
    cosine_knn,
    evaluate,
    holdout_mask,
    infer_top1,
    multi_term_arithmetic,
    ndcg_at_k,
    own_vector_recall,
    precision_at_k,
    random_neighbours,
)
from catalog.query.search import Attribute
from catalog.store.database import Store
from tests.conftest import FAKE_ENCODER, FAST_INGEST
from tests.conftest import run_cli as run

# Quick retraining for the tests: few walks, few linker epochs.
QUICK = ["--walks", "20", "--walk-length", "20", "--epochs", "5", "--trials", "40"]


@pytest.fixture(scope="module")
def db(tmp_path_factory, demo_catalog):
    path = tmp_path_factory.mktemp("eval") / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
        run("ingest", "--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--db", path, *FAST_INGEST)
    return path


# -- metric functions on hand-made neighbour lists ----------------------------------------------


def test_precision_counts_shared_values_and_skips_empty_query_cells():
    queries = np.array([[0, 1], [2, -1]])
    neighbours = np.array([[[0, 1], [0, 2]], [[2, 5], [3, -1]]])  # (queries, k=2, columns)
    # column 0: query 0 shares 2/2, query 1 shares 1/2; column 1: only query 0 counts (1/2),
    # and query 1's empty cell must not "match" its neighbour's empty cell.
    assert precision_at_k(queries, neighbours).tolist() == [0.75, 0.5]
    assert math.isnan(precision_at_k(np.array([[-1]]), np.array([[[-1]]]))[0])


def test_ndcg_is_one_for_the_ideal_order_and_exact_otherwise():
    query = np.array([[0, 0]])
    pool = np.array([[0, 0], [0, 1], [1, 1]])  # relevance 2, 1, 0
    assert ndcg_at_k(query, pool, np.array([[0, 1]])) == pytest.approx(1.0)
    swapped = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg_at_k(query, pool, np.array([[1, 0]])) == pytest.approx(swapped)
    assert ndcg_at_k(query, pool, np.array([[2, 1]])) == pytest.approx((1 / math.log2(3)) / (2 + 1 / math.log2(3)))
    # In-catalog: with pool row 0 being the query itself (excluded), rows 1 then 2 is the best there is.
    assert ndcg_at_k(query, pool, np.array([[1, 2]]), exclude=np.array([0])) == pytest.approx(1.0)


def test_cosine_knn_orders_by_cosine_and_honours_exclusions():
    pool = np.array([[1, 0], [0, 1], [1, 1], [10, 1]], dtype=np.float32)
    assert cosine_knn(np.array([[1, 0]]), pool, 2).tolist() == [[0, 3]]  # length does not matter
    assert cosine_knn(pool[:1], pool, 2, exclude=np.array([0])).tolist() == [[3, 2]]


def test_perfect_linker_recalls_every_own_vector_and_a_shuffled_one_is_near_chance():
    rng = np.random.default_rng(0)
    nodes = rng.normal(size=(400, 32)).astype(np.float32)
    own = np.arange(400)
    assert own_vector_recall(nodes, nodes, own, k=10) == 1.0
    shuffled = nodes[rng.permutation(400)]
    assert own_vector_recall(shuffled, nodes, own, k=10) < 0.1  # chance is 10/400


def test_random_space_scores_chance():
    """In a space unrelated to the attributes, precision is the chance two products share a value."""
    rng = np.random.default_rng(1)
    pool_codes = (rng.random((3000, 1)) < 0.3).astype(np.int32)  # value 1 for 30%, 0 for 70%
    query_codes = (rng.random((600, 1)) < 0.3).astype(np.int32)
    chance = 0.3 * 0.3 + 0.7 * 0.7
    knn = cosine_knn(rng.normal(size=(600, 16)), rng.normal(size=(3000, 16)), 10)
    picks = random_neighbours(600, 3000, 10, rng)
    for neighbours in (knn, picks):
        assert precision_at_k(query_codes, pool_codes[neighbours])[0] == pytest.approx(chance, abs=0.03)
    assert len(set(picks[0].tolist())) == 10  # distinct picks per query


# -- a graph space built so that arithmetic and inference have known answers --------------------


def _designed_space(reps: int):
    """Products = every (colour, subCategory, gender) combination `reps` times; the other columns are
    constant. Each attribute value gets its own orthonormal vector and a product's node vector is the
    sum of its values' vectors, so a perfect linker and perfect arithmetic are available."""
    values = {column: [f"{column}-a"] for column in ATTRIBUTE_COLUMNS}
    values["baseColour"] = ["Red", "Green", "Blue"]
    values["subCategory"] = ["Topwear", "Shoes", "Bags"]
    values["gender"] = ["Men", "Women"]
    keys = [(column, value) for column in ATTRIBUTE_COLUMNS for value in values[column]]
    basis = np.eye(len(keys), dtype=np.float32)
    attributes = [Attribute(f"{c}={v}", c, v, basis[n]) for n, (c, v) in enumerate(keys)]
    import pandas as pd

    combos = list(itertools.product(*(values[c] for c in ATTRIBUTE_COLUMNS))) * reps
    catalog = pd.DataFrame(combos, columns=list(ATTRIBUTE_COLUMNS))
    codes, vocabularies = attribute_codes(catalog)
    index = {key: n for n, key in enumerate(keys)}
    vectors = np.stack(
        [sum(basis[index[(c, row[c])]] for c in ATTRIBUTE_COLUMNS) for row in catalog.to_dict("records")]
    )
    return codes, vocabularies, vectors.astype(np.float32), attributes


def test_arithmetic_on_a_designed_space_succeeds_and_keeps_everything_else():
    k = 5
    codes, vocabularies, vectors, attributes = _designed_space(reps=k)
    items = np.arange(18)  # one of each combination, queried as new photos with their exact vectors
    setup = ArithmeticSetup(vectors[items], codes[items], vectors, codes, attributes, vocabularies)
    result = arithmetic_trials(setup, k, 60, np.random.default_rng(0))
    assert result["trials"] == 60
    assert result["success"] == 1.0 and result["kept"] == 1.0 and result["kept_without_arithmetic"] == 1.0
    assert {c: s["trials"] for c, s in result["by_column"].items()}.keys() == {"baseColour", "subCategory"}

    # The same queries against a space whose colours are mislabelled must fail: the metric can see it.
    colour = ATTRIBUTE_COLUMNS.index("baseColour")
    wrong = codes.copy()
    wrong[:, colour] = (wrong[:, colour] + 1) % 3
    broken = arithmetic_trials(replace(setup, pool_codes=wrong), k, 60, np.random.default_rng(0))
    assert broken["by_column"]["baseColour"]["success"] < 0.5


def test_the_best_hits_ceiling_counts_what_tie_breaks_could_spread():
    """Two queries tied over the same two rows, one place each: a fixed tie-break returns one row
    twice, the spreading one both; rows sure for one query are not counted again when tied in another."""
    rows = np.array
    both = [_BestHits(rows([], int), 1, rows([7, 8])), _BestHits(rows([], int), 1, rows([7, 8]))]
    assert _spread_most(both) == 2
    assert _spread_most(both[:1]) == 1
    assert _spread_most([_BestHits(rows([7]), 1, rows([8, 9])), _BestHits(rows([], int), 2, rows([7, 9]))]) == 3
    assert _spread_most([_BestHits(rows([1, 2]), 0, rows([], int))]) == 2
    # The best hits of a pool: carried first, then kept; ties at the k-th place are tied, not sure.
    sure, tied = best_hits(rows([2.0, 2.0, 2.0, 1.0]), rows([1.0, 0.5, 0.5, 9.0]), k=2)
    assert sure.tolist() == [True, False, False, False] and tied.tolist() == [False, True, True, False]
    assert best_hits(rows([1.0, 2.0]), rows([0.0, 0.0]), k=3)[0].all()  # room for every candidate
    assert not best_hits(rows([1.0, 2.0]), rows([0.0, 0.0]), k=0)[0].any()


def test_multi_term_arithmetic_on_a_designed_space():
    k = 5
    codes, vocabularies, vectors, attributes = _designed_space(reps=10)  # each combination 10 times
    items = np.arange(18)
    setup = ArithmeticSetup(vectors[items], codes[items], vectors, codes, attributes, vocabularies)
    result = multi_term_arithmetic(setup, k, np.random.default_rng(0))
    assert result["queries"] > 0 and result["success"] == 1.0  # colour and subCategory both arrive
    assert result["kept_by_column"]["gender"] == 1.0 and result["kept"] == 1.0
    assert result["products_per_target"] == 20  # (colour, subCategory) pairs: 2 genders x 10 twins
    # Twins tie; unordered, every item of one gender gets the same 5. Ordered by photo closeness,
    # items with different photos get different twins: more distinct products, same success.
    rng = np.random.default_rng(1)
    photos = rng.normal(size=(len(vectors), 8))
    by_photo = multi_term_arithmetic(
        replace(setup, base_images=photos[items], pool_images=photos), k, np.random.default_rng(0)
    )
    assert by_photo["success"] == 1.0 and by_photo["distinct"] > result["distinct"]
    assert by_photo["distinct_per_150"] == pytest.approx(by_photo["distinct"] * 150, abs=0.1)
    # The ceiling: each target's 20 carriers plus the 15% of its results allowed to miss, as different
    # products (per 150); with every result a carrier, distinct stays within the carriers.
    per_target = result["queries"] // result["targets"] * k
    assert result["queries"] % result["targets"] == 0 and per_target > 20
    ceiling = (20 + int(0.15 * per_target)) / per_target * 150
    assert result["distinct_ceiling_per_150"] == by_photo["distinct_ceiling_per_150"] == pytest.approx(ceiling, abs=0.1)
    assert by_photo["distinct"] <= 20 / per_target + 1e-9 and by_photo["distinct_per_150"] < ceiling
    # The best hits keep the item's gender: its 10 twins tie, and the 6 items of each gender have
    # places enough to cover all 10; so an order returning best hits reaches every carrier.
    best = 20 / per_target * 150
    assert result["distinct_ceiling_best_hits_per_150"] == by_photo["distinct_ceiling_best_hits_per_150"]
    assert result["distinct_ceiling_best_hits_per_150"] == pytest.approx(best, abs=0.1)
    # Here the bound is every carrier, so any order whose results all carry the values stays within it.
    assert result["distinct_per_150"] < by_photo["distinct_per_150"] <= best + 1e-6
    # The kept ceiling: 10 carriers of the item's gender, so 12 results can keep it 10 times at most.
    wide = multi_term_arithmetic(setup, 12, np.random.default_rng(0))
    assert result["kept_ceiling_by_column"]["gender"] == 1.0
    assert wide["kept_ceiling_by_column"]["gender"] == pytest.approx(10 / 12, abs=1e-4)
    assert wide["kept_by_column"]["gender"] <= wide["kept_ceiling_by_column"]["gender"]

    # Mislabelled colours in the pool: the added colour no longer arrives, and the metric sees it.
    colour = ATTRIBUTE_COLUMNS.index("baseColour")
    wrong = codes.copy()
    wrong[:, colour] = (wrong[:, colour] + 1) % 3
    broken = multi_term_arithmetic(replace(setup, pool_codes=wrong), k, np.random.default_rng(0))
    assert broken["success"] < 0.5


def test_inference_reads_each_products_own_values():
    codes, vocabularies, vectors, attributes = _designed_space(reps=1)
    assert (infer_top1(vectors, attributes, vocabularies) == codes).all()


def test_holdout_is_seeded_and_only_takes_products_with_photos():
    has_image = np.array([True] * 50 + [False] * 10)
    mask = holdout_mask(has_image, 0.1, seed=3)
    assert mask.sum() == 5 and not mask[50:].any()
    assert (holdout_mask(has_image, 0.1, seed=3) == mask).all()
    assert (holdout_mask(has_image, 0.1, seed=4) != mask).any()
    with pytest.raises(CatalogError, match="holdout"):
        holdout_mask(has_image, 0.001, seed=0)


# -- the run: held-out products never reach training ---------------------------------------------


def test_held_out_products_never_reach_graph_or_linker_training(db, monkeypatch):
    seen = {}
    real_catalog_graph, real_train_linker = evaluate_module.catalog_graph, evaluate_module.train_linker

    def spy_catalog_graph(rows, *args, **kwargs):
        seen["graph_ids"] = set(rows["id"].tolist())
        return real_catalog_graph(rows, *args, **kwargs)

    def spy_train_linker(image_vectors, node_vectors, *args, **kwargs):
        seen["linker_inputs"] = np.array(image_vectors)
        return real_train_linker(image_vectors, node_vectors, *args, **kwargs)

    monkeypatch.setattr(evaluate_module, "catalog_graph", spy_catalog_graph)
    monkeypatch.setattr(evaluate_module, "train_linker", spy_train_linker)
    store = Store.open(db)
    options = EvalOptions(
        holdout=0.2,
        seed=5,
        arithmetic_trials=10,
        node2vec_overrides={"num_walks": 5, "walk_length": 8},
        linker_overrides={"epochs": 3},
    )
    result = evaluate(store, options)

    products = store.table("products").to_arrow().to_pandas()
    with_photo = products[products["has_image"]]
    held = set(result.held_out_ids)
    assert len(held) == round(0.2 * len(with_photo)) == result.holdout
    assert held <= set(with_photo["id"])
    assert seen["graph_ids"] == set(products["id"]) - held  # everything else stays in the graph
    held_vectors = np.stack(with_photo[with_photo["id"].isin(held)]["image_vector"].to_numpy())
    trained = seen["linker_inputs"]
    assert len(trained) == len(with_photo) - len(held)
    assert not (trained[:, None, :] == held_vectors[None, :, :]).all(axis=2).any()


# -- the command ----------------------------------------------------------------------------------


def test_eval_json_document_and_saved_run(db):
    out = run("eval", "--db", db, "--json", "--holdout", "0.3", *QUICK)
    doc = json.loads(out.stdout)  # exactly one document on stdout
    assert doc["k"] == 10 and doc["holdout"] == round(0.3 * (120 - 2))  # the demo lacks 2 photos
    assert set(doc["precision"]) == {"rec", "image", "graph", "random"}
    for _space, columns in doc["precision"].items():
        assert set(columns) == set(ATTRIBUTE_COLUMNS)
        assert all(0 <= p <= 1 for p in columns.values() if p is not None)
    assert set(doc["ndcg"]) == {"rec", "image", "graph", "random"}
    # The graph space is built from the attributes it is scored on: far above random picks.
    assert doc["precision"]["graph"]["masterCategory"] > doc["precision"]["random"]["masterCategory"] + 0.2
    assert {"val_mse", "val_cosine", "recall_at_k", "kind"} <= set(doc["linker"])
    # Fewer photos than LINKER_SAMPLE: the linker trained on every in-sample photo, and says so.
    assert doc["linker"]["sample"]["trained_on"] == doc["linker"]["sample"]["photos"] == 118 - doc["holdout"]
    assert {"success", "kept", "trials", "kept_by_column"} <= set(doc["arithmetic"]) and doc["arithmetic"]["trials"] > 0
    multi = doc["arithmetic"]["multi_term"]
    assert multi["queries"] > 0 and 0 <= multi["success"] <= 1 and 0 < multi["distinct"] <= 1
    assert set(multi["kept_by_column"]) == {"gender", "season", "year", "usage"}
    assert set(doc["inference"]) == set(ATTRIBUTE_COLUMNS)
    assert doc["settings"]["arithmetic_band"] is True  # arithmetic measured as `catalog query` returns it
    assert doc["settings"]["rec_order"] is True  # Rec measured as `similar` returns it: the classifiers' order
    assert doc["settings"]["linker"]["photo_features"] is True  # the classifiers read the photo features
    assert json.loads((db / EVAL_FILE).read_text()) == doc


def test_eval_measures_the_previous_rec_beside_the_default(db):
    """`--cosine-order` and `--no-photo-features` (the defaults before) retrain and rank otherwise,
    on the same held-out photos."""
    args = ["eval", "--db", db, "--json", "--holdout", "0.3", "--trials", "0", *QUICK]
    default = json.loads(run(*args).stdout)
    before = json.loads(run(*args, "--cosine-order", "--no-photo-features").stdout)
    assert before["settings"]["rec_order"] is False and before["settings"]["linker"]["photo_features"] is False
    assert before["holdout"] == default["holdout"]
    assert before["precision"]["image"] == default["precision"]["image"]  # the image space does not change
    assert before["precision"]["rec"] != default["precision"]["rec"]


def test_eval_with_the_default_linker_never_imports_tensorflow(db):
    env = {**os.environ, "CATALOG_ENCODER": FAKE_ENCODER}
    code = (
        "import sys\nfrom catalog.cli.main import cli\n"
        "try:\n    cli(sys.argv[1:], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n"
    )
    args = ["eval", "--db", str(db), "--json", "--holdout", "0.3", *QUICK]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["linker"]["kind"] == "attributes"


def test_eval_table_and_paper_linker(db):
    out = run("eval", "--db", db, "--linker", "paper", "-k", "6", "--holdout", "0.3", "--query-order", *QUICK)
    assert "precision@6" in out.stdout and "nDCG@6" in out.stdout and "linker (paper)" in out.stdout
    assert "arithmetic, several terms" in out.stdout and "kept: share of results" in out.stdout
    saved = json.loads((db / EVAL_FILE).read_text())
    assert saved["linker"]["kind"] == "paper" and saved["settings"]["linker"]["kind"] == "paper"
    assert saved["settings"]["node2vec"]["num_walks"] == 20  # the override, not the recorded value
    assert saved["settings"]["arithmetic_band"] is False  # --query-order: arithmetic ranked by the query alone


@pytest.mark.parametrize(
    "args, message",
    [
        (["-k", "200"], "-k 200 needs more than 200"),
        (["--holdout", "0.001"], "--holdout"),
    ],
)
def test_eval_errors_are_one_line(db, args, message):
    out = run("eval", "--db", db, *args, *QUICK, ok=False)
    assert out.exit_code == 1 and message in out.output and len(out.output.strip().splitlines()) == 1


def test_eval_without_database(tmp_path):
    out = run("eval", "--db", tmp_path / "nothing", ok=False)
    assert out.exit_code == 1 and "no catalog database" in out.output
