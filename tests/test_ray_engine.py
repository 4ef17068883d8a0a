"""`catalog ingest --engine ray`: photos decoded and encoded by Ray Data actors give the local engine's vectors.

Real components: a local Ray cluster with 2 CPUs started once per session (tests/conftest.py), the real
ResNet50 encoder (seeded random weights, 32-px photos): built by Keras in the driver, run from the
database's OpenVINO model file in every actor as in the local engine.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from catalog.store.database import Store
from ingest.reader import read_styles
from tests.conftest import run_cli as run

FLAGS = [
    "--weights",
    "random",
    "--image-size",
    "32",
    "--batch-size",
    "4",
    "--walks",
    "5",
    "--walk-length",
    "5",
    "--epochs",
    "3",
]


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory, demo_catalog):
    """24 demo products (a few without a usable photo), so both engines report the same problems."""
    folder = tmp_path_factory.mktemp("ray")
    csv = folder / "styles.csv"
    read_styles(demo_catalog.csv_path).rows.iloc[:24].to_csv(csv, index=False)
    return csv, demo_catalog.images_dir


def rows(db) -> dict[int, dict]:
    return {r["id"]: r for r in Store.open(db).table("products").to_arrow().to_pylist()}


def test_ray_engine_gives_the_local_engines_vectors(ray_cluster, small_catalog, tmp_path, s3_bucket):
    """The local engine on a folder; Ray actors reading the same photos from S3, into a database on S3."""
    from tests.test_object_store import upload_folder

    csv, images = small_catalog
    remote_images = f"s3://{s3_bucket}/images"
    upload_folder(images, remote_images)
    local_db, ray_db = tmp_path / "local-db", f"s3://{s3_bucket}/ray-db"
    # f32 named on both: a new database's default is bf16 locally on a bf16 processor, f32 on Ray.
    flags = [*FLAGS, "--precision", "f32"]
    local = json.loads(run("ingest", "--csv", csv, "--images", images, "--db", local_db, "--json", *flags).stdout)
    remote = json.loads(
        run(
            "ingest",
            "--csv",
            csv,
            "--images",
            remote_images,
            "--db",
            ray_db,
            "--json",
            *flags,
            "--engine",
            "ray",
            "--ray-workers",
            "2",
        ).stdout
    )
    assert remote["summary"]["encoded"] == local["summary"]["encoded"] > 15
    assert [p["id"] for p in remote["image_problems"]] == [p["id"] for p in local["image_problems"]]
    mine, theirs = rows(local_db), rows(ray_db)
    assert mine.keys() == theirs.keys()
    for product_id, row in mine.items():
        other = theirs[product_id]
        assert other["has_image"] == row["has_image"] and other["encoder_id"] == row["encoder_id"]
        assert other["thumbnail"] == row["thumbnail"] and other["image_hash"] == row["image_hash"]
        np.testing.assert_allclose(other["image_vector"], row["image_vector"], rtol=1e-5, atol=1e-5)
    assert any(np.linalg.norm(r["image_vector"]) > 0 for r in theirs.values())


def test_ray_engine_encodes_in_bf16_as_the_local_engine_does(ray_cluster, small_catalog, tmp_path):
    """The actors run the database's own model file at its precision: a bf16 database gets the
    local engine's bf16 vectors and id (Ray used to refuse anything but Keras f32)."""
    csv, images = small_catalog
    local_db, ray_db = tmp_path / "local", tmp_path / "ray"
    flags = [*FLAGS, "--precision", "bf16"]
    run("ingest", "--csv", csv, "--images", images, "--db", local_db, *flags)
    run("ingest", "--csv", csv, "--images", images, "--db", ray_db, *flags, "--engine", "ray", "--ray-workers", "2")
    mine, theirs = rows(local_db), rows(ray_db)
    encoded = [r for r in mine.values() if r["has_image"]]
    assert len(encoded) > 15 and all(r["encoder_id"].endswith("/openvino-bf16") for r in encoded)
    for row in encoded:
        other = theirs[row["id"]]
        assert other["encoder_id"] == row["encoder_id"]
        np.testing.assert_array_equal(other["image_vector"], row["image_vector"])


def test_ray_engine_without_ray_installed_is_one_line(small_catalog, tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    csv, images = small_catalog
    result = run(
        "ingest", "--csv", csv, "--images", images, "--db", tmp_path / "db", *FLAGS, "--engine", "ray", ok=False
    )
    assert result.exit_code == 1 and "pip install 'catalog[ray]'" in result.output
    assert not Store(tmp_path / "db").runs()  # nothing committed
