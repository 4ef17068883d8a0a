import networkx as nx
import numpy as np
import pandas as pd
import pytest

from catalog.core.errors import CatalogError
from ingest.graph import build_graph, to_networkx

COLUMNS = ("gender", "subCategory", "articleType", "baseColour")


@pytest.fixture
def rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [15970, 39386, 59263, 21379],
            "gender": ["Men", "Women", "Men", ""],
            "subCategory": ["Topwear", "Watches", "Watches", ""],
            "articleType": ["Shirts", "Watches", "Watches", ""],
            "baseColour": ["Navy Blue", "", None, ""],
        }
    )


def neighbours(graph, node: int) -> list[int]:
    return graph.indices[graph.indptr[node] : graph.indptr[node + 1]].tolist()


def test_nodes_are_products_then_attribute_values_per_column(rows):
    graph = build_graph(rows, COLUMNS)
    assert graph.product_ids.tolist() == [15970, 39386, 59263, 21379]
    assert graph.attribute_keys == [
        "gender=Men",
        "gender=Women",
        "subCategory=Topwear",
        "subCategory=Watches",
        "articleType=Shirts",
        "articleType=Watches",
        "baseColour=Navy Blue",
    ]
    assert graph.num_products == 4 and graph.num_nodes == 11
    assert graph.node_names()[:4] == ["p:15970", "p:39386", "p:59263", "p:21379"]
    assert graph.node_names()[4:] == graph.attribute_keys


def test_edges_link_each_product_to_its_non_empty_values(rows):
    graph = build_graph(rows, COLUMNS)
    index = {name: i for i, name in enumerate(graph.node_names())}
    expected = {
        "p:15970": {"gender=Men", "subCategory=Topwear", "articleType=Shirts", "baseColour=Navy Blue"},
        "p:39386": {"gender=Women", "subCategory=Watches", "articleType=Watches"},  # "" colour: no edge
        "p:59263": {"gender=Men", "subCategory=Watches", "articleType=Watches"},  # None colour: no edge
        "p:21379": set(),  # no attributes at all: isolated
    }
    names = graph.node_names()
    for product, values in expected.items():
        assert {names[n] for n in neighbours(graph, index[product])} == values
    assert neighbours(graph, index["subCategory=Watches"]) == [1, 2]
    assert neighbours(graph, index["articleType=Watches"]) == [1, 2]
    assert graph.degree().tolist() == [4, 3, 3, 0, 2, 1, 1, 2, 1, 2, 1]


def test_csr_is_symmetric_with_sorted_neighbours(rows):
    graph = build_graph(rows, COLUMNS)
    edges = {(s, t) for s in range(graph.num_nodes) for t in neighbours(graph, s)}
    assert edges == {(t, s) for s, t in edges}
    for node in range(graph.num_nodes):
        assert neighbours(graph, node) == sorted(neighbours(graph, node))
    assert graph.indptr.dtype == np.int64 and graph.indices.dtype == np.int32


def test_networkx_view_is_bipartite_with_the_same_edges(rows):
    graph = build_graph(rows, COLUMNS)
    nx_graph = to_networkx(graph)
    assert nx_graph.number_of_nodes() == 11
    assert nx_graph.number_of_edges() == len(graph.indices) // 2 == 10
    products = {n for n, side in nx_graph.nodes(data="bipartite") if side == 0}
    assert products == {"p:15970", "p:39386", "p:59263", "p:21379"}
    assert nx.is_bipartite(nx_graph)
    assert nx_graph.has_edge("p:39386", "subCategory=Watches")
    assert nx_graph.has_edge("p:39386", "articleType=Watches")
    assert nx_graph.degree("p:21379") == 0


def test_default_columns_and_non_string_cells():
    rows = pd.DataFrame(
        {
            "id": [1, 2],
            "gender": ["Men", "Men"],
            "masterCategory": ["Apparel", "Footwear"],
            "subCategory": ["Topwear", "Shoes"],
            "articleType": ["Tshirts", "Casual Shoes"],
            "baseColour": ["Blue", "Blue"],
            "season": ["Summer", " Summer "],
            "year": [2012, 2012],
            "usage": ["Casual", np.nan],
            "productDisplayName": ["a", "b"],
        }
    )
    graph = build_graph(rows)
    assert "year=2012" in graph.attribute_keys
    assert graph.attribute_keys.count("season=Summer") == 1  # surrounding spaces do not split a value
    assert graph.attribute_keys.count("usage=Casual") == 1
    assert graph.degree()[:2].tolist() == [8, 7]


def test_bad_tables_raise_catalog_errors(rows):
    with pytest.raises(CatalogError, match="no column season"):
        build_graph(rows, ("gender", "season"))
    with pytest.raises(CatalogError, match="duplicate product id 7"):
        build_graph(pd.DataFrame({"id": [7, 7], "gender": ["Men", "Women"]}), ("gender",))
