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
from tests.conftest import product_rows
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
    return product_rows(db)


def test_ray_engine_gives_the_local_engines_vectors(ray_cluster, small_catalog, tmp_path, s3_bucket, monkeypatch):
    """The local engine on a folder; Ray actors reading the same photos from S3, into a database on S3.
    The workers write the thumbnails (the photos table's data files) and measure the photo features:
    the driver never adds a thumbnail itself, and the tables come out equal."""
    from ingest.checkpoints import PhotoRows
    from tests.test_object_store import upload_folder

    csv, images = small_catalog
    remote_images = f"s3://{s3_bucket}/images"
    upload_folder(images, remote_images)
    local_db, ray_db = tmp_path / "local-db", f"s3://{s3_bucket}/ray-db"
    # f32 named on both: a new database's default is bf16 locally on a bf16 processor, f32 on Ray.
    flags = [*FLAGS, "--precision", "f32"]
    local = json.loads(run("ingest", "--csv", csv, "--images", images, "--db", local_db, "--json", *flags).stdout)
    # From here on a thumbnail reaching the driver's photo writer fails the ingest.
    monkeypatch.setattr(PhotoRows, "add", lambda *args: pytest.fail("the Ray driver wrote a thumbnail"))
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
        assert other["photo_features"] == row["photo_features"]
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


def test_ray_workers_hash_the_photos_and_skip_the_unchanged(ray_cluster, small_catalog, tmp_path, monkeypatch):
    """The driver lists and stats; the workers hash what they read: touched files with the same bytes
    are recognised there (nothing encoded), a photo whose bytes changed is encoded."""
    import os
    import shutil

    from ingest.images import PhotoFolder

    csv, source = small_catalog
    images, db = tmp_path / "images", tmp_path / "db"
    shutil.copytree(source, images)
    flags = [*FLAGS, "--engine", "ray", "--ray-workers", "2", "--json"]
    first = json.loads(run("ingest", "--csv", csv, "--images", images, "--db", db, *flags).stdout)
    before = rows(db)
    monkeypatch.setattr(PhotoFolder, "sha256", lambda *args: pytest.fail("the Ray driver read a photo to hash it"))
    photos = sorted(images.iterdir())
    for photo in photos:
        os.utime(photo, (1_000_000_000, 1_000_000_000))  # a new mtime, the same bytes
    with_photo = [i for i, r in before.items() if r["has_image"]]
    changed = images / f"{with_photo[0]}.jpg"
    changed.write_bytes((images / f"{with_photo[1]}.jpg").read_bytes())  # other bytes (another product's photo)
    again = json.loads(run("ingest", "--csv", csv, "--images", images, "--db", db, *flags).stdout)
    assert first["summary"]["encoded"] > 15 and again["summary"]["encoded"] == 1
    assert again["summary"]["changed"] == 1
    after = rows(db)
    assert after[with_photo[0]]["image_hash"] == before[with_photo[1]]["image_hash"]
    assert after[with_photo[0]]["thumbnail"] == before[with_photo[1]]["thumbnail"]
    for product_id in with_photo[1:]:
        assert after[product_id]["image_vector"] == before[product_id]["image_vector"]
        assert after[product_id]["image_hash"] == before[product_id]["image_hash"]


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
