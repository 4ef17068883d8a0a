"""Inductive placement: graph-space vectors for new or changed products without retraining node2vec.

Why this works on this graph: a product node's only neighbours are its attribute values, so two
products with the same attribute values are structurally equivalent — node2vec's walks cannot
tell them apart. The graph space is trained on one node per combination (ingest.graph_space), so
all trained products of a combination hold the same vector, and a new product with a known
combination gets exactly that vector (the mean of identical vectors, taken in float64, is exact;
a database trained on the product graph before had noisy per-product vectors, and their mean is
still the best estimate). For a combination never seen before, a ridge regression from one-hot
attribute values to trained vectors interpolates between the combinations it knows; it is fitted
on the distinct known combinations weighted by their product counts (the same fit as on every
product, since equal rows with equal targets only add weight), so it costs the same at 1M products.
An attribute value never seen before (a new colour) is placed at the mean of the products that
carry it, which is where node2vec puts attribute nodes (at the centre of their products).

Existing vectors are never moved, so the neighbours of untouched products only change by the
products that appear among them; `benchmarks/incremental.py` measures both the quality of the
placed vectors against a full rebuild and that stability.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from catalog.core.columns import ATTRIBUTE_COLUMNS, attribute_key


def _keys(rows: pd.DataFrame) -> list[tuple[str, ...]]:
    return list(rows[list(ATTRIBUTE_COLUMNS)].astype(str).itertuples(index=False, name=None))


def place_products(rows: pd.DataFrame, known_rows: pd.DataFrame, known_vectors: np.ndarray) -> np.ndarray:
    """Vectors for `rows` from the walk-trained `known_rows` and their vectors (same order)."""
    dim = known_vectors.shape[1]
    placed = np.zeros((len(rows), dim), np.float32)
    if len(rows) == 0:
        return placed
    known_keys = _keys(known_rows)
    groups: dict[tuple[str, ...], list[int]] = {}
    for n, key in enumerate(known_keys):
        groups.setdefault(key, []).append(n)
    unmatched = []
    for n, key in enumerate(_keys(rows)):
        if key in groups:
            placed[n] = known_vectors[groups[key]].mean(axis=0, dtype=np.float64)
        else:
            unmatched.append(n)
    if unmatched:
        placed[unmatched] = _ridge(known_rows, known_vectors, rows.iloc[unmatched])
    return placed


def _ridge(known_rows: pd.DataFrame, known_vectors: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import OneHotEncoder

    columns = list(ATTRIBUTE_COLUMNS)
    known = known_rows[columns].astype(str).reset_index(drop=True)
    combination = known.groupby(columns, sort=False).ngroup().to_numpy()
    weights = np.bincount(combination).astype(np.float64)
    distinct = known.groupby(columns, sort=False).head(1)  # the first product of each combination, in ngroup order
    sums = np.zeros((weights.size, known_vectors.shape[1]))
    np.add.at(sums, combination, known_vectors)
    encoder = OneHotEncoder(handle_unknown="ignore")  # a value never seen simply contributes nothing
    features = encoder.fit_transform(distinct)
    model = Ridge(alpha=1.0).fit(features, sums / weights[:, None], sample_weight=weights)
    return model.predict(encoder.transform(rows[columns].astype(str))).astype(np.float32)


def place_attributes(keys: list[str], rows: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
    """Vectors for attribute keys never seen by node2vec: the mean of the products that carry them."""
    placed = np.zeros((len(keys), vectors.shape[1]), np.float32)
    for n, key in enumerate(keys):
        column, value = key.split("=", 1)
        mask = rows[column].astype(str).to_numpy() == value
        if mask.any():
            placed[n] = vectors[mask].mean(axis=0)
    return placed


def attribute_degrees(rows: pd.DataFrame) -> dict[str, int]:
    """Products per attribute value (`column=value`), empty cells excluded."""
    degrees: dict[str, int] = {}
    for column in ATTRIBUTE_COLUMNS:
        counts = rows[column].astype(str).value_counts()
        for value, count in counts.items():
            if value:
                degrees[attribute_key(column, value)] = int(count)
    return degrees
