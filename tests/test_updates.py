"""Incremental updates through the CLI: add -> change -> remove -> rollback, checking rows, vectors, versions."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.store.database import Store
from ingest.reader import read_styles
from tests.conftest import FAST_INGEST
from tests.conftest import run_cli as run


def products(db) -> dict[int, dict]:
    return {r["id"]: r for r in Store.open(db).table("products").to_arrow().to_pylist()}


@pytest.fixture
def setup(tmp_path, demo_catalog, fake_encoder):
    rows = read_styles(demo_catalog.csv_path).rows
    images = tmp_path / "images"
    shutil.copytree(demo_catalog.images_dir, images)
    base, extra = rows.iloc[:100], rows.iloc[100:]
    base_csv, extra_csv = tmp_path / "base.csv", tmp_path / "extra.csv"
    base.to_csv(base_csv, index=False)
    extra.to_csv(extra_csv, index=False)
    db = tmp_path / "db"

    def ingest(csv, *more):
        out = run("ingest", "--csv", csv, "--images", images, "--db", db, "--json", *FAST_INGEST, *more)
        return json.loads(out.stdout)

    return db, images, base, extra, base_csv, extra_csv, ingest, tmp_path


def test_add_change_remove_rollback(setup, fake_encoder):
    db, images, base, extra, base_csv, extra_csv, ingest, tmp_path = setup

    first = ingest(base_csv)
    assert first["summary"]["mode"] == "full" and first["summary"]["added"] == 100
    run1 = products(db)

    # unchanged re-ingest: nothing encoded, nothing written
    fake_encoder.calls = 0
    again = ingest(base_csv)
    assert again["run"] is None and fake_encoder.calls == 0
    assert (again["summary"]["added"], again["summary"]["changed"], again["summary"]["removed"]) == (0, 0, 0)
    assert len(Store.open(db).runs()) == 1

    # add 20: only their photos are encoded, their node vectors are inferred, old rows untouched
    fake_encoder.calls = 0
    added = ingest(extra_csv)
    assert added["run"] == 2 and added["summary"]["mode"] == "incremental"
    assert added["summary"]["added"] == 20 and added["summary"]["changed"] == 0
    run2 = products(db)
    new_ids = set(extra["id"])
    assert fake_encoder.calls == sum(run2[i]["has_image"] for i in new_ids)
    assert all(run2[i]["node_source"] == "inferred" and run2[i]["run"] == 2 for i in new_ids)
    # Ranked by id within their combination only at a full write: a row written since is unranked.
    assert all(run2[i]["tie_rank"] == 0 for i in new_ids)
    assert all(run2[i]["tie_rank"] == row["tie_rank"] for i, row in run1.items())
    assert all(np.linalg.norm(run2[i]["node_vector"]) > 0 for i in new_ids)
    for product_id, row in run1.items():
        assert run2[product_id]["node_vector"] == row["node_vector"] and run2[product_id]["run"] == 1
    # The graph space is trained per combination of attribute values: trained products of one
    # combination share one vector, and a new product with a known combination gets exactly it.
    by_combination: dict[tuple, list] = {}
    for row in run1.values():
        by_combination.setdefault(tuple(row[c] for c in ATTRIBUTE_COLUMNS), []).append(row["node_vector"])
    assert any(len(vectors) > 1 for vectors in by_combination.values())
    assert all(all(v == vectors[0] for v in vectors) for vectors in by_combination.values())
    known = [i for i in new_ids if tuple(run2[i][c] for c in ATTRIBUTE_COLUMNS) in by_combination]
    assert known, "the demo catalog repeats combinations, so some added products have a known one"
    for product_id in known:
        assert (
            run2[product_id]["node_vector"] == by_combination[tuple(run2[product_id][c] for c in ATTRIBUTE_COLUMNS)][0]
        )

    # change: a never-seen colour for one product, a new photo for another
    colour_id, photo_id = int(base["id"].iloc[0]), int(base["id"].iloc[1])
    changed = base.copy()
    changed.loc[changed["id"] == colour_id, "baseColour"] = "Ultraviolet"
    changed_csv = tmp_path / "changed.csv"
    changed.to_csv(changed_csv, index=False)
    photo = images / f"{photo_id}.jpg"
    Image.new("RGB", (64, 64), (10, 200, 30)).save(photo)
    fake_encoder.calls = 0
    update = ingest(changed_csv)
    assert update["summary"]["changed"] == 2 and update["summary"]["added"] == 0
    assert update["summary"]["new_attributes"] == ["baseColour=Ultraviolet"]
    assert fake_encoder.calls == 1
    run3 = products(db)
    assert run3[colour_id]["baseColour"] == "Ultraviolet" and run3[colour_id]["node_source"] == "inferred"
    assert run3[photo_id]["image_vector"] != run2[photo_id]["image_vector"]
    assert run3[photo_id]["rec_vector"] != run2[photo_id]["rec_vector"]
    assert run3[photo_id]["node_vector"] == run2[photo_id]["node_vector"]  # attributes unchanged
    attributes = {r["key"]: r for r in Store.open(db).table("attributes").to_arrow().to_pylist()}
    assert attributes["baseColour=Ultraviolet"]["degree"] == 1
    assert attributes["baseColour=Ultraviolet"]["node_source"] == "inferred"
    doc = json.loads(run("query", "--id", photo_id, "--plus", "ultraviolet", "--db", db, "--json").stdout)
    assert doc["terms"][0]["attribute"] == "baseColour=Ultraviolet"

    # remove two by id, then prune the 20 added ones
    gone = sorted(new_ids)[:2]
    run("remove", *gone, "--db", db)
    assert not set(gone) & set(products(db))
    assert run("remove", 999999999, "--db", db, ok=False).exit_code == 1
    pruned = ingest(changed_csv, "--prune")
    assert pruned["summary"]["removed"] == 18
    assert set(products(db)) == set(base["id"])

    # rollback to run 2: rows and vectors as they were
    back = json.loads(run("rollback", 2, "--db", db, "--json").stdout)
    assert back["kind"] == "rollback"
    restored = products(db)
    assert set(restored) == set(run2)
    assert all(restored[i]["node_vector"] == run2[i]["node_vector"] for i in run2)
    assert Store.open(db).run.linker["file"] == Store(db).runs()[1].linker["file"]

    history = json.loads(run("history", "--db", db, "--json").stdout)
    assert [h["kind"] for h in history] == ["ingest", "ingest", "ingest", "remove", "ingest", "rollback"]
    assert history[1]["summary"]["added"] == 20
    text = run("history", "--db", db).stdout
    assert "+20 ~0 −0" in text and "rollback" in text


def test_rebuild_retrains_inferred_vectors(setup):
    db, images, base, extra, base_csv, extra_csv, ingest, tmp_path = setup
    ingest(base_csv)
    ingest(extra_csv)
    assert products(db)[int(extra["id"].iloc[0])]["node_source"] == "inferred"
    out = json.loads(run("rebuild", "--db", db, "--json", "--walks", "10").stdout)
    assert out["summary"]["mode"] == "full" and out["summary"]["inferred"] == 0
    assert {r["node_source"] for r in products(db).values()} == {"walks"}


def test_many_small_ingests_stay_compact(setup):
    db, images, base, extra, base_csv, extra_csv, ingest, tmp_path = setup
    ingest(base_csv)
    for n in range(4):
        part = tmp_path / f"part{n}.csv"
        extra.iloc[n * 5 : (n + 1) * 5].to_csv(part, index=False)
        ingest(part)
    table = Store.open(db).table("products")
    assert table.count_rows() == 120
    assert table.stats()["fragment_stats"]["num_fragments"] <= 2
