"""Vector helpers shared by every layer: unit-normalising and exact cosine top-k.

All scores in the catalog are cosines, so vectors are compared as unit vectors; a zero vector
(a product without a photo holds a zero image vector) stays zero instead of becoming NaN.
"""

from __future__ import annotations

import numpy as np

MIN_NORM = 1e-12  # below this length a vector counts as zero and is left as it is
CHUNK = 512  # queries scored at a time by cosine_top_k: bounds the (queries x pool) temporaries


def unit(vectors: np.ndarray) -> np.ndarray:
    """L2-normalise a vector, or each row of a matrix, as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), MIN_NORM)


def photo_closeness(images: np.ndarray, has_image: np.ndarray, towards: np.ndarray) -> np.ndarray:
    """Cosine of each row's photo vector to `towards`, 0 for rows without a photo.

    The second key of the tie order (docs/graph-space.md): products of one attribute combination
    score the same in the graph space, so the one whose photo is closest to the query's comes first.
    """
    return np.where(has_image, unit(images) @ unit(towards), 0.0)


def cosine_top_k(queries: np.ndarray, pool: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices (queries x k) of the k most cosine-similar pool rows, best first (exact).

    `exclude[i]` is a pool row query i may not return (itself, for in-catalog queries).
    """
    q = unit(queries)
    p = unit(pool)
    out = np.empty((len(q), k), dtype=np.int64)
    for begin in range(0, len(q), CHUNK):
        scores = q[begin : begin + CHUNK] @ p.T
        if exclude is not None:
            scores[np.arange(len(scores)), exclude[begin : begin + CHUNK]] = -np.inf
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        out[begin : begin + CHUNK] = np.take_along_axis(top, order, axis=1)
    return out
