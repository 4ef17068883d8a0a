import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from gensim.models import Word2Vec

from ingest.graph import build_graph
from ingest.graph_space import (
    PAPER_PARAMS,
    Node2VecParams,
    _keep_probability,
    _read_walks,
    _spool_walks,
    _write_corpus,
    embed_graph,
    progress_total,
)
from ingest.walks import END, WalkBatches, sample_walks

# Small and quick; one worker so that gensim is deterministic. The default `sample` stays: on a
# graph this small it would thin product tokens to nothing, were they not protected.
TINY = Node2VecParams(num_walks=20, walk_length=10, window=4, workers=1)


def two_group_catalog() -> pd.DataFrame:
    """Blue men's shirts and red women's heels: no attribute value in common between the groups."""
    rows = []
    for i in range(12):
        rows.append(
            {
                "id": 100 + i,
                "gender": "Men",
                "articleType": "Shirts",
                "baseColour": ["Blue", "Navy Blue"][i % 2],
                "season": ["Summer", "Fall"][i % 3 == 0],
            }
        )
        rows.append(
            {
                "id": 200 + i,
                "gender": "Women",
                "articleType": "Heels",
                "baseColour": ["Red", "Pink"][i % 2],
                "season": ["Winter", "Spring"][i % 3 == 0],
            }
        )
    rows.append({"id": 999, "gender": "", "articleType": "", "baseColour": "", "season": ""})  # isolated
    return pd.DataFrame(rows)


COLUMNS = ("gender", "articleType", "baseColour", "season")


@pytest.fixture(scope="module")
def space_and_graph():
    graph = build_graph(two_group_catalog(), COLUMNS)
    return embed_graph(graph, TINY), graph


def test_vectors_cover_every_node_in_order(space_and_graph):
    space, graph = space_and_graph
    assert space.product_vectors.shape == (graph.num_products, 32)
    assert space.attribute_vectors.shape == (len(graph.attribute_keys), 32)
    assert space.product_vectors.dtype == np.float32 == space.attribute_vectors.dtype
    every = np.vstack([space.product_vectors, space.attribute_vectors])
    assert (np.linalg.norm(every, axis=1) > 1e-3).all()  # including the isolated product
    assert space.walks_seconds >= 0 and space.train_seconds > 0


def test_nearest_products_are_in_the_same_group(space_and_graph):
    space, graph = space_and_graph
    group = (graph.product_ids // 100)[:-1]  # 1 or 2; the isolated product left out
    vectors = space.product_vectors[:-1]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argsort(-sims, axis=1)[:, :5]
    assert (group[nearest] == group[:, None]).all()


def test_attribute_vectors_sit_near_their_products(space_and_graph):
    space, graph = space_and_graph
    heels = space.attribute_vectors[graph.attribute_keys.index("articleType=Heels")]
    unit = space.product_vectors / np.linalg.norm(space.product_vectors, axis=1, keepdims=True)
    closest = np.argsort(-(unit @ heels))[:6]
    assert (graph.product_ids[closest] // 100 == 2).all()


def test_progress_reports_walks_then_epochs():
    graph = build_graph(two_group_catalog(), COLUMNS)
    params = dataclasses.replace(TINY, num_walks=3, epochs=2)
    done = []
    space = embed_graph(graph, params, progress=done.append)
    # Collapsed: 3 walks per combination and attribute node, sampled then trained twice.
    assert sum(done) == progress_total(graph, params) == 3 * space.nodes_embedded * 3
    assert space.nodes_embedded == 9 + len(
        graph.attribute_keys
    )  # 4 shirt and 4 heel combinations, the isolated product


def test_corpus_file_holds_the_walks_as_tokens(tmp_path):
    walks = np.array([[3, 10, 4, 10], [11, END, END, END], [0, 2, 0, 2]], dtype=np.int32)
    path = tmp_path / "walks.txt"
    written = _write_corpus([walks], np.ones(12), 2, str(path), np.random.default_rng(0))
    assert path.read_text() == "03 10 04 10\n11\n00 02 00 02\n"
    assert written == 9
    never_10 = np.ones(12)
    never_10[10] = 0.0
    written = _write_corpus([walks], never_10, 2, str(path), np.random.default_rng(0))
    assert path.read_text() == "03 04\n11\n00 02 00 02\n"
    assert written == 7


def test_walks_spooled_to_disk_come_back_as_sampled(tmp_path, monkeypatch):
    """The graph stage never holds every walk: they are made in batches, spooled and read back,
    and must be the very walks (and counts) `sample_walks` gives in one array."""
    graph = build_graph(
        pd.DataFrame({"id": range(6), "gender": ["Men", "Women"] * 3, "baseColour": ["Red", "Red", "Blue"] * 2}),
        columns=["gender", "baseColour"],
    )
    monkeypatch.setattr("ingest.walks.BATCH_WALKS", 7)  # batches that split the blocks of start nodes
    whole = sample_walks(graph, num_walks=5, walk_length=4, p=0.5, q=2.0, seed=3)
    batches = WalkBatches(graph, num_walks=5, walk_length=4, p=0.5, q=2.0, seed=3)
    assert batches.total == len(whole)
    counts = _spool_walks(batches, str(tmp_path / "walks"), graph.num_nodes)
    assert np.array_equal(counts, np.bincount(whole[whole != END], minlength=graph.num_nodes))
    back = list(_read_walks(str(tmp_path / "walks"), 4, rows=4))
    assert [len(b) for b in back] == [4] * (len(whole) // 4) + ([len(whole) % 4] if len(whole) % 4 else [])
    assert np.array_equal(np.concatenate(back), whole)


def test_corpus_drops_tokens_with_their_keep_probability(tmp_path):
    walks = np.tile(np.array([[0, 1, 0, 1, 0, 1]], dtype=np.int32), (2000, 1))
    keep = np.array([1.0, 0.25])
    path = tmp_path / "walks.txt"
    written = _write_corpus([walks], keep, 1, str(path), np.random.default_rng(0))
    tokens = path.read_text().split()
    assert len(tokens) == written
    assert tokens.count("0") == 6000
    assert tokens.count("1") == pytest.approx(1500, rel=0.1)
    assert all(line.startswith("0") for line in path.read_text().splitlines())


@pytest.mark.parametrize("sample", [1e-3, 1e-5, 2.0])
def test_keep_probability_is_gensims_downsampling(sample):
    counts = np.array([5, 40, 300, 2000, 90000, 400000])
    model = Word2Vec(min_count=1, sample=sample)
    model.build_vocab_from_freq({str(i): int(c) for i, c in enumerate(counts)})
    theirs = np.array([model.wv.get_vecattr(str(i), "sample_int") for i in range(len(counts))]) / (2**32 - 1)
    assert _keep_probability(counts, sample) == pytest.approx(theirs, abs=1e-6)
    assert _keep_probability(counts, 0).tolist() == [1.0] * len(counts)


def test_words_up_to_the_floor_are_never_thinned():
    counts = np.array([300, 2000, 90000, 400000])
    keep = _keep_probability(counts, 1e-5, floor=2000)
    assert keep[:2].tolist() == [1.0, 1.0]
    assert 0 < keep[3] < keep[2] < 0.3


def test_params_round_trip_through_a_dict():
    params = Node2VecParams(p=0.5, q=2.0, window=3)
    assert Node2VecParams.from_dict(params.to_dict()) == params
    assert Node2VecParams.from_dict({**params.to_dict(), "added_later": 1}) == params
    assert PAPER_PARAMS.dimensions == 32 and PAPER_PARAMS.num_walks == 200 and PAPER_PARAMS.walk_length == 30


def test_benchmark_prints_one_json_line(capsys):
    from benchmarks.graph import main

    main(["--products", "300", "--set", "num_walks=3", "--set", "workers=1", "--quality-sample", "50", "--json"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["products"] == 300 and result["params"]["num_walks"] == 3
    assert result["seconds"] >= result["walks_seconds"] + result["train_seconds"] - 0.11  # plus build and collapse
    assert result["nodes_embedded"] == result["combinations"] + result["nodes"] - 300 < result["nodes"]
    assert 0 < result["articleType_at_10"] <= 1 and 0 < result["baseColour_at_10"] <= 1
    assert result["peak_rss_mb"] > 0


def test_synthetic_catalog_has_the_real_shape():
    from benchmarks.synthetic import synthetic_styles
    from catalog.core.columns import ATTRIBUTE_COLUMNS

    rows = synthetic_styles(20000, seed=1)
    assert list(rows.columns[:2]) == ["id", "gender"] and rows["id"].is_unique
    assert rows["masterCategory"].nunique() >= 6 and rows["articleType"].nunique() > 100
    # Nested consistently, but for the real file's one exception (2 topwear belts among accessories).
    assert rows[rows["articleType"] != "Belts"].groupby("articleType")["masterCategory"].nunique().max() == 1
    assert rows["gender"].value_counts(normalize=True)["Men"] == pytest.approx(0.50, abs=0.04)
    assert rows["articleType"].value_counts(normalize=True)["Tshirts"] == pytest.approx(0.16, abs=0.03)
    assert rows["baseColour"].value_counts(normalize=True)["Black"] == pytest.approx(0.22, abs=0.03)
    assert (rows["usage"] == "").any() and (rows["usage"] == "").mean() < 0.02
    assert (rows.loc[rows["articleType"] == "Bra", "gender"].isin(["Women", "Girls"])).all()
    # Distinct attribute combinations as in random subsets of the real file (3,000 -> 1,566; 20,000 -> 4,906).
    columns = list(ATTRIBUTE_COLUMNS)
    assert rows.head(3000).groupby(columns).ngroups == pytest.approx(1566, rel=0.08)
    assert rows.groupby(columns).ngroups == pytest.approx(4906, rel=0.08)
