"""The catalog as `catalog eval` reads it, and the held-out products.

Everything eval scores compares attribute values, thousands of times per run; so they are read once
and turned into integer codes (one column per attribute, -1 = empty cell), which the metric
functions (`catalog.core.metrics`) compare as arrays. The held-out choice is seeded: the same seed
holds out the same products, so runs and their variants are comparable (docs/quality.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.core.photo_features import COLUMN as FEATURES_COLUMN
from catalog.core.photo_features import features_of, unpack
from catalog.store.database import Store
from catalog.store.photos import thumbnails_of


@dataclass
class Split:
    """The catalog as eval sees it: codes per product, and which products are held out."""

    catalog: pd.DataFrame
    codes: np.ndarray
    vocabularies: list[list[str]]
    held: np.ndarray  # boolean mask: queried as new photos
    image_vectors: np.ndarray
    thumbnails: list  # JPEG bytes, None without a photo: the photo features of rows that have none stored
    stored_features: np.ndarray  # (products, FEATURE_DIM) uint8 as ingest stores them; zeros = none

    def photo_features(self, rows: np.ndarray) -> np.ndarray:
        """The photo features of these catalog rows (indices), stored or measured."""
        return features_of(self.stored_features[rows], [self.thumbnails[r] for r in rows])

    @property
    def sample(self) -> np.ndarray:
        return ~self.held

    @property
    def sample_has_image(self) -> np.ndarray:
        return self.catalog["has_image"].to_numpy()[self.sample]

    @property
    def sample_with_image(self) -> np.ndarray:
        """Positions, among the in-sample products, of those with a photo."""
        return np.flatnonzero(self.sample_has_image)

    @property
    def pool_ids(self) -> np.ndarray:
        """In-sample product ids (ties between photo-less products go by id, as search orders them)."""
        return self.catalog["id"].to_numpy()[self.sample]

    @property
    def pool_images(self) -> np.ndarray:
        """In-sample image vectors, zero for a product without a photo: they order ties, and a zero
        vector sorts photo-less products last, as search does."""
        return np.where(self.sample_has_image[:, None], self.image_vectors[self.sample], 0.0)


def split_catalog(store: Store, holdout: float, seed: int, k: int) -> Split:
    """Load the catalog, code its attributes and choose the held-out products."""
    catalog = load_catalog(store)
    codes, vocabularies = attribute_codes(catalog)
    held = holdout_mask(catalog["has_image"].to_numpy(), holdout, seed)
    if int((~held & catalog["has_image"].to_numpy()).sum()) <= k:
        raise CatalogError(f"-k {k} needs more than {k} in-sample products with photos; lower -k or --holdout")
    image_vectors = np.stack(catalog["image_vector"].to_numpy()).astype(np.float32)
    stored = unpack(catalog.pop(FEATURES_COLUMN).tolist())
    return Split(catalog, codes, vocabularies, held, image_vectors, _thumbnails(store, catalog, stored), stored)


def _thumbnails(store: Store, catalog: pd.DataFrame, stored: np.ndarray) -> list:
    """Per product, its thumbnail where its photo features were never stored (then measured on it),
    else None: only those are read (none, in a database written since the features are stored)."""
    lacking = catalog["has_image"].to_numpy(bool) & ~stored.any(axis=1)
    ids = catalog["id"].to_numpy()
    found = thumbnails_of(store.table("products"), store.photos(), ids[lacking].tolist()) if lacking.any() else {}
    return [found.get(int(i)) for i in ids]


def load_catalog(store: Store) -> pd.DataFrame:
    """id, the attribute columns, has_image, image_vector and photo features (None where not stored)
    of every product, sorted by id."""
    table = store.table("products").to_arrow()
    stored = [FEATURES_COLUMN] if FEATURES_COLUMN in table.schema.names else []
    columns = ["id", *ATTRIBUTE_COLUMNS, "has_image", "image_vector", *stored]
    frame = table.select(columns).sort_by("id").to_pandas()
    if not stored:  # a table written before the features were stored
        frame[FEATURES_COLUMN] = None
    for column in ATTRIBUTE_COLUMNS:
        frame[column] = frame[column].fillna("").astype(object)
    return frame


def attribute_codes(catalog: pd.DataFrame) -> tuple[np.ndarray, list[list[str]]]:
    """Attribute values as int32 codes (products x columns), -1 for an empty cell; and the values per column."""
    codes = np.full((len(catalog), len(ATTRIBUTE_COLUMNS)), -1, dtype=np.int32)
    vocabularies = []
    for c, column in enumerate(ATTRIBUTE_COLUMNS):
        cells = np.array([str(v).strip() for v in catalog[column].to_numpy(dtype=object)], dtype=object)
        present = np.flatnonzero(cells != "")
        values, inverse = np.unique(cells[present].astype(str), return_inverse=True)
        codes[present, c] = inverse
        vocabularies.append(values.tolist())
    return codes, vocabularies


def holdout_mask(has_image: np.ndarray, share: float, seed: int) -> np.ndarray:
    """A seeded choice of round(share x products with photos) products, as a boolean mask."""
    candidates = np.flatnonzero(has_image)
    count = int(round(len(candidates) * share))
    if not 0 < share < 1 or count < 1 or count > len(candidates) - 2:
        raise CatalogError(
            f"--holdout {share} of {len(candidates)} products with photos leaves nothing to "
            "hold out or too little to train on"
        )
    mask = np.zeros(len(has_image), dtype=bool)
    mask[np.random.default_rng(seed).choice(candidates, size=count, replace=False)] = True
    return mask
