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

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.core.vectors import unit

# -- the settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingSettings:
    """What the orders below weigh, as data: recorded with each run (in the run's linker record,
    since the linker's classifiers are what most of them weigh), shown by `catalog info`, settable
    on `ingest`, `rebuild` and `eval` (`--ranking KEY=VALUE`) and in the API (`ranking=`).

    The defaults are values chosen on the demo catalogs (docs/quality.md says which measurement
    chose each), not laws: a catalog with other structure may want others, and `catalog eval
    --ranking ...` measures them on it without changing the database.
    """

    # Rec: the translated photo's nearest `rec_pool` products ordered by the classifiers; per
    # column, what a product's value counts (`rec_weights`, columns not named: `rec_other_weight`),
    # the probabilities raised to `rec_sharpening` and renormalised (docs/quality.md, "Rec").
    rec_weights: Mapping[str, float] = field(default_factory=lambda: {"articleType": 1.0, "baseColour": 4 / 3})
    rec_other_weight: float = 0.3
    rec_sharpening: float = 2.0
    rec_pool: int = 100
    # Arithmetic: the query's first `arithmetic_pool` results; those within `arithmetic_band` of
    # the best cosine ordered by closeness to the item (docs/quality.md, "Arithmetic").
    arithmetic_pool: int = 100
    arithmetic_band: float = 0.12
    # How arithmetic orders that pool: "values" (the default), by what a hit is -- the terms' values
    # carried, then the item's other values kept, weighted by `kept_weights` -- or "band" (the order
    # before: the band ordered by closeness to the item, `band_order`). The kept weights are set a
    # priori, not fitted: who a product is for (gender) outweighs when and how it is worn (season,
    # year and usage together: .8 < 1, the three in the proportions they had when they summed to
    # gender's 1 and tied with it), so a result of the item's gender is never passed by one of
    # another gender that keeps only those (tests/test_ranking.py); what it is and what it looks
    # like (the category tree, the colour) weigh as much as the gender, since a photo shows them
    # and its gender is only estimated.
    arithmetic_order: str = "values"
    kept_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "gender": 1.0,
            "masterCategory": 0.5,
            "subCategory": 0.5,
            "articleType": 1.0,
            "baseColour": 1.0,
            "season": 0.2,
            "year": 0.2,
            "usage": 0.4,
        }
    )
    # The `attributes` linker: how much each column's classifier counts when it weighs the
    # catalog's combinations (catalog/models/linker.py). Keyed by column name, so reordering
    # ATTRIBUTE_COLUMNS cannot shift them; a column not named counts 0.
    linker_weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "gender": 0.5,
            "masterCategory": 1.0,
            "subCategory": 1.0,
            "articleType": 2.0,
            "baseColour": 1.0,
            "season": 0.3,
            "year": 0.1,
            "usage": 0.5,
        }
    )

    def to_dict(self) -> dict[str, Any]:
        return {name: dict(value) if isinstance(value, Mapping) else value for name, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "RankingSettings":
        """Settings from a record (a run's, an eval document's); names it lacks take the defaults
        (a database written before a setting existed was ranked with its default)."""
        return DEFAULT_RANKING.changed(data or {})

    def changed(self, changes: Mapping[str, Any]) -> "RankingSettings":
        """These settings with `changes`: whole settings by name (`{"arithmetic_band": 0.1}`), or one
        column of a weight table by `name.column` (`{"rec_weights.baseColour": 1.5}`); a weight table
        given whole replaces the table. Unknown names, columns and values are a CatalogError."""
        known = {f.name: f for f in fields(self)}
        updates: dict[str, Any] = {}
        for key, value in changes.items():
            name, _, column = str(key).partition(".")
            if name not in known:
                raise CatalogError(f"unknown ranking setting {key!r}; settings are {', '.join(known)}")
            table = name.endswith("_weights")
            if column and not table:
                raise CatalogError(f"ranking setting {name!r} has no columns; give {name}=VALUE")
            if table and column:
                updates[name] = {**updates.get(name, getattr(self, name)), column: value}
            elif table:
                if not isinstance(value, Mapping):
                    raise CatalogError(
                        f"ranking setting {name!r} is a table of column weights; give {name}.COLUMN=VALUE"
                    )
                updates[name] = dict(value)
            else:
                updates[name] = value
        for name, value in updates.items():
            updates[name] = _checked(name, value, known[name].type)
        return replace(self, **updates)


def _checked(name: str, value: Any, kind: Any) -> Any:
    """A setting's value as its type, or a CatalogError naming it."""
    if name == "arithmetic_order":
        if value not in ARITHMETIC_ORDERS:
            raise CatalogError(
                f"ranking setting arithmetic_order must be one of {', '.join(ARITHMETIC_ORDERS)}, got {value!r}"
            )
        return value
    if name.endswith("_weights"):
        unknown = sorted(set(value) - set(ATTRIBUTE_COLUMNS))
        if unknown:
            raise CatalogError(
                f"ranking setting {name}: unknown column {unknown[0]!r}; columns are {', '.join(ATTRIBUTE_COLUMNS)}"
            )
        return {
            column: _number(f"{name}.{column}", value[column], float) for column in ATTRIBUTE_COLUMNS if column in value
        }
    number = _number(name, value, int if name.endswith("_pool") else float)
    if name.endswith("_pool") and number < 1:
        raise CatalogError(f"ranking setting {name} must be at least 1, got {value!r}")
    return number


def _number(name: str, value: Any, kind: type) -> Any:
    try:
        number = kind(float(value)) if kind is int and float(value).is_integer() else kind(value)
    except (TypeError, ValueError):
        raise CatalogError(f"ranking setting {name} must be a number, got {value!r}") from None
    if not np.isfinite(number) or number < 0:
        raise CatalogError(f"ranking setting {name} must be a finite number of at least 0, got {value!r}")
    return number


ARITHMETIC_ORDERS = ("values", "band")
DEFAULT_RANKING = RankingSettings()


TIE_TOLERANCE = 1e-6  # cosines this close are one tie (equal vectors, float rounding aside)
SMALL_K = 64  # up to this k, `top_k` takes k argmax passes instead of a partition
CHUNK = 512  # queries scored at a time by `cosine_top_k`: bounds the (queries x pool) temporaries


# -- ties and top k ------------------------------------------------------------------------------


def tie_groups(scores: np.ndarray) -> np.ndarray:
    """Group numbers of scores given best first: a score joins the current group when it is within
    TIE_TOLERANCE of the group's first score, and starts the next group otherwise."""
    scores = np.asarray(scores, np.float64)
    if not len(scores):
        return np.zeros(0, np.int64)
    # Fast path: where no run of near-equal scores spans more than the tolerance (the usual case:
    # equal vectors score exactly alike), chained differences give the same groups, in numpy.
    chained = np.concatenate([[0], np.cumsum(np.diff(scores) < -TIE_TOLERANCE)])
    starts = np.flatnonzero(np.diff(chained, prepend=-1))
    if np.all(scores[starts] - np.minimum.reduceat(scores, starts) <= TIE_TOLERANCE):
        return chained
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


# Photo-less products of one combination are ranked by id at every full write (`tie_ranks`), so a
# search can read only the first few of a tie of tens of thousands (catalog/query/search.py). Ranks
# past TIE_RANKS are stored as TIE_RANKS + 1: a search asking for more than TIE_RANKS of one tie
# reads the whole tie, and the column keeps few distinct values (a bitmap index suits it).
TIE_RANKS = 100
UNRANKED = 0  # a photo (ordered by closeness to the query's, not by id) or a row written since


def tie_ranks(vectors: np.ndarray, ids: np.ndarray, has_image: np.ndarray) -> np.ndarray:
    """Each product's place by id (1, 2, ...) among the photo-less products whose vector equals its
    own, capped at TIE_RANKS + 1; UNRANKED for products with a photo.

    Equal vectors are found by a 64-bit hash of their bytes. Two different vectors that collide are
    ranked as one group, which keeps what a reader relies on: within the products of one vector the
    ranks still grow with the id and never repeat (a reader that does not find ranks 1..n of a tie
    reads the whole tie instead)."""
    ids = np.asarray(ids, np.int64)
    ranks = np.full(len(ids), UNRANKED, np.int64)
    rows = np.flatnonzero(~np.asarray(has_image, bool))
    if not len(rows):
        return ranks
    words = np.ascontiguousarray(vectors, np.float32).view(np.uint32)
    hashes = np.zeros(len(rows), np.uint64)
    multipliers = np.random.default_rng(0).integers(1, 2**63, words.shape[1], dtype=np.uint64) | np.uint64(1)
    for start in range(0, len(rows), 1 << 18):  # a slice at a time: no 8-byte copy of every vector
        part = words[rows[start : start + (1 << 18)]].astype(np.uint64)
        mixed = np.zeros(len(part), np.uint64)
        for d in range(part.shape[1]):
            mixed = (mixed ^ ((part[:, d] + np.uint64(d)) * multipliers[d])) * np.uint64(0x9E3779B97F4A7C15)
            mixed ^= mixed >> np.uint64(29)
        hashes[start : start + len(part)] = mixed
    order = np.lexsort((ids[rows], hashes))
    hashes = hashes[order]
    first = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    place = np.arange(len(order)) - np.repeat(first, np.diff(np.r_[first, len(order)]))
    ranks[rows[order]] = np.minimum(place + 1, TIE_RANKS + 1)
    return ranks


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

# The defaults as names (what callers and docs cite). Why each value: docs/quality.md, "Rec" -- the
# photo shows category and colour; colour counts a third more than articleType because the graph
# space already groups by category (the pool holds the photo's category, not its colour). On the
# demo's held-out photos at 600 products, where a product rarely has 10 others of its articleType
# and colour and the two trade almost one for one, colour 1.3 gave articleType / colour P@10
# .74 / .63 (image space .40 / .65), 4/3 .71 / .66, 1.4 .69 / .67; the other columns (.3) break
# near-ties; p² because the L2-regularised classifiers are under-confident.
REC_POOL = DEFAULT_RANKING.rec_pool
REC_WEIGHTS = dict(DEFAULT_RANKING.rec_weights)
REC_OTHER_WEIGHT = DEFAULT_RANKING.rec_other_weight
REC_SHARPENING = DEFAULT_RANKING.rec_sharpening
PREFERENCE_ROUNDING = 1e-9  # preference scores this close are equal (one attribute combination)


def rec_preferences(
    probabilities: dict[str, dict[str, float]], settings: RankingSettings = DEFAULT_RANKING
) -> dict[str, dict[str, float]]:
    """The classifiers' probabilities per column and value (`Linker.value_probabilities`) -> what a
    product carrying that value adds to its preference score: the column's weight times the
    probability squared (`settings.rec_sharpening`) and renormalised over the column.

    A product's preference is then the weighted expected number of its values the photo shares:
    the order that maximises the expected precision@k of each column if the probabilities are
    right. Squared, because the L2-regularised classifiers are under-confident: without it, a
    column's second-likeliest value counted nearly as much as the first (docs/quality.md).
    """
    preferences = {}
    for column, values in probabilities.items():
        squared = {value: p**settings.rec_sharpening for value, p in values.items()}
        total = sum(squared.values()) or 1.0
        weight = settings.rec_weights.get(column, settings.rec_other_weight)
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

# The defaults as names (docs/quality.md, "Arithmetic": .12 was the narrowest band giving 40
# distinct products per 25 items x 6 at 600 demo products with a margin; reading 400 results
# instead of 100 changed nothing on the demo catalogs).
ARITHMETIC_BAND = DEFAULT_RANKING.arithmetic_band
ARITHMETIC_POOL = DEFAULT_RANKING.arithmetic_pool


def band_order(scores: np.ndarray, closeness: np.ndarray, band: float = ARITHMETIC_BAND) -> np.ndarray:
    """The order in which arithmetic returns candidates given best first by the query (ties by photo).

    Candidates within `band` (`RankingSettings.arithmetic_band`) of the best query cosine come first, by `closeness` (the
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
    in_band = scores >= scores.max() - band
    key = np.where(in_band, -np.round(np.asarray(closeness, np.float64) / TIE_TOLERANCE), np.inf)
    return np.lexsort((np.arange(len(scores)), key))


# -- arithmetic: a hit carries the terms' values and keeps the item's others ------------------------

# Columns of one category tree: a term on one of them changes the others with it (Shoes are never
# Topwear's articleType), so none of them is the item's to keep then.
CATEGORY_COLUMNS = ("masterCategory", "subCategory", "articleType")


@dataclass(frozen=True)
class ArithmeticTarget:
    """What a result of `item + values - values` should be, as scores a candidate's values add:
    `plus[column][value]` for each added value it carries, `minus[column][value]` for each
    subtracted value it does *not* carry (counted as weight minus what it carries), and
    `kept[column][value]` for each of the item's other values it keeps: the kept weight times how
    sure the item's value is (1 for a catalog item's own value; a photo's sharpened probability)."""

    plus: dict[str, dict[str, float]]
    minus: dict[str, dict[str, float]]
    kept: dict[str, dict[str, float]]

    @property
    def minus_total(self) -> float:
        return float(sum(w for values in self.minus.values() for w in values.values()))


def arithmetic_target(
    terms: Sequence[tuple[str, str, float]],
    item_values: Mapping[str, Mapping[str, float]],
    settings: RankingSettings = DEFAULT_RANKING,
) -> ArithmeticTarget:
    """The target of arithmetic terms (`(column, value, weight)`, weight < 0 subtracts) for an item
    whose values are `item_values` (column -> value -> probability: one value with 1 for a catalog
    product, the averaged one-hots of several, a photo's classifier probabilities).

    Kept are the columns no term touches (a term on a category column touches the whole tree);
    a photo's probabilities are sharpened as Rec's are (`rec_sharpening`), since the classifiers
    are under-confident.
    """
    plus: dict[str, dict[str, float]] = {}
    minus: dict[str, dict[str, float]] = {}
    touched = set()
    for column, value, weight in terms:
        table = plus if weight > 0 else minus
        table.setdefault(column, {})
        table[column][value] = table[column].get(value, 0.0) + abs(float(weight))
        touched |= set(CATEGORY_COLUMNS) if column in CATEGORY_COLUMNS else {column}
    kept = {}
    for column, values in item_values.items():
        weight = settings.kept_weights.get(column, 0.0)
        if column in touched or not weight or not values:
            continue
        sharpened = {value: p**settings.rec_sharpening for value, p in values.items()}
        total = sum(sharpened.values()) or 1.0
        kept[column] = {value: weight * q / total for value, q in sharpened.items()}
    return ArithmeticTarget(plus, minus, kept)


def target_scores(
    target: ArithmeticTarget, coded: Callable[[str], tuple[Sequence, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate (held as value codes, as `coded_preferences` takes them): the terms' score
    (added values carried plus subtracted values not carried, by weight) and the kept score."""
    carried = coded_preferences(target.plus, coded) + target.minus_total - coded_preferences(target.minus, coded)
    return carried, coded_preferences(target.kept, coded)


def row_target_scores(rows: list[dict], target: ArithmeticTarget) -> tuple[np.ndarray, np.ndarray]:
    """`target_scores` of rows held as dicts (LanceDB's results)."""
    carried = row_preferences(rows, target.plus) + target.minus_total - row_preferences(rows, target.minus)
    return carried, row_preferences(rows, target.kept)


def arithmetic_order(carried: np.ndarray, kept: np.ndarray, closeness: np.ndarray) -> np.ndarray:
    """The order in which arithmetic returns candidates given best first by the query (ties by photo).

    A result of `item + values - values` is a hit when it carries the added values and keeps the
    item's other values (how the attribute-manipulation literature scores it), so candidates go by
    that: the most of the terms' weight satisfied first (success), then the most of the item's
    other values kept (`kept_weights`: its gender before its season, year and usage together), then closest to the item's own vector
    (different items that share their values still get different products), then as given.

    Why not the query's cosine alone: the added values are unit vectors that together outweigh the
    item, so the query ranks first the products most typical of the added values, whatever the
    item. The band (`band_order`) let the item pick among near-equal scores by closeness in the
    graph space, which keeps the item's values only as far as the graph space happens to place
    them: on the demo catalogs, where gender follows the article type, that kept the gender .56 of
    the time, on a catalog where it does not, at chance (docs/quality.md).
    """
    rounded = [-np.round(np.asarray(x, np.float64) / PREFERENCE_ROUNDING) for x in (carried, kept)]
    near = -np.round(np.asarray(closeness, np.float64) / TIE_TOLERANCE)
    return np.lexsort((np.arange(len(near)), near, rounded[1], rounded[0]))


def best_hits(carried: np.ndarray, kept: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """What any order that puts hits first (`arithmetic_order`'s first two keys: the terms' weight
    carried, then the item's values kept) returns among its first k: masks of the candidates that
    are better hits than the k-th (`sure`: all of them), and of those tied with the k-th (the order's
    later keys pick which fill the rest). `catalog eval` bounds distinct with it."""
    carried, kept = (np.round(np.asarray(x, np.float64) / PREFERENCE_ROUNDING) for x in (carried, kept))
    if k < 1 or len(carried) <= k:  # nothing to choose: no place, or room for every candidate
        return np.full(len(carried), k >= 1), np.zeros(len(carried), bool)
    kth = np.lexsort((-kept, -carried))[k - 1]
    sure = (carried > carried[kth]) | ((carried == carried[kth]) & (kept > kept[kth]))
    return sure, (carried == carried[kth]) & (kept == kept[kth])
