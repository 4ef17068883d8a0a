"""The ranking `catalog eval` scores: search's order, on in-memory arrays.

Eval queries thousands of held-out photos and arithmetic terms against a pool it has just rebuilt,
which is in no database; so it ranks in numpy. What it scores must be what `similar` and `query`
return, or the figures describe another product: top k, ties, the arithmetic band and Rec's
classifier order are the ranking module's own functions (`catalog/core/ranking.py`), which search
and the snapshot use too, and tests/test_search.py checks that this ranker returns the products
`Catalog.query` does.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.ranking import (
    DEFAULT_RANKING,
    ArithmeticTarget,
    RankingSettings,
    arithmetic_order,
    band_order,
    coded_preferences,
    preference_order,
    target_scores,
    top_k,
    top_with_ties,
)
from catalog.core.vectors import photo_closeness, unit


class Ranker:
    """Top k of a pool by cosine; ties (one attribute combination on the collapsed graph) ordered
    by photo closeness to the query's photo, then by id, as search orders them. `ids`: the pool's
    product ids (default: pool positions); `settings`: the pools, the band and arithmetic's order;
    `codes` and `vocabularies`: the pool's attribute value codes, which arithmetic's order reads."""

    def __init__(
        self,
        node_vectors: np.ndarray,
        pool_images: np.ndarray | None,
        ids: np.ndarray | None = None,
        settings: RankingSettings = DEFAULT_RANKING,
        codes: np.ndarray | None = None,
        vocabularies: list[list[str]] | None = None,
    ):
        self.settings = settings
        self.codes, self.vocabularies = codes, vocabularies
        self.pool = unit(node_vectors)
        self.images = pool_images
        self.has_image = (np.linalg.norm(pool_images, axis=1) > 0) if pool_images is not None else None
        self.ids = np.arange(len(self.pool)) if ids is None else np.asarray(ids)

    def top(
        self,
        query: np.ndarray,
        k: int,
        tie: np.ndarray | None = None,
        item: np.ndarray | None = None,
        preferences: np.ndarray | None = None,
        target: ArithmeticTarget | None = None,
        exclude: int | None = None,
    ) -> np.ndarray:
        """The pool rows `similar`/`query` would return, best first. `exclude`: a pool row that may
        not be returned (the item of a `query --id`)."""
        if preferences is not None:  # Rec: the query's first REC_POOL ordered by the classifiers, as search does
            candidates = self.top(query, min(max(k, self.settings.rec_pool), len(self.pool)), tie, exclude=exclude)
            return candidates[preference_order(preferences[candidates])[:k]]
        if item is not None:  # arithmetic: the query's pool in arithmetic's order, as search does
            candidates = self.arithmetic_candidates(query, k, tie, exclude)
            query_unit, item_unit = unit(np.asarray(query)), unit(np.asarray(item))
            scores, closeness = self.pool[candidates] @ query_unit, self.pool[candidates] @ item_unit
            if target is not None and self.settings.arithmetic_order == "values":
                order = arithmetic_order(*target_scores(target, self.coded(candidates)), closeness)
            else:
                order = band_order(scores, closeness, self.settings.arithmetic_band)
            return candidates[order[:k]]
        scores = self.pool @ unit(np.asarray(query))
        if exclude is not None:
            scores[exclude] = -np.inf
        if tie is None or self.images is None:
            return top_k(scores, k, overwrite=True)[0]
        images, has_image = self.images, self.has_image
        return top_with_ties(
            scores, k, has_image, self.ids, lambda rows: photo_closeness(images[rows], has_image[rows], tie)
        )[0]

    def arithmetic_candidates(
        self, query: np.ndarray, k: int, tie: np.ndarray | None = None, exclude: int | None = None
    ) -> np.ndarray:
        """The pool rows arithmetic orders: the query's first `arithmetic_pool` (at least k), as search reads them."""
        return self.top(query, min(max(k, self.settings.arithmetic_pool), len(self.pool)), tie, exclude=exclude)

    def coded(self, rows: np.ndarray) -> Callable[[str], tuple[list[str], np.ndarray]]:
        """These pool rows' values as `ranking.target_scores` reads them (`coded_columns`)."""
        return coded_columns(self.codes[rows], self.vocabularies)


def coded_columns(codes: np.ndarray, vocabularies: list[list[str]]) -> Callable[[str], tuple[list[str], np.ndarray]]:
    """Rows held as value codes, as the ranking module's scores read them: column -> (the column's
    values, each row's code among them)."""
    position = {column: c for c, column in enumerate(ATTRIBUTE_COLUMNS)}
    return lambda column: (vocabularies[position[column]], codes[:, position[column]])


def preference_scores(
    preferences: dict[str, dict[str, float]] | None, codes: np.ndarray, vocabularies: list[list[str]]
) -> np.ndarray | None:
    """Every pool product's preference score (`ranking.coded_preferences`), from its value codes."""
    if preferences is None:
        return None
    return coded_preferences(preferences, coded_columns(codes, vocabularies))
