"""Ranking metrics on integer attribute codes: one home for precision@k, nDCG@k and friends.

Codes: one column per attribute, one row per product, -1 for an empty cell. An empty cell is
never a match, and a query with an empty cell in a column is not scored in that column (it has
nothing to share), so precision@k is "of the queries that have a value, the share of results that
share it". `catalog eval` and the benchmarks use these functions, so their figures agree.
"""

from __future__ import annotations

import numpy as np

from catalog.core.ranking import cosine_top_k

CHUNK = 512  # queries scored at a time: bounds the (queries x catalog) temporaries


def precision_at_k(query_codes: np.ndarray, neighbour_codes: np.ndarray) -> np.ndarray:
    """Per column: the share of (query, result) pairs where the result has the query's value.

    query_codes (Q, C), neighbour_codes (Q, k, C). Queries with an empty cell in a column are not
    scored in that column (nothing to share); a column with no scored query is NaN.
    """
    known = query_codes >= 0  # (Q, C)
    hits = (neighbour_codes == query_codes[:, None, :]).mean(axis=1)  # (Q, C)
    counts = known.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (hits * known).sum(axis=0) / np.maximum(counts, 1), np.nan)


def relevance(query_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Number of attribute values shared: (Q, C) x (N, C) -> (Q, N); empty cells never match."""
    return ((codes[None, :, :] == query_codes[:, None, :]) & (query_codes[:, None, :] >= 0)).sum(axis=2)


def ndcg_at_k(
    query_codes: np.ndarray, pool_codes: np.ndarray, neighbours: np.ndarray, exclude: np.ndarray | None = None
) -> float:
    """Mean nDCG@k with graded relevance = shared attribute values.

    The ideal list is the best k of the whole pool (without `exclude[i]`, the query itself, when
    querying in-catalog). Queries that share nothing with any pool product are not scored.
    """
    k = neighbours.shape[1]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for begin in range(0, len(query_codes), CHUNK):
        rel = relevance(query_codes[begin : begin + CHUNK], pool_codes)
        if exclude is not None:
            rel[np.arange(len(rel)), exclude[begin : begin + CHUNK]] = 0
        dcg = np.take_along_axis(rel, neighbours[begin : begin + CHUNK], axis=1) @ discount
        if rel.shape[1] > k:  # only the best k matter: partition instead of sorting the whole pool
            rel_top = -np.partition(-rel, k - 1, axis=1)[:, :k]
        else:
            rel_top = rel
        best = -np.sort(-rel_top, axis=1)
        ideal = best @ discount[: best.shape[1]]
        scores.append(dcg[ideal > 0] / ideal[ideal > 0])
    values = np.concatenate(scores) if scores else np.empty(0)
    return float(values.mean()) if len(values) else float("nan")


def own_vector_recall(translated: np.ndarray, node_vectors: np.ndarray, own: np.ndarray, k: int) -> float:
    """Share of products whose own node vector (row own[i]) is among the k nearest to translated[i]."""
    if len(translated) == 0:
        return float("nan")
    found = cosine_top_k(translated, node_vectors, k) == np.asarray(own)[:, None]
    return float(found.any(axis=1).mean())


def random_neighbours(queries: int, pool: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """k distinct random pool rows per query: the chance baseline."""
    return (
        np.stack([rng.choice(pool, size=k, replace=False) for _ in range(queries)])
        if queries
        else np.empty((0, k), np.int64)
    )


def accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    known = truth >= 0
    return round(float((predicted[known] == truth[known]).mean()), 4) if known.any() else float("nan")


def commonest(codes: np.ndarray) -> int:
    known = codes[codes >= 0]
    return int(np.bincount(known).argmax()) if len(known) else -1


def codes_of(labels: np.ndarray, missing: str = "") -> np.ndarray:
    """String labels (products x columns, `missing` for an empty cell) -> integer codes with -1 for empty."""
    labels = np.asarray(labels, dtype=object)
    codes = np.full(labels.shape, -1, dtype=np.int32)
    present = labels != missing
    _, inverse = np.unique(labels[present].astype(str), return_inverse=True)
    codes[present] = inverse
    return codes
