"""The library face: `from catalog import Catalog`, typed results whose to_dict() is the CLI's --json,
an encoder plugged in through the seam, and an import with no side effects."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from catalog import Catalog, CatalogError
from tests.conftest import FakeEncoder
from tests.conftest import run_cli as run


@pytest.fixture(scope="module")
def api_db(tmp_path_factory, demo_catalog):
    """One database ingested through the library with the fake encoder passed in (no patching)."""
    path = tmp_path_factory.mktemp("api") / "db"
    catalog = Catalog(path, encoder=FakeEncoder())
    report = catalog.ingest(demo_catalog.csv_path, demo_catalog.images_dir, walks=10, walk_length=10)
    assert report.run is not None and report.products == demo_catalog.count
    return path


def test_import_has_no_side_effects():
    code = (
        "import os, sys; before = dict(os.environ); import catalog; from catalog import Catalog; "
        "print(sorted(m for m in ('lancedb', 'tensorflow', 'keras', 'ingest.pipeline') if m in sys.modules)); "
        "print(dict(os.environ) == before)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "True"]


def test_public_names_are_listed():
    import catalog

    assert "Catalog" in catalog.__all__
    assert all(hasattr(catalog, name) for name in catalog.__all__)


def test_results_to_dict_is_the_cli_json(api_db, demo_catalog, fake_encoder):
    catalog = Catalog(api_db)
    product_id = _with_photo(catalog)  # infer needs a photo
    for method, command in [
        (lambda: catalog.similar(product_id, k=4, space="all"), ["similar", product_id, "-k", 4, "--space", "all"]),
        (
            lambda: catalog.query(ids=[product_id], plus="black", minus={"topwear": 0.5}, k=3),
            ["query", "--id", product_id, "--plus", "black", "--minus", "topwear:0.5", "-k", 3],
        ),
        (lambda: catalog.infer(id=product_id, top=2), ["infer", "--id", product_id, "--top", 2]),
        (lambda: catalog.product(product_id), ["show", product_id]),
        (lambda: catalog.attributes("colour"), ["attributes", "colour"]),
        (lambda: catalog.history(), ["history"]),
    ]:
        cli = json.loads(run(*command, "--db", api_db, "--json").stdout)
        assert json.loads(json.dumps(method().to_dict(), default=str)) == cli, command


def test_query_by_photo_uses_the_encoder_passed_in(api_db, demo_catalog):
    FakeEncoder.calls = 0
    photo = next(demo_catalog.images_dir.glob("*.jpg"))
    results = Catalog(api_db, encoder=FakeEncoder()).query(image=photo, plus=["black"], k=3)
    assert FakeEncoder.calls == 1 and len(results.ids) == 3
    frame = results.to_pandas()
    assert list(frame["rank"]) == [1, 2, 3] and frame["id"].tolist() == results.ids
    assert results.to_arrow().num_rows == 3


def test_another_encoder_is_refused(api_db, demo_catalog):
    photo = next(demo_catalog.images_dir.glob("*.jpg"))
    with pytest.raises(CatalogError, match="encoder given"):
        Catalog(api_db, encoder=FakeEncoder(seed=5)).query(image=photo)


class ColourHistogram:
    """A user's own backbone: a 128-bin colour histogram, through the Encoder protocol only."""

    id = "histogram-128"
    image_size = 32

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        bins = (pixels // 64).reshape(len(pixels), -1, 3)  # 4 levels per channel
        codes = bins[..., 0] * 16 + bins[..., 1] * 4 + bins[..., 2]
        return np.stack([np.bincount(c, minlength=128)[:128] for c in codes]).astype(np.float32)


def test_a_custom_encoder_through_the_api(tmp_path, demo_catalog):
    catalog = Catalog(tmp_path / "db", encoder=ColourHistogram())
    report = catalog.ingest(demo_catalog.csv_path, demo_catalog.images_dir, walks=5, walk_length=8)
    assert catalog.info().encoder["id"] == "histogram-128" and report.summary["encoded"] > 0
    photo = next(demo_catalog.images_dir.glob("*.jpg"))
    assert len(catalog.query(image=photo, k=2).ids) == 2
    # Without the encoder, a photo cannot be put into that space: a clear error, not Keras.
    with pytest.raises(CatalogError, match="custom encoder"):
        Catalog(tmp_path / "db").query(image=photo)


def test_lists_convert_to_pandas(api_db):
    catalog = Catalog(api_db)
    counts = catalog.attributes()
    assert counts.to_pandas()["products"].sum() >= len(counts) > 0
    assert counts.to_arrow().num_rows == len(counts) and catalog.history().to_arrow().num_rows == 1
    assert catalog.history().to_pandas()["kind"].tolist() == ["ingest"]
    assert catalog.info().products == catalog.info().to_dict()["products"]


def _with_photo(catalog: Catalog) -> int:
    return next(a for a in catalog.store.table("products").search().where("has_image = true").limit(1).to_list())["id"]
