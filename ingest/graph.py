"""The bipartite product–attribute graph (paper, section 1) as CSR arrays.

Nodes 0..P-1 are products, nodes P..P+A-1 are attribute values such as `baseColour=Green`.
Every product is linked to the value it has in each attribute column; an empty cell adds no
edge. The same word in two columns (`subCategory=Watches`, `articleType=Watches`) is two
nodes, because the column is part of the key.

The walk sampler works on the CSR arrays directly (networkx would be far too slow at 44k
products x 200 walks); `to_networkx` exists for inspection and tests.

`collapse` turns it into the graph node2vec actually walks: a product node's only neighbours are
its attribute values, so products with the same values are structurally equivalent and can be
one node per distinct combination, weighted by how many products it stands for. On the real
44,446-row styles file that is 7,247 nodes instead of 44,446 (docs/graph-space.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from catalog.core.columns import ATTRIBUTE_COLUMNS, attribute_key
from catalog.core.errors import CatalogError

PRODUCT_PREFIX = "p:"


@dataclass
class ProductGraph:
    """An undirected graph in CSR form; neighbour lists are sorted.

    Unweighted unless `multiplicity` is set: then node i stands for multiplicity[i] structurally
    equivalent nodes (a combination of attribute values for that many products; 1 for an
    attribute value) and the edge u-v carries weight multiplicity[u] * multiplicity[v] (`weights`,
    aligned with `indices`), i.e. the number of edges of the uncollapsed graph it replaces.
    """

    product_ids: np.ndarray  # int64 (P,): node i < P is product product_ids[i] (a combination number when collapsed)
    attribute_keys: list[str]  # node P + j is attribute attribute_keys[j]
    indptr: np.ndarray  # int64 (P + A + 1,)
    indices: np.ndarray  # int32 (2 * edges,)
    weights: np.ndarray | None = None  # int64 (2 * edges,) or None: every edge weighs 1
    multiplicity: np.ndarray | None = None  # int64 (P + A,) or None: every node stands for itself

    @property
    def num_products(self) -> int:
        return len(self.product_ids)

    @property
    def num_nodes(self) -> int:
        return len(self.product_ids) + len(self.attribute_keys)

    def degree(self) -> np.ndarray:
        """Number of neighbours of every node, int64 (P + A,)."""
        return np.diff(self.indptr)

    def node_names(self) -> list[str]:
        """`p:<id>` for products, then the attribute keys: one unique name per node."""
        return [f"{PRODUCT_PREFIX}{pid}" for pid in self.product_ids.tolist()] + list(self.attribute_keys)


def _cell_strings(values: pd.Series) -> np.ndarray:
    """Cells as stripped strings, with missing values (NaN, None, pd.NA) as ""."""
    cells = values.to_numpy(dtype=object)
    missing = pd.isna(cells)
    out = np.array([str(v).strip() for v in cells], dtype=object)
    out[missing] = ""
    return out


def attribute_values(rows: pd.DataFrame, columns: Sequence[str] = ATTRIBUTE_COLUMNS) -> np.ndarray:
    """The rows' attribute cells as an object array (rows x columns) of stripped strings, "" when empty:
    what the graph links a product to, and what the `attributes` linker learns to read off a photo."""
    return (
        np.stack([_cell_strings(rows[column]) for column in columns], axis=1)
        if len(rows)
        else np.empty((0, len(columns)), object)
    )


def _column_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each cell's value as a code into the column's sorted distinct values (-1: empty), computed by
    Arrow on the column as it is held: no Python string per cell (at 10M rows, 80M of them)."""
    if pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_object_dtype(values.dtype):
        cells = pa.array(values, type=pa.large_string(), from_pandas=True)
    else:  # an object or numeric column (the API's own frames): each cell as str() makes it
        cells = pa.array(_cell_strings(values).tolist(), type=pa.large_string())
    cells = pc.fill_null(pc.utf8_trim_whitespace(cells), "")
    encoded = (
        pc.dictionary_encode(cells).combine_chunks()
        if isinstance(cells, pa.ChunkedArray)
        else pc.dictionary_encode(cells)
    )
    found = encoded.dictionary.to_pylist()
    values_sorted = sorted(v for v in found if v != "")
    rank = {value: code for code, value in enumerate(values_sorted)}
    remap = np.array([rank.get(v, -1) for v in found], np.int64)
    return remap[encoded.indices.to_numpy(zero_copy_only=False)], values_sorted


def attribute_codes(rows: pd.DataFrame, columns: Sequence[str] = ATTRIBUTE_COLUMNS) -> tuple[np.ndarray, list[str]]:
    """(P x columns) attribute numbers (-1: empty cell) and the attribute keys they index: the
    attribute nodes in graph order, by column (in `columns` order), then by value."""
    codes = np.full((len(rows), len(columns)), -1, np.int64)
    attribute_keys: list[str] = []
    for slot, column in enumerate(columns):
        column_codes, values = _column_codes(rows[column])
        codes[:, slot] = np.where(column_codes >= 0, column_codes + len(attribute_keys), -1)
        attribute_keys.extend(attribute_key(column, v) for v in values)
    return codes, attribute_keys


def _product_ids(rows: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    missing = [c for c in ("id", *columns) if c not in rows.columns]
    if missing:
        raise CatalogError(f"the styles table has no column {', '.join(missing)}")
    try:
        product_ids = rows["id"].to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise CatalogError(f"product ids must be integers ({exc})") from None
    unique_ids, counts = np.unique(product_ids, return_counts=True)
    if (counts > 1).any():
        raise CatalogError(f"duplicate product id {int(unique_ids[counts > 1][0])} in the styles table")
    return product_ids


def build_graph(rows: pd.DataFrame, columns: Sequence[str] = ATTRIBUTE_COLUMNS) -> ProductGraph:
    """Build the product–attribute graph from a styles table (one row per product, column `id`).

    Attribute nodes are ordered by column (in `columns` order), then by value, so the same table
    always gives the same node numbering.
    """
    product_ids = _product_ids(rows, columns)
    num_products = len(product_ids)
    codes, attribute_keys = attribute_codes(rows, columns)
    products, slots = np.nonzero(codes >= 0)  # one edge per filled cell (_csr sorts them)
    attributes = num_products + codes[products, slots]
    return _csr(num_products, attribute_keys, product_ids, products, attributes)


def _csr(num_products: int, attribute_keys: list[str], product_ids: np.ndarray, products, attributes, weights_of=None):
    num_nodes = num_products + len(attribute_keys)
    # Both directions of every edge; sorting by (source, target) gives CSR with sorted neighbours.
    sources = np.concatenate([products, attributes]).astype(np.int64)
    targets = np.concatenate([attributes, products]).astype(np.int64)
    order = np.lexsort((targets, sources))
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(sources, minlength=num_nodes), out=indptr[1:])
    sources, targets = sources[order], targets[order]
    return ProductGraph(
        product_ids=product_ids,
        attribute_keys=attribute_keys,
        indptr=indptr,
        indices=targets.astype(np.int32),
        weights=weights_of[sources] * weights_of[targets] if weights_of is not None else None,
        multiplicity=weights_of,
    )


@dataclass
class CombinationGraph:
    """The product graph with one node per distinct combination of attribute values."""

    graph: ProductGraph  # nodes 0..C-1 are combinations, C.. the same attribute values, in the same order
    combination_of: np.ndarray  # int64 (P,): the combination node of each product, in the product graph's order
    counts: np.ndarray  # int64 (C,): products per combination (the nodes' multiplicity)

    @property
    def num_combinations(self) -> int:
        return len(self.counts)

    @property
    def attribute_keys(self) -> list[str]:
        return self.graph.attribute_keys


def collapse(graph: ProductGraph) -> CombinationGraph:
    """Merge products with the same attribute values (the same neighbour set) into one node.

    A walk on the result, started at combinations in proportion to their counts, visits attribute
    values with the same probabilities as a walk on `graph` started at a uniform product
    (tests/test_walks.py checks it with a chi-square test); ingest.walks handles the weights.
    """
    num_products = graph.num_products
    degree = graph.degree()[:num_products]
    width = int(degree.max(initial=0))
    # Each product's sorted attribute numbers, padded with -1: equal rows are equal combinations.
    keys = np.full((num_products, max(width, 1)), -1, dtype=np.int64)
    rows = np.repeat(np.arange(num_products), degree)
    slots = np.arange(rows.size) - np.repeat(graph.indptr[:num_products], degree)
    keys[rows, slots] = graph.indices[: graph.indptr[num_products]].astype(np.int64) - num_products
    combos, combination_of = np.unique(keys, axis=0, return_inverse=True)
    return _combination_graph(combos, combination_of.reshape(-1).astype(np.int64), graph.attribute_keys)


def combinations(rows: pd.DataFrame, columns: Sequence[str] = ATTRIBUTE_COLUMNS) -> CombinationGraph:
    """`collapse(build_graph(rows))`, the same nodes in the same order, without building the product
    graph: from each column's value codes, one integer key per product (at 10M products the product
    graph's edge arrays and sort alone would take ~5 GB; this takes the P x columns codes)."""
    _product_ids(rows, columns)
    codes, attribute_keys = attribute_codes(rows, columns)
    unique_rows, product_row = _unique_rows(codes)
    # Order the combinations as collapse does: by their attribute numbers, empty cells dropped and
    # the row padded with -1 at its end (numbers grow by column, so a row's numbers are sorted).
    padded = np.where(unique_rows >= 0, unique_rows, np.iinfo(np.int64).max)
    padded.sort(axis=1)
    padded[padded == np.iinfo(np.int64).max] = -1
    combos, rank = np.unique(padded, axis=0, return_inverse=True)
    return _combination_graph(combos, rank.reshape(-1)[product_row].astype(np.int64), attribute_keys)


def _unique_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an integer matrix and each row's index among them, by one integer key per
    row (mixed radix) where that fits in 63 bits, else by numpy's row-wise unique (slower)."""
    sizes = codes.max(axis=0, initial=-1) + 2  # -1..max -> 0..max+1
    if len(codes) and float(np.prod(sizes.astype(float))) < 2.0**62:
        key = np.zeros(len(codes), np.int64)
        for slot, size in enumerate(sizes.tolist()):
            key = key * size + (codes[:, slot] + 1)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return codes[first], inverse.reshape(-1)
    unique, inverse = np.unique(codes, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _combination_graph(combos: np.ndarray, combination_of: np.ndarray, attribute_keys: list[str]) -> CombinationGraph:
    """The collapsed graph of these combinations (rows of attribute numbers, -1 padded)."""
    num_combos = len(combos)
    counts = np.bincount(combination_of, minlength=num_combos).astype(np.int64)
    combo_side = np.repeat(np.arange(num_combos), (combos >= 0).sum(axis=1))
    attribute_side = combos[combos >= 0] + num_combos
    multiplicity = np.concatenate([counts, np.ones(len(attribute_keys), np.int64)]).astype(np.int64)
    collapsed = _csr(
        num_combos,
        list(attribute_keys),
        np.arange(num_combos, dtype=np.int64),
        combo_side,
        attribute_side,
        multiplicity,
    )
    return CombinationGraph(collapsed, combination_of, counts)


def to_networkx(graph: ProductGraph) -> nx.Graph:
    """The same graph in networkx, nodes named as in `node_names()`.

    Products carry `bipartite=0`, attributes `bipartite=1`; every node has its `index`.
    """
    names = graph.node_names()
    nx_graph = nx.Graph()
    for index, name in enumerate(names):
        nx_graph.add_node(name, bipartite=int(index >= graph.num_products), index=index)
    sources = np.repeat(np.arange(graph.num_nodes), graph.degree())
    keep = sources < graph.indices  # each undirected edge once
    nx_graph.add_edges_from((names[s], names[t]) for s, t in zip(sources[keep].tolist(), graph.indices[keep].tolist()))
    return nx_graph
