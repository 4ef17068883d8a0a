"""The linker L_I2G: translates 128-d image vectors into the 32-d graph space.

The paper's network is Dense(96, SELU) -> Dense(32), trained with MSE and rmsprop. It is trained
with Keras; once trained it is four small arrays, so translating runs in numpy and never imports
TensorFlow (a `similar` or an incremental placement stays light).

Three variants, all measurable with `catalog eval` (figures: docs/quality.md):

- `attributes` (default): one softmax classifier per attribute column on the standardised image
  vector (multinomial logistic regression), and a translated vector that is the mean of the
  graph-space vectors of the attribute combinations the catalog holds, each weighted by how
  likely the classifiers find its values. The photo lands where the products it most likely
  resembles are, attribute by attribute; the cosine network's single 32-d regression spreads its
  error over every column at once and lands between combinations (held-out articleType P@10
  .50 against .70 at 600 demo products, .73 against .86 at 3,000).
- `paper`: exactly the paper's recipe, on raw image vectors, MSE loss.
- `cosine`: the paper's network on standardised inputs, trained with a cosine loss (the default
  before `attributes`; well above the paper's, docs/design.md "Reference run of the paper's recipe").
  The random-head image features are unscaled (mean ~2.5, sd ~3.3) and search in the graph
  space is by cosine, so MSE spends its capacity on vector lengths that never matter; the
  reference run in DESIGN.md measured the cosine variant well above the paper's (held-out
  articleType P@10 .69 vs .32) and stable across seeds.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Iterable, Mapping

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.core.photo_features import from_stored
from catalog.core.ranking import DEFAULT_RANKING, top_k
from catalog.core.vectors import unit as _normalise

LINKER_KINDS = ("attributes", "cosine", "paper")
# How much each column's classifier counts when weighing combinations (`attributes` linker), by
# column name (`RankingSettings.linker_weights`; a run records the ones its linker was trained
# with). The columns a photo shows (category, colour) count most; season and year are not visible
# in a photo, and their classifiers are mostly noise. Chosen on the demo catalog's held-out splits
# (docs/quality.md), where equal weights lost ~5 points of articleType.
COLUMN_WEIGHTS = dict(DEFAULT_RANKING.linker_weights)
PROBABILITY_FLOOR = 1e-4  # log(p + floor): one confident "no" does not veto a combination outright
TRANSLATE_CHUNK = 512  # photos translated at a time: bounds the (photos x combinations) temporaries
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


_NETWORK_SETTINGS = ("kind", "hidden", "epochs", "batch_size", "validation_split", "patience", "seed")
KIND_SETTINGS = {
    "attributes": ("kind", "validation_split", "seed", "regularisation", "sharpness", "photo_features", "calibrate"),
    "cosine": _NETWORK_SETTINGS,
    "paper": _NETWORK_SETTINGS,
}


@dataclass(frozen=True)
class LinkerParams:
    kind: str = "attributes"
    hidden: int = 96
    epochs: int = 60
    batch_size: int = 128
    validation_split: float = 0.1
    patience: int = 8
    seed: int = 0
    regularisation: float = 0.5  # `attributes`: inverse L2 strength (C) of each column's classifier
    sharpness: float = 1.0  # `attributes`: combination weights are softmax(sharpness x weighted log-likelihood)
    photo_features: bool = (
        True  # `attributes`: the classifiers read catalog/core/photo_features.py beside the image vector
    )
    # `attributes`: a temperature per column fitted on the validation split (`calibrate_heads`). Off
    # by default: it cost Rec's P@10 more than .01 on some column of every catalog measured (the
    # held-out family's colour gains what its articleType loses; docs/quality.md, "Calibration").
    calibrate: bool = False

    def to_dict(self) -> dict:
        """The settings that shape this kind of linker (what a run records and `catalog info` shows):
        the network's epochs and layer size say nothing about the `attributes` classifiers, and the
        other way round."""
        return {k: v for k, v in asdict(self).items() if k in KIND_SETTINGS[self.kind]}

    @classmethod
    def from_dict(cls, data: dict) -> "LinkerParams":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Linker:
    """A trained linker as plain arrays: input standardisation, then either two dense layers
    (`cosine`, `paper`) or per-column classifiers and a table of combinations (`attributes`)."""

    kind: str
    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray | None = None
    b1: np.ndarray | None = None
    w2: np.ndarray | None = None
    b2: np.ndarray | None = None
    heads: list[tuple[np.ndarray, np.ndarray]] | None = None  # per column: weights (in x values), biases
    combination_codes: np.ndarray | None = None  # (combinations, columns): value index per head, -1 = empty
    combination_vectors: np.ndarray | None = None  # (combinations, 32) unit graph-space vectors
    column_weights: np.ndarray | None = None
    sharpness: float = 1.0
    # Per head, the value each output stands for (None: a linker saved before they were kept).
    classes: list[list[str]] | None = None
    # The classifiers read the photo features (catalog/core/photo_features.py) after the image vector.
    photo_features: bool = False
    # Per head, the temperature its logits are divided by (`calibrate_heads`); None: every one 1, as
    # for a linker saved before they were fitted, which therefore answers exactly as it did.
    temperatures: np.ndarray | None = None

    def inputs(self, image_vectors: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """What the linker reads, standardised: the image vectors (N, 128), followed by the photos'
        features (N, FEATURE_DIM) for a linker that reads them (`photo_features`)."""
        x = np.asarray(image_vectors, dtype=np.float32)
        if self.photo_features:
            if features is None:
                raise ValueError("this linker reads the photo features too; pass photo_features_of(thumbnails)")
            x = np.concatenate([np.atleast_2d(x), np.atleast_2d(np.asarray(features, np.float32))], axis=1)
        return (x - self.mean) / self.std

    def translate(self, image_vectors: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
        """image vectors (N, 128) and, if the linker reads them, the photos' features ->
        translated graph-space vectors (N, 32), float32. Standardised a slice at a time, so
        translating every photo of a catalog holds no (N, inputs) copy of them."""
        if self.kind != "attributes":
            return self.translate_inputs(self.inputs(image_vectors, features))
        image_vectors = np.atleast_2d(np.asarray(image_vectors, np.float32))
        if features is not None:
            features = np.atleast_2d(features)
        return self._stacked(
            self._from_attributes(
                self.inputs(
                    image_vectors[i : i + TRANSLATE_CHUNK],
                    None if features is None else features[i : i + TRANSLATE_CHUNK],
                )
            )
            for i in range(0, len(image_vectors), TRANSLATE_CHUNK)
        )

    def translate_inputs(self, x: np.ndarray) -> np.ndarray:
        """`translate` of inputs already standardised (`inputs`): what training measures itself on."""
        if self.kind == "attributes":
            return self._stacked(
                self._from_attributes(x[i : i + TRANSLATE_CHUNK]) for i in range(0, len(x), TRANSLATE_CHUNK)
            )
        h = x @ self.w1 + self.b1
        h = SELU_SCALE * np.where(h > 0, h, SELU_ALPHA * (np.exp(np.minimum(h, 0)) - 1))
        return (h @ self.w2 + self.b2).astype(np.float32)

    def _stacked(self, parts: Iterable[np.ndarray]) -> np.ndarray:
        """The translated slices as one (N, 32) array; (0, 32) for no photo."""
        return np.concatenate(list(parts) or [np.zeros((0, self.combination_vectors.shape[1]), np.float32)])

    def _probabilities(self, x: np.ndarray, c: int) -> np.ndarray:
        """Standardised image vectors (n, 128) -> (n, values of column c): the classifier's softmax,
        at the column's temperature. The one place the classifiers' probabilities are made: the
        translation (`log_likelihoods`), `value_probabilities` (Rec's order, arithmetic's order for a
        photo, `infer`) all read them here."""
        weights, bias = self.heads[c]
        logits = x @ weights + bias
        if self.temperatures is not None:
            logits = logits / self.temperatures[c].astype(logits.dtype)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def infer(
        self, image_vector: np.ndarray, top: int = 3, features: np.ndarray | None = None
    ) -> dict[str, list[tuple[str, float]]] | None:
        """Per attribute column, the `top` values the column's classifier finds likeliest for this
        photo, with their probabilities; None for a linker without classifiers (`cosine`, `paper`)
        or one saved before it kept the values' names."""
        probabilities = self.value_probabilities(np.asarray(image_vector, np.float32).reshape(1, -1), features)
        return likeliest(probabilities, top) if probabilities is not None else None

    def value_probabilities(
        self, image_vectors: np.ndarray, features: np.ndarray | None = None
    ) -> dict[str, dict[str, float]] | None:
        """Per attribute column, every value's probability under the column's classifier, averaged
        over the photos given (one photo, or the items of a query); None as for `infer`."""
        if self.kind != "attributes" or not self.classes:
            return None
        x = self.inputs(np.atleast_2d(np.asarray(image_vectors, np.float32)), features)
        probabilities = {}
        for c, (column, names) in enumerate(zip(ATTRIBUTE_COLUMNS, self.classes)):
            p = self._probabilities(x, c)[:, : len(names)].mean(axis=0)
            probabilities[column] = {name: float(p[i]) for i, name in enumerate(names)}
        return probabilities

    def log_likelihoods(self, x: np.ndarray) -> np.ndarray:
        """Standardised image vectors (n, 128) -> (n, combinations): weighted sum over columns of
        log(p(value) + floor) of each combination's values; an empty cell adds nothing."""
        total = np.zeros((len(x), len(self.combination_codes)), np.float64)
        for c in range(len(self.heads)):
            p = self._probabilities(x, c)
            codes = self.combination_codes[:, c]
            known = codes >= 0
            total[:, known] += self.column_weights[c] * np.log(p[:, codes[known]] + PROBABILITY_FLOOR)
        return total

    def _from_attributes(self, x: np.ndarray) -> np.ndarray:
        scores = self.sharpness * self.log_likelihoods(x)
        scores -= scores.max(axis=1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=1, keepdims=True)
        return (weights @ self.combination_vectors).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {"kind": np.array(self.kind), "mean": self.mean, "std": self.std}
        if self.kind == "attributes":
            for c, (weights, bias) in enumerate(self.heads):
                arrays[f"head{c}_w"], arrays[f"head{c}_b"] = weights, bias
            arrays.update(
                combination_codes=self.combination_codes,
                combination_vectors=self.combination_vectors,
                column_weights=self.column_weights,
                sharpness=np.array(self.sharpness),
            )
            for c, names in enumerate(self.classes or []):
                arrays[f"head{c}_classes"] = np.array(names, dtype=np.str_)
            arrays["photo_features"] = np.array(self.photo_features)
            if self.temperatures is not None:
                arrays["temperatures"] = np.asarray(self.temperatures, np.float64)
        else:
            arrays.update(w1=self.w1, b1=self.b1, w2=self.w2, b2=self.b2)
        return arrays

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, name: str = "linker") -> "Linker":
        try:
            with np.load(io.BytesIO(blob)) as data:
                kind = str(data["kind"])
                if kind != "attributes":
                    return cls(kind=kind, **{k: data[k] for k in ("mean", "std", "w1", "b1", "w2", "b2")})
                heads = []
                while f"head{len(heads)}_w" in data:
                    heads.append((data[f"head{len(heads)}_w"], data[f"head{len(heads)}_b"]))
                return cls(
                    kind=kind,
                    mean=data["mean"],
                    std=data["std"],
                    heads=heads,
                    combination_codes=data["combination_codes"],
                    combination_vectors=data["combination_vectors"],
                    column_weights=data["column_weights"],
                    sharpness=float(data["sharpness"]),
                    classes=[[str(v) for v in data[f"head{c}_classes"]] for c in range(len(heads))]
                    if all(f"head{c}_classes" in data for c in range(len(heads)))
                    else None,
                    photo_features=bool(data["photo_features"]) if "photo_features" in data else False,
                    temperatures=np.asarray(data["temperatures"], np.float64) if "temperatures" in data else None,
                )
        except (OSError, KeyError, ValueError) as error:
            raise CatalogError(f"cannot read the linker model {name}: {error}") from None


def likeliest(probabilities: dict[str, dict[str, float]], top: int = 3) -> dict[str, list[tuple[str, float]]]:
    """Per column, the `top` values of `Linker.value_probabilities` with their probabilities, likeliest first."""
    inferred = {}
    for column, values in probabilities.items():
        names, p = list(values), np.array(list(values.values()))
        inferred[column] = [(names[i], round(float(p[i]), 4)) for i in top_k(p, top)[0]]
    return inferred


@dataclass
class LinkerFit:
    linker: Linker
    metrics: dict  # train/validation loss, epochs run, seconds, and the mean-predictor baseline


# The linker trains on at most this many photos (a seeded sample beyond it, recorded with the run
# by ingest, and applied by `catalog eval` alike): its memory (~4.5 KB a photo: its standardised
# inputs and scikit-learn's per-class arrays) and its time grow with the photos it trains on, its
# quality stops growing long before. 20,000, measured on two 58,000-product catalogs of different
# build (benchmarks/README.md, "The linker's sample"): against 50,000, at most .008 less Rec P@10
# on any column, in a third of the time, and past 20,000 photos the ingest's memory no longer
# grows with the linker. A default chosen on those catalogs; CATALOG_LINKER_SAMPLE changes it.
# Every photo is still translated.
LINKER_SAMPLE = 20_000


def linker_sample_limit() -> int:
    """Photos the linker trains on at most (CATALOG_LINKER_SAMPLE): see LINKER_SAMPLE."""
    return int(os.environ.get("CATALOG_LINKER_SAMPLE") or LINKER_SAMPLE)


def linker_sample(photos: np.ndarray, seed: int) -> np.ndarray:
    """The rows the linker trains on: every photo up to the limit, else a seeded uniform sample
    (sorted, so the rows keep the catalog's order). The linker still translates every photo."""
    limit = linker_sample_limit()
    if len(photos) <= limit:
        return photos
    return np.sort(np.random.default_rng(seed).choice(photos, size=limit, replace=False))


def train_linker(
    image_vectors: np.ndarray,
    node_vectors: np.ndarray,
    params: LinkerParams = LinkerParams(),
    progress: Callable[[int], None] | None = None,
    values: np.ndarray | None = None,
    features: np.ndarray | None = None,
    column_weights: Mapping[str, float] | None = None,
) -> LinkerFit:
    """Fit image_vector -> node_vector. `progress` is called once per epoch (per column for
    `attributes`, which also needs `values`: the products' attribute values, one column per
    attribute in ATTRIBUTE_COLUMNS order, "" for an empty cell). `features`: the photos' features
    (catalog/core/photo_features.py), which an `attributes` linker with `params.photo_features` reads
    beside the image vectors; without them it reads the image vectors alone. They may be the stored
    uint8 bytes (as ingest holds them), made floats a slice at a time: a float copy of a 20,000-photo
    sample's features is 26 MB held through the whole fit. `column_weights`: the
    `attributes` linker's weight per column name (default COLUMN_WEIGHTS; a column not named: 0)."""
    if params.kind not in LINKER_KINDS:
        raise CatalogError(f"unknown linker kind {params.kind!r}; choose one of {', '.join(LINKER_KINDS)}")
    x = np.asarray(image_vectors, dtype=np.float32)
    y = np.asarray(node_vectors, dtype=np.float32)
    if len(x) < 2:
        raise CatalogError("the linker needs at least 2 products with images to train")
    if params.kind == "attributes":
        if values is None:
            raise CatalogError("the attributes linker needs the products' attribute values")
        weights = np.asarray([(column_weights or COLUMN_WEIGHTS).get(c, 0.0) for c in ATTRIBUTE_COLUMNS], np.float32)
        if params.photo_features and features is not None:
            return _train_attributes(x, y, np.asarray(values, dtype=object), params, progress, weights, features)
        return _train_attributes(
            x, y, np.asarray(values, dtype=object), replace(params, photo_features=False), progress, weights
        )
    started = time.perf_counter()
    if params.kind == "cosine":
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    else:
        mean, std = np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
    xs = (x - mean) / std

    from catalog.models.encoder import import_keras  # lazily, and without TensorFlow's start-up chatter

    keras = import_keras()
    keras.utils.set_random_seed(params.seed)
    # A seeded shuffle, so the validation split is not just the tail of the file order.
    order = np.random.default_rng(params.seed).permutation(len(xs))
    x, xs, y = x[order], xs[order], y[order]
    n_val = int(round(len(xs) * params.validation_split)) if len(xs) >= 10 else 0
    x_train, y_train, x_val, y_val = xs[n_val:], y[n_val:], xs[:n_val], y[:n_val]

    model = keras.Sequential(
        [
            keras.Input(shape=(x.shape[1],)),
            keras.layers.Dense(params.hidden, activation="selu"),
            keras.layers.Dense(y.shape[1]),
        ]
    )
    loss = "mse" if params.kind == "paper" else keras.losses.CosineSimilarity()
    model.compile(optimizer="rmsprop", loss=loss)
    callbacks = []
    if progress is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: progress(1)))
    if n_val:
        callbacks.append(
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=params.patience, restore_best_weights=True)
        )
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val) if n_val else None,
        epochs=params.epochs,
        batch_size=params.batch_size,
        callbacks=callbacks,
        verbose=0,
        shuffle=True,
    )
    (w1, b1), (w2, b2) = (layer.get_weights() for layer in model.layers)
    linker = Linker(params.kind, mean.astype(np.float32), std.astype(np.float32), w1, b1, w2, b2)
    metrics = {"epochs": len(history.history["loss"]), "seconds": round(time.perf_counter() - started, 2)}
    metrics.update(linker_quality(linker, x[n_val:], y_train, prefix="train"))
    if n_val:
        metrics.update(linker_quality(linker, x[:n_val], y_val, prefix="val"))
        # Predicting the training mean for everything: the floor a useful linker must beat.
        mean_vector = y_train.mean(axis=0, keepdims=True)
        metrics["val_mse_mean_predictor"] = round(float(np.mean((y_val - mean_vector) ** 2)), 5)
        metrics["val_cosine_mean_predictor"] = round(float(np.mean(_normalise(y_val) @ _normalise(mean_vector).T)), 4)
    return LinkerFit(linker, metrics)


def _train_attributes(
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    params: LinkerParams,
    progress: Callable[[int], None] | None,
    column_weights: np.ndarray,
    features: np.ndarray | None = None,
) -> LinkerFit:
    """Per-column logistic regression on standardised image vectors (and photo features), and the
    combination table. `column_weights`: per column of `values` (ATTRIBUTE_COLUMNS order)."""
    started = time.perf_counter()
    if features is not None and np.asarray(features).dtype != np.uint8:
        features = np.asarray(features, np.float32)
    mean, std = _attribute_standardisation(x, features)
    # A seeded shuffle, so the validation split is not just the tail of the file order.
    order = np.random.default_rng(params.seed).permutation(len(x))
    y, values = y[order], values[order]
    # The inputs are read in that order straight into their standardised matrix, which the
    # classifiers fit on and the quality figures translate: no shuffled copy of the photos.
    xs = _standardised(x, features, mean, std, order)
    n_val = int(round(len(xs) * params.validation_split)) if len(xs) >= 10 else 0
    heads, classes = _fit_heads(xs[n_val:], values[n_val:], params, progress)
    codes, vectors = _combinations(values, y, classes)
    linker = Linker(
        "attributes",
        mean.astype(np.float32),
        std.astype(np.float32),
        heads=heads,
        combination_codes=codes,
        combination_vectors=vectors,
        column_weights=column_weights[: values.shape[1]],
        classes=[sorted(names, key=names.get) for names in classes],
        sharpness=params.sharpness,
        photo_features=features is not None,
    )
    metrics: dict = {"epochs": 1, "combinations": int(len(vectors))}
    if params.calibrate and n_val:
        linker.temperatures, metrics["calibration"] = calibrate_heads(linker, xs[:n_val], values[:n_val])
    metrics.update(_attribute_quality(linker, xs, y, n_val))
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    return LinkerFit(linker, metrics)


def _standardised(
    x: np.ndarray, features: np.ndarray | None, mean: np.ndarray, std: np.ndarray, order: np.ndarray, rows: int = 8192
) -> np.ndarray:
    """The classifiers' standardised inputs (float32, which scikit-learn's solver keeps), rows in
    `order`, made a slice at a time into one matrix: not the concatenation, its standardised and its
    shuffled copies; the same values `Linker.inputs` gives."""
    xs = np.empty((len(order), len(mean)), np.float32)
    for start in range(0, len(order), rows):
        rows_here = order[start : start + rows]
        part = x[rows_here]
        if features is not None:
            part = np.concatenate([part, _as_float(features[rows_here])], axis=1)
        xs[start : start + rows] = (part - mean) / std
    return xs


def _attribute_standardisation(x: np.ndarray, features: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The mean and spread the classifiers' inputs are standardised by: per image-vector dimension,
    then (with photo features) the features'."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    if features is None:
        return mean, std
    features = _as_float(features)  # stored bytes: a float copy for these two figures only
    # One spread for all the features, not one per feature: a silhouette cell the training photos
    # never covered has a spread near 0, and dividing by it would let one new photo that covers
    # it swamp every other input.
    spread = np.full(features.shape[1], features.std(axis=0).mean() + 1e-6, np.float32)
    return np.concatenate([mean, features.mean(axis=0)]), np.concatenate([std, spread])


def _as_float(features: np.ndarray) -> np.ndarray:
    """Photo features as the classifiers read them: stored uint8 bytes become [0, 1] floats
    (`from_stored`, exactly the values the float path has); floats pass through."""
    return from_stored(features) if features.dtype == np.uint8 else features


def _fit_heads(
    xs: np.ndarray, values: np.ndarray, params: LinkerParams, progress: Callable[[int], None] | None
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[dict[str, int]]]:
    """One softmax classifier per attribute column on the training rows' standardised inputs ->
    per column (weights, biases) and {value: output index}."""
    heads, classes = [], []
    # The progress bar counts `epochs` steps for the whole fit, spread over the columns.
    steps = np.diff(np.linspace(0, params.epochs, values.shape[1] + 1).round().astype(int))
    for c in range(values.shape[1]):
        cells = np.array([str(v) for v in values[:, c]], dtype=object)
        known = cells != ""  # an empty cell teaches the classifier nothing
        # Every cell known (usual): the inputs themselves, no copy of them.
        rows = xs if known.all() else xs[known]
        head, names = _fit_head(rows, cells[known], xs.shape[1], params.regularisation)
        heads.append(head)
        classes.append({name: i for i, name in enumerate(names)})
        if progress is not None:
            progress(int(steps[c]))
    return heads, classes


def _fit_head(
    xs: np.ndarray, cells: np.ndarray, inputs: int, regularisation: float
) -> tuple[tuple[np.ndarray, np.ndarray], list[str]]:
    """One column's classifier: (weights (inputs x values), biases), and the value of each output."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    names = sorted(set(cells))
    if len(names) < 2:  # one value (or none): nothing to tell apart, every combination scores the same
        outputs = max(len(names), 1)
        return (np.zeros((inputs, outputs), np.float32), np.zeros(outputs, np.float32)), names
    model = LogisticRegression(C=regularisation, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(xs, cells)
    w, b = model.coef_.T.astype(np.float32).copy(), model.intercept_.astype(np.float32).copy()
    if len(names) == 2:  # binary: sklearn keeps one row; the softmax wants a logit per value
        w, b = np.concatenate([-w / 2, w / 2], axis=1), np.concatenate([-b / 2, b / 2])
    return (w, b), [str(v) for v in model.classes_]


TEMPERATURE_BOUNDS = (0.05, 100.0)  # a temperature is searched between these (log scale)
CALIBRATION_BINS = 10  # expected calibration error: equal-width bins of the top probability


def calibrate_heads(linker: Linker, xs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, dict]:
    """Temperature scaling per column (Guo et al. 2017): the one scalar T per classifier whose
    softmax(logits / T) has the least log-loss on rows it was not fitted on (the validation split:
    standardised inputs `xs`, their `values`). T > 1 softens a classifier sure of itself where the
    photo does not show its column (right no more often than chance, it then weighs next to
    nothing in Rec's order and arithmetic's); T < 1 sharpens an under-confident one. A column with
    one value, or fewer than 2 validation rows of values it knows, keeps T = 1.
    -> the temperatures (per head) and, per column, what calibration did: the temperature, the
    validation rows, log-loss and expected calibration error before and after."""
    from scipy.optimize import minimize_scalar

    temperatures = np.ones(len(linker.heads), np.float64)
    report = {}
    for c, column in enumerate(ATTRIBUTE_COLUMNS[: len(linker.heads)]):
        names = {name: i for i, name in enumerate(linker.classes[c])} if linker.classes else {}
        cells = [str(v) for v in values[:, c]]
        rows = np.array([n for n, cell in enumerate(cells) if cell in names], np.int64)
        if len(names) < 2 or len(rows) < 2:
            continue
        weights, bias = linker.heads[c]
        logits = (xs[rows] @ weights + bias).astype(np.float64)
        truth = np.array([names[cells[n]] for n in rows], np.int64)
        best = minimize_scalar(
            _log_loss_at, bounds=tuple(np.log(TEMPERATURE_BOUNDS)), method="bounded", args=(logits, truth)
        )
        temperature = float(np.exp(best.x))
        if _log_loss(logits / temperature, truth) >= _log_loss(logits, truth):
            temperature = 1.0  # the search's end point no better than leaving the column as it is
        temperatures[c] = temperature
        report[column] = {
            "temperature": round(temperature, 4),
            "rows": int(len(rows)),
            "log_loss_before": round(_log_loss(logits, truth), 4),
            "log_loss_after": round(_log_loss(logits / temperature, truth), 4),
            "ece_before": round(_calibration_error(logits, truth), 4),
            "ece_after": round(_calibration_error(logits / temperature, truth), 4),
        }
    return temperatures, report


def _log_loss_at(log_temperature: float, logits: np.ndarray, truth: np.ndarray) -> float:
    return _log_loss(logits / np.exp(log_temperature), truth)


def _log_loss(logits: np.ndarray, truth: np.ndarray) -> float:
    """Mean negative log-probability of the right value under softmax(logits)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(truth)), truth].mean())


def _calibration_error(logits: np.ndarray, truth: np.ndarray) -> float:
    """Expected calibration error: over equal-width bins of the top probability, the rows' share
    times |how often the top value is right - how sure it is|."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    top, right = p.max(axis=1), p.argmax(axis=1) == truth
    bins = np.minimum((top * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    return float(
        sum(abs(right[bins == b].mean() - top[bins == b].mean()) * (bins == b).mean() for b in np.unique(bins))
    )


def _combinations(values: np.ndarray, y: np.ndarray, classes: list[dict[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Every attribute combination of the training products, with its mean unit node vector (one
    vector per combination on the collapsed graph; the mean of near-twins on the product graph) ->
    (combinations x columns) value codes, -1 for an empty cell or a value no classifier knows, and
    the (combinations x dim) unit vectors."""
    keys = ["\x1f".join(str(v) for v in row) for row in values]
    unique, inverse = np.unique(np.array(keys, dtype=object), return_inverse=True)
    sums = np.zeros((len(unique), y.shape[1]), np.float64)
    np.add.at(sums, inverse, _normalise(y))
    vectors = _normalise(sums).astype(np.float32)
    # A combination's products share its values: its codes are read off the first of them.
    first = np.zeros(len(unique), np.int64)
    first[inverse[::-1]] = np.arange(len(inverse))[::-1]
    codes = np.array(
        [
            [classes[c].get(str(values[f, c]), -1) if str(values[f, c]) else -1 for c in range(values.shape[1])]
            for f in first
        ],
        dtype=np.int32,
    ).reshape(len(unique), -1)
    return codes, vectors


def _attribute_quality(linker: Linker, xs: np.ndarray, y: np.ndarray, n_val: int) -> dict:
    """`linker_quality` on the training rows and the first `n_val` (validation) rows of the
    standardised inputs, and the mean predictor's validation figures: the floor a useful linker
    must beat (`linker_warning`)."""
    train = slice(n_val, None)
    metrics = _quality(linker.translate_inputs(xs[train]), y[train], "train")
    if n_val:
        metrics.update(_quality(linker.translate_inputs(xs[:n_val]), y[:n_val], "val"))
        mean_vector = y[train].mean(axis=0, keepdims=True)
        metrics["val_mse_mean_predictor"] = round(float(np.mean((y[:n_val] - mean_vector) ** 2)), 5)
        metrics["val_cosine_mean_predictor"] = round(
            float(np.mean(_normalise(y[:n_val]) @ _normalise(mean_vector).T)), 4
        )
    return metrics


def linker_quality(
    linker: Linker, image_vectors: np.ndarray, node_vectors: np.ndarray, prefix: str, features: np.ndarray | None = None
) -> dict:
    """MSE and mean cosine between translated and true node vectors."""
    return _quality(linker.translate(image_vectors, features), node_vectors, prefix)


def _quality(predicted: np.ndarray, node_vectors: np.ndarray, prefix: str) -> dict:
    mse = float(np.mean((predicted - node_vectors) ** 2))
    cosine = float(np.mean(_normalise(predicted) * _normalise(node_vectors)) * predicted.shape[1])
    return {f"{prefix}_mse": round(mse, 5), f"{prefix}_cosine": round(cosine, 4)}


def linker_warning(kind: str, metrics: dict) -> str | None:
    """A warning when the linker is no better than predicting the mean node vector on its validation split.

    Then a translated photo carries little of the photo: Rec ranks products much as it would for
    any photo. It happens on tiny catalogs (too few products to learn from); the image and graph
    spaces do not depend on the linker.
    """
    if kind == "paper":
        mine, mean, measure, worse = metrics.get("val_mse"), metrics.get("val_mse_mean_predictor"), "MSE", True
    else:
        mine, mean, measure, worse = (
            metrics.get("val_cosine"),
            metrics.get("val_cosine_mean_predictor"),
            "cosine",
            False,
        )
    if mine is None or mean is None or (mine < mean if worse else mine > mean):
        return None
    return (
        f"the linker ({kind}) is no better than predicting the mean vector (validation {measure} {mine:.3f}, "
        f"mean {mean:.3f}): Rec results (similar, query --image, infer) will hardly depend on the photo; "
        "use --space image or graph, or ingest more products and run `catalog rebuild`"
    )
