"""Photo features: the item's colours and outline, measured on its stored thumbnail.

Why: the image vector (ResNet50 and a random head) reads colour and outline poorly, above all
with `--weights random`: on the 600-product demo's held-out photos the `attributes` linker's
classifiers named baseColour right .84 of the time and articleType .78 from the image vector
alone. Two plain measurements of the photo, read by the same classifiers beside the image vector,
raise that to .95 and .92 (docs/quality.md, "Photo features"):

- **colour**: a histogram of the item's pixels, 4 levels per RGB channel (64 bins), as shares,
  square-rooted (so a few large bins do not drown the small ones a logistic regression also needs);
- **silhouette**: which cells of a 16 x 16 grid the item covers, on a square canvas centred on
  the photo, so the aspect ratio counts as well (a pair of jeans is tall, a belt wide).

The item's pixels are those unlike the background, taken as the median colour of the photo's
border: product photos are shot on a plain white or grey ground. A photo with no such ground
(the item fills it, or a scene) keeps every pixel: colour then describes the whole photo and the
silhouette is full, which the classifiers learn to read as "no outline".

Measured on the stored 96-px JPEG thumbnail, not the photo file: every database has it, so a
database written before the features existed gets them on its next `catalog rebuild` without its
photo folder, and a new photo is measured on a thumbnail made the same way
(`catalog.core.photos.load_image`). Ingest stores them (uint8, 320 bytes a photo) in the products
table beside the image vector, so training, `catalog eval` and Rec's order never decode a
thumbnail again (a `similar` from `catalog serve`'s memory takes well under a millisecond; with
a decode per request it took ~5). No TensorFlow here.
"""

from __future__ import annotations

import io
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
from PIL import Image

COLOUR_LEVELS = 4  # per RGB channel: 64 bins
SILHOUETTE_CELLS = 16  # per side of the grid
FEATURE_DIM = COLOUR_LEVELS**3 + SILHOUETTE_CELLS**2  # 320
BACKGROUND_TOLERANCE = 24  # a pixel this far (max over channels) from the border's median is the item's
MIN_ITEM_SHARE = 0.02  # less of the photo than this differs from its border: no background to remove
PROGRESS_STEP = 1000
COLUMN = "photo_features"  # where the products table keeps them: FEATURE_DIM bytes (uint8), null without a photo


def photo_features(thumbnail: bytes | None) -> np.ndarray:
    """A JPEG thumbnail -> (FEATURE_DIM,) float32: colour histogram, then silhouette. Zeros for
    no thumbnail or one that cannot be decoded (never a product the linker reads: those have photos)."""
    features = np.zeros(FEATURE_DIM, np.float32)
    if not thumbnail:
        return features
    try:
        with Image.open(io.BytesIO(thumbnail)) as image:
            pixels = np.asarray(image.convert("RGB"), np.int16)
    except (OSError, ValueError, Image.DecompressionBombError):
        return features
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    item = np.abs(pixels - np.median(border, axis=0)).max(axis=2) > BACKGROUND_TOLERANCE
    if item.mean() < MIN_ITEM_SHARE:
        item[:] = True
    levels = pixels[item] * COLOUR_LEVELS // 256
    bins = (levels[:, 0] * COLOUR_LEVELS + levels[:, 1]) * COLOUR_LEVELS + levels[:, 2]
    histogram = np.bincount(bins, minlength=COLOUR_LEVELS**3)
    features[: COLOUR_LEVELS**3] = np.sqrt(histogram / histogram.sum())
    features[COLOUR_LEVELS**3 :] = _silhouette(item)
    return from_stored(to_stored(features))  # on the stored grid, so fresh and stored features agree exactly


def to_stored(features: np.ndarray) -> np.ndarray:
    """Features in [0, 1] -> uint8, as the products table keeps them (320 bytes a photo)."""
    return np.round(np.asarray(features, np.float32) * 255).astype(np.uint8)


def from_stored(stored: np.ndarray) -> np.ndarray:
    return np.asarray(stored, np.uint8).astype(np.float32) / np.float32(255)


def features_of(stored: np.ndarray | None, thumbnails: Sequence[bytes | None]) -> np.ndarray:
    """(N, FEATURE_DIM) float32: the stored features (uint8 rows, as ingest writes them) where a
    row has them, else measured on the thumbnail (a database written before they were stored)."""
    if stored is None:
        return photo_features_of(thumbnails)
    stored = np.asarray(stored, np.uint8).reshape(len(thumbnails), FEATURE_DIM)
    features = from_stored(stored)
    for row in np.flatnonzero(~stored.any(axis=1)):
        features[row] = photo_features(thumbnails[row])
    return features


def photo_features_of(thumbnails: Sequence[bytes | None], progress: Callable[[int], None] | None = None) -> np.ndarray:
    """(N, FEATURE_DIM) float32, one row per thumbnail; `progress(n)` after every PROGRESS_STEP."""
    features = np.zeros((len(thumbnails), FEATURE_DIM), np.float32)
    for row, thumbnail in enumerate(thumbnails):
        features[row] = photo_features(thumbnail)
        if progress is not None and (row + 1) % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    if progress is not None and len(thumbnails) % PROGRESS_STEP:
        progress(len(thumbnails) % PROGRESS_STEP)
    return features


def _silhouette(item: np.ndarray) -> np.ndarray:
    """The share of each grid cell the item covers, the mask centred on a square canvas."""
    height, width = item.shape
    side = max(height, width)
    canvas = np.zeros((side, side), np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    canvas[top : top + height, left : left + width] = item * 255
    grid = Image.fromarray(canvas).resize((SILHOUETTE_CELLS, SILHOUETTE_CELLS), Image.Resampling.BOX)
    return np.asarray(grid, np.float32).ravel() / 255


def stored_features(table: pa.Table) -> np.ndarray:
    """The photo_features column as a (rows, FEATURE_DIM) uint8 matrix, zeros where null (no photo,
    or a table written before the column existed)."""
    if COLUMN not in table.schema.names:
        return np.zeros((table.num_rows, FEATURE_DIM), np.uint8)
    return unpack(table.column(COLUMN).to_pylist())


def pack(features: np.ndarray) -> list[bytes]:
    """Rows of features -> the products table's values: FEATURE_DIM bytes each (uint8)."""
    return [row.tobytes() for row in to_stored(np.atleast_2d(features))]


def unpack(values) -> np.ndarray:
    """Stored values (bytes, or None) -> a (rows, FEATURE_DIM) uint8 matrix, zeros for None."""
    matrix = np.zeros((len(values), FEATURE_DIM), np.uint8)
    for row, value in enumerate(values):
        if value is not None and len(value) == FEATURE_DIM:
            matrix[row] = np.frombuffer(value, np.uint8)
    return matrix
