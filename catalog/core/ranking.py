"""Ranking: the one place where results are put in order, for every reader.

LanceDB search (`catalog/query/search.py`), the in-memory snapshot `catalog serve` answers from
(`catalog/query/snapshot.py`) and `catalog eval` (`catalog/evaluate/ranker.py`) all order their
candidates with these functions, so what eval scores is what `similar` and `query` return and the
snapshot answers as LanceDB does (tests/test_snapshot.py, tests/test_search.py). A second copy of
any of these rules is what let the three drift apart before (ties grouped three ways, photo-less
rows by pool position in one of them); tests/test_ranking.py fails if sorting by score appears in
another module of the read side or eval.

- **Ties.** The graph space is trained per combination of attribute values, so every product of
  one combination scores the same. Scores within TIE_TOLERANCE of a group's first (best) score are
  one tie: the group's leader fixes it, so a run of scores each a hair below the previous cannot
  chain into one long tie, and no rounding boundary splits equal scores. Within a tie: products
  with a photo first, by how close their photo is to the query's (cosine of image vectors), then
  by id (docs/graph-space.md).
- **Top k.** The k highest scores, best first, equal scores by row (`top_k`); with ties ordered as
  above, a tie straddling the k-th place is filled with the tie's best photos (`top_with_ties`).
- **Rec's order** (`rec_preferences`, `preference_order`) and **arithmetic's band** (`band_order`):
  how a pool of candidates found by cosine is re-ordered (docs/quality.md).

Core, not the read side: eval's image-space kNN and `core.metrics` need the same top-k.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from catalog.core.vectors import unit

TIE_TOLERANCE = 1e-6  # cosines this close are one tie (equal vectors, float rounding aside)
SMALL_K = 64  # up to this k, `top_k` takes k argmax passes instead of a partition
CHUNK = 512  # queries scored at a time by `cosine_top_k`: bounds the (queries x pool) temporaries


# -- ties and top k ------------------------------------------------------------------------------


def tie_groups(scores: np.ndarray) -> np.ndarray:
    """Group numbers of scores given best first: a score joins the current group when it is within
    TIE_TOLERANCE of the group's first score, and starts the next group otherwise."""
    scores = np.asarray(scores, np.float64)
    groups = np.zeros(len(scores), np.int64)
    start, group = 0, 0
    while start < len(scores):
        # Scores are sorted best first, so the group is a prefix of what is left: one search per group.
        end = start + int(np.searchsorted(-scores[start:], -scores[start] + TIE_TOLERANCE, side="right"))
        groups[start:end] = group
        start, group = end, group + 1
    return groups


def within_tie(has_image: np.ndarray, closeness: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The order of the products of one tie: photos first, closest to the query's photo first, then id."""
    return np.lexsort((np.asarray(ids), -np.asarray(closeness, np.float64), ~np.asarray(has_image, bool)))


def tie_order(scores: np.ndarray, has_image: np.ndarray, closeness: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """The order of candidates: by score, best first, ties (`tie_groups`) in `within_tie` order."""
    scores = np.asarray(scores, np.float64)
    by_score = np.argsort(-scores, kind="stable")
    groups = np.empty(len(scores), np.int64)
    groups[by_score] = tie_groups(scores[by_score])
    closeness = np.asarray(closeness, np.float64)
    return np.lexsort((np.asarray(ids), -closeness, ~np.asarray(has_image, bool), groups))


def top_k(scores: np.ndarray, k: int, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the k highest scores (best first, equal scores by row) and those scores; -inf rows never.

    For the small k of a results page, k passes of argmax (one vectorised scan each, ~10 us at 44k
    rows) beat argpartition (~1 ms at 44k: it moves every element). `overwrite`: `scores` may be
    used as scratch space (saves a copy of the whole column).
    """
    scores = np.asarray(scores)
    k = min(k, len(scores))
    if k <= SMALL_K:
        scratch = scores if overwrite else scores.copy()
        rows, values = np.empty(k, dtype=np.int64), np.empty(k, dtype=scores.dtype)
        for i in range(k):
            rows[i] = scratch.argmax()  # the first of equal maxima: ties go by row
            values[i] = scratch[rows[i]]
            scratch[rows[i]] = -np.inf
    else:
        rows = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        # argpartition picks any of the scores equal to the k-th; take the first rows among them.
        kth = scores[rows].min() if len(rows) else -np.inf
        rows = np.concatenate([np.flatnonzero(scores > kth), np.flatnonzero(scores == kth)])[:k]
        rows = rows[np.lexsort((rows, -scores[rows]))]
        values = scores[rows]
    found = values > -np.inf
    return rows[found], values[found]


def top_with_ties(
    scores: np.ndarray,
    k: int,
    has_image: np.ndarray,
    ids: np.ndarray,
    closeness_of: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """`top_k` with ties in `within_tie` order: a tie at the k-th place is filled with its best
    photos. `closeness_of(rows)`: the rows' photo closeness to the query's photo (computed for the
    candidates only). Returns rows and scores, best first."""
    rows, values = top_k(scores, k)
    if not len(rows):
        return rows, values
    # Every member of the k-th score's tie is within TIE_TOLERANCE of its leader, which is at least
    # the k-th score; so the candidates are the rows at least that high, less the tolerance.
    candidates = np.flatnonzero((scores >= values[-1] - TIE_TOLERANCE) & np.isfinite(scores))
    order = tie_order(scores[candidates], has_image[candidates], closeness_of(candidates), ids[candidates])[:k]
    return candidates[order], scores[candidates[order]]


def cosine_top_k(queries: np.ndarray, pool: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices (queries x k) of the k most cosine-similar pool rows, best first, equal scores by
    row (exact). `exclude[i]` is a pool row query i may not return (itself, for in-catalog queries)."""
    q, p = unit(queries), unit(pool)
    out = np.empty((len(q), min(k, len(p))), dtype=np.int64)
    for begin in range(0, len(q), CHUNK):
        scores = q[begin : begin + CHUNK] @ p.T
        if exclude is not None:
            scores[np.arange(len(scores)), exclude[begin : begin + CHUNK]] = -np.inf
        for n, row in enumerate(scores):
            out[begin + n] = top_k(row, k, overwrite=True)[0]
    return out


# -- Rec: the pool ordered by the classifiers ------------------------------------------------------

# Rec results: the pool the classifiers order, and what each column counts (docs/quality.md, "Rec").
REC_POOL = 100  # the translated vector's nearest products that the classifiers re-order
# The photo shows category and colour; colour counts a third more than articleType because the
# graph space already groups by category (the pool holds the photo's category, not its colour).
# Measured on the demo catalog's held-out photos at 600 products, where a product rarely has 10
# others of its articleType and colour and the two trade almost one for one: colour 1.3 gave
# articleType / colour P@10 .74 / .63 (image space .40 / .65), 4/3 .71 / .66, 1.4 .69 / .67
# (docs/quality.md, "Rec ordered by the classifiers").
REC_WEIGHTS = {"articleType": 1.0, "baseColour": 4 / 3}
REC_OTHER_WEIGHT = 0.3  # gender, categories, season, year, usage: they break near-ties
REC_SHARPENING = 2  # probabilities are raised to this power and renormalised (see rec_preferences)
PREFERENCE_ROUNDING = 1e-9  # preference scores this close are equal (one attribute combination)


def rec_preferences(probabilities: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The classifiers' probabilities per column and value (`Linker.value_probabilities`) -> what a
    product carrying that value adds to its preference score: the column's weight times the
    probability squared and renormalised over the column.

    A product's preference is then the weighted expected number of its values the photo shares:
    the order that maximises the expected precision@k of each column if the probabilities are
    right. Squared, because the L2-regularised classifiers are under-confident: without it, a
    column's second-likeliest value counted nearly as much as the first (docs/quality.md).
    """
    preferences = {}
    for column, values in probabilities.items():
        squared = {value: p**REC_SHARPENING for value, p in values.items()}
        total = sum(squared.values()) or 1.0
        weight = REC_WEIGHTS.get(column, REC_OTHER_WEIGHT)
        preferences[column] = {value: weight * q / total for value, q in squared.items()}
    return preferences


def preference_order(preference_scores: np.ndarray) -> np.ndarray:
    """The order Rec returns candidates given best first by cosine (ties by photo): by preference
    score, highest first; equal scores (one attribute combination) keep the order given."""
    rounded = np.round(np.asarray(preference_scores, np.float64) / PREFERENCE_ROUNDING)
    return np.argsort(-rounded, kind="stable")


def row_preferences(rows: list[dict], preferences: dict[str, dict[str, float]]) -> np.ndarray:
    """Each row's preference score: the sum over columns of what its value adds."""
    return np.array([sum(table.get(row.get(column), 0.0) for column, table in preferences.items()) for row in rows])


def coded_preferences(
    preferences: dict[str, dict[str, float]], coded: Callable[[str], tuple[Sequence, np.ndarray]]
) -> np.ndarray:
    """`row_preferences` of rows held as value codes: `coded(column)` gives the column's distinct
    values and each row's code among them (-1: no value). The same sums in the same order, so the
    same floats, without a dict lookup per row and column (the snapshot's and eval's rankers)."""
    total: np.ndarray | float = 0.0
    for column, table in preferences.items():
        values, codes = coded(column)
        by_code = np.array([table.get(value, 0.0) for value in values] + [0.0])  # code -1: no value
        total = total + by_code[codes]
    return np.asarray(total, np.float64)


# -- arithmetic: the band ordered by the item -------------------------------------------------------

# Arithmetic results: the band and the pool it is taken from (docs/quality.md, "Arithmetic").
ARITHMETIC_BAND = 0.12  # cosine below the best result's within which results count as equally good
ARITHMETIC_POOL = 100  # results of the query the band is read from (the demo's bands hold fewer)


def band_order(scores: np.ndarray, closeness: np.ndarray) -> np.ndarray:
    """The order in which arithmetic returns candidates given best first by the query (ties by photo).

    Candidates within ARITHMETIC_BAND of the best query cosine come first, by `closeness` (the
    cosine of their vector with the item's own vector), then the others as given; candidates with
    equal closeness (one attribute combination) keep their given order, photo closeness.

    Why: the added values are unit vectors that together outweigh the item, so ranked by the
    query alone 25 different items get the same few products, those most typical of the added
    values (33 different products per 25 items x 6 results on the 3,000-product demo, `catalog
    eval`). Within a band of near-equal query scores every candidate carries the added values
    about as well, and the item picks among them: 46 different products, and more results keep
    its gender (docs/quality.md).
    """
    scores = np.asarray(scores, np.float64)
    if not len(scores):
        return np.arange(0)
    in_band = scores >= scores.max() - ARITHMETIC_BAND
    key = np.where(in_band, -np.round(np.asarray(closeness, np.float64) / TIE_TOLERANCE), np.inf)
    return np.lexsort((np.arange(len(scores)), key))
