"""Search library: attribute inference, arithmetic, filters (real LanceDB where a store is needed)."""

from __future__ import annotations

import numpy as np

from catalog.columns import ATTRIBUTE_COLUMNS
from catalog.search import Attribute, infer_attributes


def attribute(key: str, vector) -> Attribute:
    column, value = key.split("=", 1)
    return Attribute(key, column, value, np.asarray(vector, dtype=np.float32))


def test_infer_attributes_ranks_values_per_column_by_cosine():
    attributes = [
        attribute("baseColour=Green", [1, 0, 0]),
        attribute("baseColour=Red", [0, 1, 0]),
        attribute("baseColour=Blue", [0, 0, 1]),
        attribute("baseColour=Olive", [1, 1, 0]),
        attribute("gender=Men", [0, 5, 0]),  # length must not matter: cosine
        attribute("gender=Women", [1, 0, 0.1]),
    ]
    inferred = infer_attributes(np.array([3.0, 0.5, 0.0]), attributes, top=3)
    assert list(inferred) == list(ATTRIBUTE_COLUMNS)
    assert [value for value, _ in inferred["baseColour"]] == ["Green", "Olive", "Red"]
    assert [value for value, _ in inferred["gender"]] == ["Women", "Men"]
    scores = [score for _, score in inferred["baseColour"]]
    assert scores == sorted(scores, reverse=True) and abs(scores[0] - 3 / np.hypot(3, 0.5)) < 1e-3
    assert inferred["season"] == []  # a column without values in this catalog is still listed
    assert len(infer_attributes(np.ones(3), attributes, top=1)["baseColour"]) == 1
