"""The ranking `catalog eval` scores: search's order, on in-memory arrays.

Eval queries thousands of held-out photos and arithmetic terms against a pool it has just rebuilt,
which is in no database; so it ranks in numpy. What it scores must be what `similar` and `query`
return, or the figures describe another product: the ties, the arithmetic band and Rec's classifier
order are search's own functions (`band_order`, `preference_order`, `coded_preferences`), and
tests/test_search.py checks that this ranker returns the products `Catalog.query` does.
"""

from __future__ import annotations

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.vectors import unit
from catalog.query.search import ARITHMETIC_POOL, REC_POOL, band_order, coded_preferences, preference_order


class Ranker:
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


def preference_scores(
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
