"""The linkers: the `attributes` linker on photos whose features show some attributes and not others."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from catalog.core.errors import CatalogError
from catalog.models.linker import Linker, LinkerParams, train_linker

COLOURS, SUBS, GENDERS = ["Red", "Green", "Blue"], ["Topwear", "Shoes", "Bags"], ["Men", "Women"]


def _catalog(reps: int, seed: int):
    """Products of every colour x subCategory x gender, 8 columns (the other five constant, one of them
    empty). A photo's features show colour and subCategory (with noise), never gender; a node vector
    is the sum of orthonormal vectors of its values, so each combination has its own direction."""
    rng = np.random.default_rng(seed)
    combos = list(itertools.product(COLOURS, SUBS, GENDERS)) * reps
    values = np.array([[g, "Apparel", s, "Type", c, "Summer", "2012", ""] for c, s, g in combos], dtype=object)
    features = np.zeros((len(combos), 16), np.float32)
    for n, (c, s, _) in enumerate(combos):
        features[n, COLOURS.index(c)] = 3.0
        features[n, 3 + SUBS.index(s)] = 3.0
    features += rng.normal(scale=1.0, size=features.shape).astype(np.float32) + 5.0  # unscaled, like the backbone's
    keys = sorted({(c, v) for row in values for c, v in enumerate(row) if v})
    basis = {key: vector for key, vector in zip(keys, np.eye(len(keys), dtype=np.float32))}
    nodes = np.stack([sum(basis[(c, v)] for c, v in enumerate(row) if v) for row in values]).astype(np.float32)
    return features, nodes, values


def _nearest_rows(translated: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    return np.argmax(unit(translated) @ unit(nodes).T, axis=1)


def test_attributes_linker_lands_on_the_combinations_a_photo_shows():
    x, y, values = _catalog(reps=15, seed=0)
    fit = train_linker(x, y, LinkerParams(kind="attributes"), values=values)
    assert fit.linker.kind == "attributes" and fit.metrics["combinations"] == 18
    new_x, _, new_values = _catalog(reps=3, seed=1)  # new photos of the same kinds of product
    translated = fit.linker.translate(new_x)
    assert translated.shape == (len(new_x), y.shape[1]) and translated.dtype == np.float32
    found = values[_nearest_rows(translated, y)]
    assert (found[:, 4] == new_values[:, 4]).mean() > 0.9  # colour, shown
    assert (found[:, 2] == new_values[:, 2]).mean() > 0.9  # subCategory, shown
    assert 0.2 < (found[:, 0] == new_values[:, 0]).mean() < 0.8  # gender is not in the photo: a guess

    # Shuffled photos: the same training finds nothing (the check can fail).
    shuffled = train_linker(
        x[np.random.default_rng(2).permutation(len(x))], y, LinkerParams(kind="attributes"), values=values
    )
    found = values[_nearest_rows(shuffled.linker.translate(new_x), y)]
    assert (found[:, 4] == new_values[:, 4]).mean() < 0.6


def test_attributes_linker_round_trips_through_its_file():
    x, y, values = _catalog(reps=4, seed=0)
    linker = train_linker(x, y, LinkerParams(kind="attributes"), values=values).linker
    loaded = Linker.from_bytes(linker.to_bytes())
    assert loaded.kind == "attributes" and len(loaded.heads) == 8
    assert np.array_equal(loaded.translate(x), linker.translate(x))
    assert linker.translate(x[:0]).shape == (0, y.shape[1])


def test_attributes_linker_needs_the_values():
    x, y, _ = _catalog(reps=1, seed=0)
    with pytest.raises(CatalogError, match="attribute values"):
        train_linker(x, y, LinkerParams(kind="attributes"))


def test_params_record_only_what_shapes_their_kind():
    for kind, present, absent in [("attributes", "regularisation", "epochs"), ("cosine", "hidden", "sharpness")]:
        params = LinkerParams(kind=kind, seed=3)
        record = params.to_dict()
        assert record["kind"] == kind and record["seed"] == 3 and present in record and absent not in record
        assert LinkerParams.from_dict(record) == params  # the defaults fill what is not recorded
    # Calibration is an `attributes` setting, off unless asked for (and in a record written before it).
    assert "calibrate" in LinkerParams().to_dict() and "calibrate" not in LinkerParams(kind="cosine").to_dict()
    assert LinkerParams.from_dict({"kind": "attributes", "seed": 0}).calibrate is False


def test_attributes_linker_reads_a_photos_values_with_probabilities():
    x, y, values = _catalog(reps=15, seed=0)
    linker = train_linker(x, y, LinkerParams(kind="attributes"), values=values).linker
    loaded = Linker.from_bytes(linker.to_bytes())  # the value names travel with the file
    new_x, _, new_values = _catalog(reps=3, seed=1)
    right = []
    for photo, truth in zip(new_x, new_values):
        inferred = loaded.infer(photo, top=3)
        assert list(inferred) == [
            "gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "year", "usage"
        ]  # fmt: skip
        right.append((inferred["baseColour"][0][0] == truth[4], inferred["subCategory"][0][0] == truth[2]))
        scores = [p for _, p in inferred["baseColour"]]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001  # probabilities, best first
        assert inferred["masterCategory"] == [("Apparel", 1.0)] and inferred["usage"] == []  # one value; always empty
        assert {v for v, _ in inferred["gender"]} == {"Men", "Women"}  # not in the photo: both, as a guess
    assert np.mean(right, axis=0).min() > 0.9  # colour and subCategory, which the photos show, read right
    # A linker saved before the names were kept, and a network linker, have no classifiers to read:
    arrays = {k: v for k, v in linker.arrays().items() if not k.endswith("_classes")}
    old = Linker.from_bytes(_npz(arrays))
    assert old.classes is None and old.infer(new_x[0]) is None
    network = train_linker(x, y, LinkerParams(kind="cosine", epochs=2)).linker
    assert network.infer(new_x[0]) is None


def _npz(arrays: dict) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_photo_features_let_the_classifiers_read_what_the_image_vector_misses():
    """Image vectors that show subCategory only, photo features that show colour: with the features
    the classifiers read colour; without, colour is a guess. The flag travels with the file."""
    x, y, values = _catalog(reps=15, seed=0)
    new_x, _, new_values = _catalog(reps=3, seed=1)

    def split(photos, rows, seed):  # colour moves from the image vector into the photo features
        rng = np.random.default_rng(seed)
        features = np.zeros((len(photos), 4), np.float32)
        features[np.arange(len(photos)), [COLOURS.index(c) for c in rows[:, 4]]] = 1.0
        images = photos.copy()
        images[:, :3] = rng.normal(5.0, 1.0, size=(len(photos), 3))
        return images, features + rng.normal(scale=0.2, size=features.shape).astype(np.float32)

    images, features = split(x, values, 0)
    new_images, new_features = split(new_x, new_values, 1)
    with_features = train_linker(images, y, LinkerParams(kind="attributes"), values=values, features=features).linker
    without = train_linker(images, y, LinkerParams(kind="attributes", photo_features=False), values=values,
                           features=features).linker  # fmt: skip
    assert with_features.photo_features and not without.photo_features

    def colour_right(linker, feats):
        return np.mean([
            linker.infer(image, top=1, features=f)["baseColour"][0][0] == truth[4]
            for image, f, truth in zip(new_images, feats, new_values)
        ])  # fmt: skip

    assert colour_right(with_features, new_features[:, None, :]) > 0.9
    assert colour_right(without, [None] * len(new_images)) < 0.6

    loaded = Linker.from_bytes(with_features.to_bytes())
    assert loaded.photo_features
    assert np.array_equal(loaded.translate(new_images, new_features), with_features.translate(new_images, new_features))
    with pytest.raises(ValueError, match="photo features"):
        loaded.translate(new_images)
    probabilities = loaded.value_probabilities(new_images[:2], new_features[:2])
    assert abs(sum(probabilities["baseColour"].values()) - 1.0) < 1e-5  # the mean of two distributions


def _overconfident_catalog(reps: int, seed: int):
    """`_catalog` with 40 noise inputs beside the features: a weakly regularised classifier fits
    the training photos' genders from the noise and is sure of them, though no photo shows gender."""
    x, y, values = _catalog(reps, seed)
    noise = np.random.default_rng(seed + 100).normal(size=(len(x), 40)).astype(np.float32)
    return np.concatenate([x, noise], axis=1), y, values


def test_calibration_fits_a_temperature_per_column_that_travels_with_the_file():
    x, y, values = _catalog(reps=15, seed=0)
    fit = train_linker(x, y, LinkerParams(kind="attributes", calibrate=True), values=values)
    linker = fit.linker
    assert linker.temperatures is not None and linker.temperatures.shape == (8,)
    report = fit.metrics["calibration"]
    # masterCategory, season and year hold one value and usage none: nothing to calibrate, T = 1.
    assert set(report) == {"gender", "subCategory", "baseColour"}
    assert list(linker.temperatures[[1, 3, 5, 6, 7]]) == [1.0] * 5
    for column, figures in report.items():
        c = ["gender", "masterCategory", "subCategory", "articleType", "baseColour"].index(column)
        assert figures["temperature"] == round(float(linker.temperatures[c]), 4)
        assert figures["rows"] == round(len(x) * 0.1)
        assert figures["log_loss_after"] <= figures["log_loss_before"]
        assert {"ece_before", "ece_after"} <= set(figures)

    loaded = Linker.from_bytes(linker.to_bytes())
    assert np.array_equal(loaded.temperatures, linker.temperatures)
    new_x, _, _ = _catalog(reps=3, seed=1)
    assert loaded.value_probabilities(new_x[:5]) == linker.value_probabilities(new_x[:5])
    assert np.array_equal(loaded.translate(new_x), linker.translate(new_x))

    # Off (the default): no temperatures and nothing recorded; the classifiers themselves are the same.
    plain = train_linker(x, y, LinkerParams(kind="attributes"), values=values)
    assert plain.linker.temperatures is None and "calibration" not in plain.metrics
    assert all(
        np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(plain.linker.heads, linker.heads)
    )
    assert "temperatures" not in plain.linker.arrays()


def test_a_linker_file_without_temperatures_answers_as_before():
    """A file written before calibration has no temperatures: it reads as temperature 1, so its
    probabilities and translations are exactly the uncalibrated classifiers'."""
    x, y, values = _catalog(reps=15, seed=0)
    calibrated = train_linker(x, y, LinkerParams(kind="attributes", calibrate=True), values=values).linker
    uncalibrated = train_linker(x, y, LinkerParams(kind="attributes", calibrate=False), values=values).linker
    old = Linker.from_bytes(_npz({k: v for k, v in calibrated.arrays().items() if k != "temperatures"}))
    assert old.temperatures is None
    new_x, _, _ = _catalog(reps=3, seed=1)
    assert old.value_probabilities(new_x[:5]) == uncalibrated.value_probabilities(new_x[:5])
    assert np.array_equal(old.translate(new_x), uncalibrated.translate(new_x))
    assert old.value_probabilities(new_x[:5]) != calibrated.value_probabilities(new_x[:5])


def test_calibration_tempers_a_classifier_sure_of_what_the_photo_does_not_show():
    x, y, values = _overconfident_catalog(reps=10, seed=0)
    params = LinkerParams(kind="attributes", regularisation=10.0, photo_features=False, calibrate=True)
    fit = train_linker(x, y, params, values=values)
    gender = fit.metrics["calibration"]["gender"]
    assert gender["temperature"] > 2  # over-confident: softened
    assert gender["log_loss_after"] < gender["log_loss_before"] - 0.1  # on the validation split
    assert gender["ece_after"] < gender["ece_before"]

    # On new photos: the uncalibrated classifier is sure of a gender it gets right half the time;
    # the calibrated one is about as unsure as it should be, and still reads colour.
    plain = train_linker(x, y, replace(params, calibrate=False), values=values).linker
    new_x, _, new_values = _overconfident_catalog(reps=3, seed=1)

    def sure_and_right(linker, column, c):
        probabilities = [linker.value_probabilities(photo) for photo in new_x]
        top = [max(p[column].values()) for p in probabilities]
        right = [max(p[column], key=p[column].get) == truth[c] for p, truth in zip(probabilities, new_values)]
        return np.mean(top), np.mean(right)

    sure, right = sure_and_right(plain, "gender", 0)
    assert sure > 0.8 and right < 0.6
    assert sure_and_right(fit.linker, "gender", 0)[0] < 0.6
    assert sure_and_right(fit.linker, "baseColour", 4)[1] > 0.9


def test_training_figures_are_the_linker_own_translation(monkeypatch):
    """The attributes linker measures itself on the standardised inputs it trained on, slices of
    them at a time: the figures must be those of translating the raw photos (and features), which
    is what a query does, whatever the slice size."""
    from catalog.models import linker as module
    from catalog.models.linker import linker_quality

    monkeypatch.setattr(module, "TRANSLATE_CHUNK", 7)  # slices that do not divide the photos
    x, y, values = _catalog(reps=6, seed=2)
    features = np.random.default_rng(2).random((len(x), 5)).astype(np.float32)
    fit = train_linker(x, y, LinkerParams(kind="attributes", validation_split=0.0), values=values, features=features)
    measured = linker_quality(fit.linker, x, y, "train", features)  # rows in another order: rounding may differ
    assert fit.metrics["train_cosine"] == pytest.approx(measured["train_cosine"], abs=2e-4)
    assert fit.metrics["train_mse"] == pytest.approx(measured["train_mse"], abs=2e-5)
    one_by_one = np.concatenate([fit.linker.translate(x[i], features[i]) for i in range(len(x))])
    assert np.allclose(fit.linker.translate(x, features), one_by_one, atol=1e-6)


def test_stored_feature_bytes_train_the_same_linker_as_their_floats():
    """Ingest passes the photo features as the stored uint8 bytes (a float copy of a 50,000-photo
    sample is 64 MB held through the fit); the linker must come out bit for bit the same."""
    from catalog.core.photo_features import FEATURE_DIM, from_stored

    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=(n, 128)).astype(np.float32)
    y = rng.normal(size=(n, 32)).astype(np.float32)
    values = np.array([[f"{c}{rng.integers(0, 3)}" for c in "abcdefgh"] for _ in range(n)], object)
    stored = rng.integers(0, 256, (n, FEATURE_DIM), dtype=np.uint8)
    floats = train_linker(x, y, LinkerParams(kind="attributes"), values=values, features=from_stored(stored))
    stored_fit = train_linker(x, y, LinkerParams(kind="attributes"), values=values, features=stored)
    a, b = floats.linker.arrays(), stored_fit.linker.arrays()
    assert a.keys() == b.keys() and all(np.array_equal(a[key], b[key]) for key in a)
    assert floats.metrics["val_cosine"] == stored_fit.metrics["val_cosine"]
