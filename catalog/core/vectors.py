"""Vector helpers shared by every layer: unit-normalising and photo closeness (top-k is ranking's:
`catalog/core/ranking.py`).

All scores in the catalog are cosines, so vectors are compared as unit vectors; a zero vector
(a product without a photo holds a zero image vector) stays zero instead of becoming NaN.
"""

from __future__ import annotations

import numpy as np

MIN_NORM = 1e-12  # below this length a vector counts as zero and is left as it is


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
