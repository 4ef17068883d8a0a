"""catalog plot: the paper's t-SNE settings, headless PNGs of the expected size, bars that follow the data."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

import catalog.evaluate.plot as plot_module
from catalog.core.columns import ATTRIBUTE_COLUMNS, IMAGE_DIM, NODE_DIM
from catalog.evaluate.evaluation import EVAL_FILE
from catalog.evaluate.plot import SPACE_COLOURS, load_spaces, tsne_2d
from catalog.store.database import PRODUCTS_SCHEMA, Store
from tests.conftest import run_cli as run

CATEGORIES = ("Apparel", "Footwear", "Accessories")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """A database written directly through the store: 90 products in 3 masterCategory clusters
    (in both spaces), 14 articleTypes, and 5 products without a photo."""
    rng = np.random.default_rng(0)
    count = 95
    category = np.arange(count) % 3
    image_centres = rng.normal(size=(3, IMAGE_DIM)) * 5
    node_centres = rng.normal(size=(3, NODE_DIM)) * 5
    has_image = np.arange(count) < 90
    rows = {
        "id": pa.array(np.arange(1000, 1000 + count), pa.int64()),
        **{c: [f"{c}-{n % 2}" for n in range(count)] for c in ATTRIBUTE_COLUMNS},
        "masterCategory": [CATEGORIES[c] for c in category],
        "articleType": [f"type{n % 14}" for n in range(count)],
        "has_image": has_image,
        "image_vector": _fixed(
            (image_centres[category] + rng.normal(size=(count, IMAGE_DIM))) * has_image[:, None], IMAGE_DIM
        ),
        "node_vector": _fixed(node_centres[category] + rng.normal(size=(count, NODE_DIM)), NODE_DIM),
        "rec_vector": _fixed(np.zeros((count, NODE_DIM)), NODE_DIM),
    }
    # Every other column of the schema (names, hashes, thumbnails, ...) is left null.
    columns = {f.name: rows[f.name] if f.name in rows else pa.nulls(count, f.type) for f in PRODUCTS_SCHEMA}
    path = tmp_path_factory.mktemp("plot") / "db"
    store = Store(path)
    with store.writer() as writer:
        writer.upsert_products(pa.table(columns, schema=PRODUCTS_SCHEMA))
        writer.commit("ingest", encoder={}, node2vec={}, linker={}, metrics={}, summary={})
    return path


def _fixed(vectors: np.ndarray, dim: int) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(vectors, np.float32).reshape(-1)), dim)


# -- t-SNE -------------------------------------------------------------------------------------------


class _FakeTSNE:
    calls: list = []

    def __init__(self, n_components=2, *, perplexity=30.0, init="pca", learning_rate="auto", random_state=None, **rest):
        _FakeTSNE.calls.append({"n_components": n_components, "perplexity": perplexity, **rest})

    def fit_transform(self, x):
        return np.zeros((len(x), 2))


class _NewTSNE(_FakeTSNE):
    def __init__(
        self, n_components=2, *, perplexity=30.0, max_iter=1000, init="pca", learning_rate="auto", random_state=None
    ):
        super().__init__(n_components, perplexity=perplexity, max_iter=max_iter)


class _OldTSNE(_FakeTSNE):
    def __init__(
        self, n_components=2, *, perplexity=30.0, n_iter=1000, init="pca", learning_rate="auto", random_state=None
    ):
        super().__init__(n_components, perplexity=perplexity, n_iter=n_iter)


@pytest.mark.parametrize("fake, name", [(_NewTSNE, "max_iter"), (_OldTSNE, "n_iter")])
def test_tsne_uses_the_papers_settings_under_either_sklearn_name(monkeypatch, fake, name):
    import sklearn.manifold

    monkeypatch.setattr(sklearn.manifold, "TSNE", fake)
    _FakeTSNE.calls = []
    assert tsne_2d(np.zeros((500, 8))).shape == (500, 2)
    assert _FakeTSNE.calls[-1] == {"n_components": 2, "perplexity": 40.0, name: 300}
    tsne_2d(np.zeros((31, 8)))  # perplexity must stay below the number of points
    assert _FakeTSNE.calls[-1]["perplexity"] == 10.0


def test_tsne_keeps_separate_clusters_apart():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 40)
    points = rng.normal(size=(3, 20))[labels] * 10 + rng.normal(size=(120, 20))
    xy = tsne_2d(points)
    distance = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(120) * 1e9
    assert (labels[distance.argmin(axis=1)] == labels).mean() > 0.95


def test_load_spaces_samples_products_with_photos(db):
    store = Store.open(db)
    points = load_spaces(store, "masterCategory", sample=30, seed=1)
    assert len(points.ids) == 30 and points.image_vectors.shape == (30, IMAGE_DIM)
    assert (points.ids < 1090).all()  # products without a photo have no place in the image space
    assert (load_spaces(store, "masterCategory", sample=30, seed=1).ids == points.ids).all()
    assert set(points.labels) <= set(CATEGORIES)


# -- the commands -----------------------------------------------------------------------------------


def test_plot_tsne_writes_a_png_of_the_expected_size(db, tmp_path):
    out = tmp_path / "spaces.png"
    result = run("plot", "tsne", "--db", db, "--out", out)
    assert str(out) in result.output
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1300, 600)
        pixels = np.asarray(image.convert("RGB"))
    # tab10's first three colours, one per masterCategory, all drawn
    for colour in ((31, 119, 180), (255, 127, 14), (44, 160, 44)):
        assert (np.abs(pixels.astype(int) - colour).sum(axis=2) < 60).sum() > 50


def test_many_values_share_grey_beyond_the_ten_commonest():
    labels = [f"type{n}" for n in range(14) for _ in range(14 - n)]  # type0 commonest
    colours = plot_module._label_colours(labels)
    assert list(colours)[:10] == [f"type{n}" for n in range(10)]
    assert "other" in colours and "type12" not in colours and len(set(colours.values())) == 11


def _eval_document(rec: float) -> dict:
    spaces = {"rec": rec, "image": 0.2, "graph": 0.2, "random": 0.2}
    return {
        "k": 10,
        "holdout": 7,
        "in_sample": 60,
        "precision": {space: {c: value for c in ATTRIBUTE_COLUMNS} for space, value in spaces.items()},
        "ndcg": {**{space: 0.5 for space in spaces}, "rec": 0.0},
        "linker": {"kind": "cosine"},
    }


def _colour_pixels(path, hex_colour: str) -> int:
    target = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    return int((np.abs(pixels - target).sum(axis=2) < 10).sum())


def test_plot_eval_bars_follow_the_saved_run(tmp_path):
    heights = {}
    for rec in (0.4, 0.8):
        folder = tmp_path / f"db{rec}"
        folder.mkdir()
        (folder / EVAL_FILE).write_text(json.dumps(_eval_document(rec)))
        out = tmp_path / f"eval{rec}.png"
        run("plot", "eval", "--db", folder, "--out", out)
        with Image.open(out) as image:
            assert image.format == "PNG" and image.size == (1300, 500)
        heights[rec] = _colour_pixels(out, SPACE_COLOURS["rec"])
    # rec's colour: 8 precision bars and one legend patch; doubling precision doubles the bars
    assert heights[0.8] / heights[0.4] == pytest.approx(2, rel=0.05)


def test_plot_eval_without_a_run_is_a_clear_error(tmp_path):
    out = run("plot", "eval", "--db", tmp_path, "--out", tmp_path / "eval.png", ok=False)
    assert out.exit_code == 1 and "no eval run saved" in out.output and "catalog eval" in out.output


@pytest.mark.parametrize("name, message", [("eval.jpg", "only .png"), ("missing/eval.png", "does not exist")])
def test_plot_bad_out_paths(tmp_path, name, message):
    (tmp_path / EVAL_FILE).write_text(json.dumps(_eval_document(0.5)))
    out = run("plot", "eval", "--db", tmp_path, "--out", tmp_path / name, ok=False)
    assert out.exit_code == 1 and message in out.output


def test_plot_never_uses_pyplot(db, tmp_path):
    """Drawn on an Agg canvas directly: no display, no global backend (checked in a fresh process)."""
    import subprocess
    import sys

    code = (
        "import sys; from catalog.evaluate.plot import plot_eval; "
        f"plot_eval({_eval_document(0.5)!r}, {str(tmp_path / 'x.png')!r}); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_plot_module_does_not_import_heavy_libraries_at_import():
    assert "sklearn.manifold" not in plot_module.__dict__ and "TSNE" not in plot_module.__dict__
