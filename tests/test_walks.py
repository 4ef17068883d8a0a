import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare

from catalog.core.errors import CatalogError
from ingest.graph import ProductGraph, build_graph, collapse, combinations, to_networkx
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

    weights = {x: 1 / p if x == prev else 1.0 if x in neighbours(prev) else 1 / q for x in sorted(neighbours(cur))}
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


# -- the collapsed graph: one node per distinct combination of attribute values ---------------


def repeated_combinations_graph() -> ProductGraph:
    """30 products on 7 combinations of very different sizes (1 to 12 products), one with an empty cell."""
    combos = [
        ("Men", "Shirts", "Blue", 12),
        ("Men", "Shirts", "Red", 6),
        ("Women", "Shirts", "Blue", 5),
        ("Women", "Heels", "Red", 3),
        ("Men", "Heels", "Black", 2),
        ("Women", "Tops", "", 1),
        ("Men", "Tops", "Red", 1),
    ]
    rows = [(g, a, c) for g, a, c, n in combos for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["gender", "articleType", "baseColour"])
    frame.insert(0, "id", np.arange(100, 100 + len(frame)))
    return build_graph(frame.sample(frac=1.0, random_state=0), ("gender", "articleType", "baseColour"))


def test_collapse_merges_products_with_the_same_values():
    graph = repeated_combinations_graph()
    combined = collapse(graph)
    assert combined.num_combinations == 7 and sorted(combined.counts.tolist()) == [1, 1, 2, 3, 5, 6, 12]
    assert combined.graph.attribute_keys == graph.attribute_keys
    # Products map to the combination whose neighbours are their own attribute values.
    for product in range(graph.num_products):
        own = graph.indices[graph.indptr[product] : graph.indptr[product + 1]] - graph.num_products
        node = combined.combination_of[product]
        theirs = combined.graph.indices[combined.graph.indptr[node] : combined.graph.indptr[node + 1]]
        assert own.tolist() == (theirs - combined.num_combinations).tolist()
    # An attribute's edges weigh the products behind each combination, summing to its degree.
    degree = graph.degree()[graph.num_products :]
    g = combined.graph
    rows = np.repeat(np.arange(g.num_nodes), g.degree())
    totals = np.bincount(rows, weights=g.weights, minlength=g.num_nodes)[combined.num_combinations :]
    assert totals.tolist() == degree.tolist()


@pytest.mark.parametrize("dtype", ["str", object])
def test_combinations_from_value_codes_equal_the_collapsed_product_graph(dtype):
    """`combinations` (the ingest's path: one integer key per product, no product graph) gives the
    nodes, edges, weights and product mapping of `collapse(build_graph(...))`, empty cells, padded
    rows and object columns (the API's own frames) included."""
    from benchmarks.synthetic import synthetic_styles

    rows = synthetic_styles(3000).astype({column: dtype for column in ("gender", "baseColour", "usage")})
    rows["id"] = np.arange(len(rows))
    rows.loc[rows.index[:9], "baseColour"] = ""
    rows.loc[rows.index[5:12], "usage"] = None
    rows.loc[rows.index[20:25], "gender"] = "  Men "  # stripped as the graph strips cells
    expected, got = collapse(build_graph(rows)), combinations(rows)
    assert got.graph.attribute_keys == expected.graph.attribute_keys
    assert got.combination_of.tolist() == expected.combination_of.tolist()
    assert got.counts.tolist() == expected.counts.tolist()
    for name in ("indptr", "indices", "weights", "multiplicity", "product_ids"):
        assert getattr(got.graph, name).tolist() == getattr(expected.graph, name).tolist(), name
    assert got.num_combinations < len(rows) and (got.combination_of >= 0).all()


def attribute_triples(walks: np.ndarray, relabel: np.ndarray) -> list[tuple[int, ...]]:
    """Steps 1-3 of each walk (attribute, combination, attribute) in combination-graph numbering."""
    return [tuple(t) for t in relabel[walks[:, 1:4]].tolist()]


def contingency_p_value(first: list, second: list) -> float:
    """Chi-square test that two samples of tuples come from one distribution (rare tuples pooled)."""
    from collections import Counter

    from scipy.stats import chi2_contingency

    keys = sorted(set(first) | set(second))
    ca, cb = Counter(first), Counter(second)
    a = np.array([ca[k] for k in keys])
    b = np.array([cb[k] for k in keys])
    common = (a + b) >= 20
    table = np.array([np.append(a[common], a[~common].sum()), np.append(b[common], b[~common].sum())])
    table = table[:, table.sum(axis=0) > 0]
    return chi2_contingency(table).pvalue


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0), (4.0, 0.25)])
def test_collapsed_walks_see_the_same_attribute_sequences_as_product_walks(p, q):
    """The walk distribution over attribute values is the same on the collapsed graph.

    Walks on the product graph start at uniform products; on the collapsed graph at combinations in
    proportion to their product counts. Steps 1-3 (attribute, combination, attribute) capture the
    weighted choice of combination and node2vec's second-order return bias; a chi-square test
    cannot tell the two samples apart, while the same graph without weights is rejected.
    """
    graph = repeated_combinations_graph()
    combined = collapse(graph)
    relabel = np.concatenate(
        [combined.combination_of, np.arange(len(graph.attribute_keys)) + combined.num_combinations]
    )
    products = np.arange(graph.num_products)
    full = sample_walks(graph, num_walks=400, walk_length=4, p=p, q=q, seed=1, start_nodes=products)
    starts = np.repeat(np.arange(combined.num_combinations), combined.counts)  # in proportion to products
    collapsed = sample_walks(combined.graph, num_walks=400, walk_length=4, p=p, q=q, seed=2, start_nodes=starts)
    identity = np.arange(combined.graph.num_nodes)
    assert contingency_p_value(attribute_triples(full, relabel), attribute_triples(collapsed, identity)) > 0.001

    g = combined.graph
    unweighted = ProductGraph(g.product_ids, g.attribute_keys, g.indptr, g.indices)  # every combination alike
    wrong = sample_walks(unweighted, num_walks=400, walk_length=4, p=p, q=q, seed=2, start_nodes=starts)
    assert contingency_p_value(attribute_triples(full, relabel), attribute_triples(wrong, identity)) < 1e-6
    if p != 1 / q:
        # Weighted steps but the return counted as if to one product (not to it or its twins): rejected too.
        single = ProductGraph(
            g.product_ids, g.attribute_keys, g.indptr, g.indices, g.weights, np.ones_like(g.multiplicity)
        )
        wrong = sample_walks(single, num_walks=400, walk_length=4, p=p, q=q, seed=2, start_nodes=starts)
        assert contingency_p_value(attribute_triples(full, relabel), attribute_triples(wrong, identity)) < 1e-6


def test_walk_starts_follow_product_counts():
    from ingest.graph_space import walk_starts

    combined = collapse(repeated_combinations_graph())
    g = combined.graph
    starts = walk_starts(g, 10, np.random.default_rng(0))
    assert starts.size == 10 * g.num_nodes
    per_node = np.bincount(starts, minlength=g.num_nodes)
    expected = 10 * g.num_nodes * g.multiplicity / g.multiplicity.sum()
    assert np.abs(per_node - expected).max() < 1  # each node within one walk of its share
