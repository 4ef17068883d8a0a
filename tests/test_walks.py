import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare

from catalog.errors import CatalogError
from ingest.graph import ProductGraph, build_graph, to_networkx
from ingest.walks import END, sample_walks

P_Q = [(1.0, 1.0), (0.5, 2.0), (2.0, 0.5), (0.1, 3.0)]


@pytest.fixture
def catalog_graph() -> ProductGraph:
    rows = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "gender": ["Men", "Men", "Women", "Women", "Men", ""],
            "articleType": ["Shirts", "Tshirts", "Tshirts", "Heels", "Watches", ""],
            "baseColour": ["Blue", "Blue", "Red", "Red", "", ""],
        }
    )
    return build_graph(rows, ("gender", "articleType", "baseColour"))


def small_graph(edges: list[tuple[int, int]], num_nodes: int) -> ProductGraph:
    """A general (non-bipartite) graph in ProductGraph form: all nodes are 'products'."""
    sources = np.array([s for s, t in edges] + [t for s, t in edges])
    targets = np.array([t for s, t in edges] + [s for s, t in edges])
    order = np.lexsort((targets, sources))
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(sources, minlength=num_nodes), out=indptr[1:])
    return ProductGraph(np.arange(num_nodes, dtype=np.int64), [], indptr, targets[order].astype(np.int32))


# Node 1's neighbours relative to node 0: 0 itself (return), 2 (also a neighbour of 0), 3, 4, 5 (farther).
TRIANGLES = small_graph([(0, 1), (0, 2), (1, 2), (1, 3), (1, 4), (3, 4), (4, 5), (1, 5)], 6)


def node2vec_probabilities(graph: ProductGraph, prev: int, cur: int, p: float, q: float) -> dict[int, float]:
    """Hand-computed node2vec transition probabilities from `cur` having come from `prev`."""
    def neighbours(n):
        return set(graph.indices[graph.indptr[n] : graph.indptr[n + 1]].tolist())

    weights = {
        x: 1 / p if x == prev else 1.0 if x in neighbours(prev) else 1 / q for x in sorted(neighbours(cur))
    }
    total = sum(weights.values())
    return {x: w / total for x, w in weights.items()}


def second_steps(graph: ProductGraph, prev: int, cur: int, p: float, q: float, n: int, seed: int) -> np.ndarray:
    """Third nodes of walks that started prev -> cur."""
    walks = sample_walks(graph, num_walks=n, walk_length=3, p=p, q=q, seed=seed, start_nodes=np.array([prev]))
    return walks[walks[:, 1] == cur, 2]


def test_walks_follow_edges_and_alternate_products_and_attributes(catalog_graph):
    walks = sample_walks(catalog_graph, num_walks=20, walk_length=12, seed=3)
    assert walks.dtype == np.int32 and walks.shape == (20 * catalog_graph.num_nodes, 12)
    edges = {
        (s, t)
        for s in range(catalog_graph.num_nodes)
        for t in catalog_graph.indices[catalog_graph.indptr[s] : catalog_graph.indptr[s + 1]].tolist()
    }
    moving = walks[walks[:, 0] != 5]  # product 6 (node 5) has no attributes
    for a, b in zip(moving[:, :-1].ravel().tolist(), moving[:, 1:].ravel().tolist()):
        assert (a, b) in edges
    is_product = moving < catalog_graph.num_products
    assert (is_product[:, 1:] != is_product[:, :-1]).all()


def test_isolated_node_walks_are_just_the_node(catalog_graph):
    walks = sample_walks(catalog_graph, num_walks=3, walk_length=5, seed=0)
    isolated = walks[walks[:, 0] == 5]
    assert isolated.tolist() == [[5, END, END, END, END]] * 3
    assert (walks[walks[:, 0] != 5] != END).all()


def test_rows_are_rounds_over_the_start_nodes(catalog_graph):
    starts = np.array([7, 0, 2])
    walks = sample_walks(catalog_graph, num_walks=4, walk_length=6, start_nodes=starts, seed=1)
    assert walks.shape == (12, 6)
    assert walks[:, 0].tolist() == [7, 0, 2] * 4


@pytest.mark.parametrize("p, q", [(1.0, 1.0), (0.5, 2.0)])
def test_same_seed_same_walks(catalog_graph, p, q):
    first = sample_walks(catalog_graph, num_walks=5, walk_length=10, p=p, q=q, seed=42)
    again = sample_walks(catalog_graph, num_walks=5, walk_length=10, p=p, q=q, seed=42)
    other = sample_walks(catalog_graph, num_walks=5, walk_length=10, p=p, q=q, seed=43)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_progress_counts_every_walk(catalog_graph):
    done = []
    sample_walks(catalog_graph, num_walks=7, walk_length=4, progress=done.append)
    assert sum(done) == 7 * catalog_graph.num_nodes


@pytest.mark.parametrize("p, q", P_Q)
@pytest.mark.parametrize("prev, cur", [(0, 1), (3, 1)])
def test_second_order_transitions_match_node2vec(p, q, prev, cur):
    third = second_steps(TRIANGLES, prev, cur, p, q, n=30000, seed=7)
    expected = node2vec_probabilities(TRIANGLES, prev, cur, p, q)
    observed = np.array([np.count_nonzero(third == x) for x in expected])
    assert observed.sum() == third.size > 5000  # nothing outside the neighbours of cur
    result = chisquare(observed, third.size * np.array(list(expected.values())))
    assert result.pvalue > 1e-3, (observed, expected)


@pytest.mark.parametrize("p, q", P_Q)
def test_second_order_transitions_on_the_product_attribute_graph(catalog_graph, p, q):
    # Node 0 is product 1; node 6 is gender=Men, shared with products 2 and 5 (nodes 1 and 4).
    men = 6
    assert catalog_graph.attribute_keys[men - catalog_graph.num_products] == "gender=Men"
    third = second_steps(catalog_graph, 0, men, p, q, n=40000, seed=5)
    expected = node2vec_probabilities(catalog_graph, 0, men, p, q)
    assert list(expected) == [0, 1, 4]
    observed = np.array([np.count_nonzero(third == x) for x in expected])
    assert observed.sum() == third.size > 5000
    assert chisquare(observed, third.size * np.array(list(expected.values()))).pvalue > 1e-3


def test_second_order_bias_is_visible():
    """Sanity check that the chi-square test has power: p and q really change the distribution."""
    low_p = second_steps(TRIANGLES, 0, 1, 0.1, 3.0, n=4000, seed=1)
    high_p = second_steps(TRIANGLES, 0, 1, 2.0, 0.5, n=4000, seed=1)
    assert np.mean(low_p == 0) > 0.7  # return weight 10 of 11
    assert np.mean(high_p == 0) < 0.1  # return weight 0.5 of 7.5


@pytest.mark.parametrize("p, q", P_Q)
def test_transition_table_agrees_with_reference_package(p, q):
    node2vec = pytest.importorskip("node2vec")
    nx_graph = nx.relabel_nodes(to_networkx(TRIANGLES), lambda name: int(name[2:]))
    reference = node2vec.Node2Vec(nx_graph, dimensions=2, walk_length=2, num_walks=1, p=p, q=q, quiet=True)
    for prev, cur in [(0, 1), (3, 1), (5, 4)]:
        table = reference.d_graph[cur]["probabilities"][prev]
        theirs = dict(zip(nx_graph.neighbors(cur), table))
        assert theirs == pytest.approx(node2vec_probabilities(TRIANGLES, prev, cur, p, q))
        third = second_steps(TRIANGLES, prev, cur, p, q, n=30000, seed=11)
        observed = np.array([np.count_nonzero(third == x) for x in theirs])
        assert chisquare(observed, third.size * np.array(list(theirs.values()))).pvalue > 1e-3


def test_bad_arguments(catalog_graph):
    with pytest.raises(CatalogError):
        sample_walks(catalog_graph, p=0)
    with pytest.raises(CatalogError):
        sample_walks(catalog_graph, start_nodes=np.array([catalog_graph.num_nodes]))
