"""Browsing commands on the demo catalog: infer, show, attributes, info (fake encoder, real LanceDB)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter

import pytest

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.photo_features import photo_features_of
from catalog.query.search import get_product, infer_attributes, infer_photo, load_attributes, thumbnails
from catalog.query.stored_models import load_linker
from catalog.store.database import Store
from tests.query_fixture import EVIL_NAME, query_db, run  # noqa: F401  (query_db is a fixture)


def products(query_db) -> list[dict]:
    return (
        Store.open(query_db.path)
        .table("products")
        .to_arrow()
        .select(["id", *ATTRIBUTE_COLUMNS, "has_image"])
        .to_pylist()
    )


# -- infer ---------------------------------------------------------------------------------------


def test_infer_by_id_ranks_values_per_column(query_db):
    doc = json.loads(run("infer", "--id", query_db.ids[0], "--db", query_db.path, "--json").stdout)
    assert doc["query"]["id"] == query_db.ids[0] and doc["image"] is None
    assert list(doc["attributes"]) == list(ATTRIBUTE_COLUMNS)
    known = {(a["column"], a["value"]) for a in json.loads(run("attributes", "--db", query_db.path, "--json").stdout)}
    for column, values in doc["attributes"].items():
        assert 1 <= len(values) <= 3
        scores = [v["score"] for v in values]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)  # probabilities
        assert all((column, v["value"]) in known for v in values)
    top1 = json.loads(run("infer", "--id", query_db.ids[0], "--top", "1", "--db", query_db.path, "--json").stdout)
    assert all(len(v) == 1 for v in top1["attributes"].values())


def test_infer_reads_the_stored_photo_with_the_linkers_classifiers(query_db):
    store = Store.open(query_db.path)
    linker = load_linker(store)
    for product_id in query_db.ids[:5]:
        doc = json.loads(run("infer", "--id", product_id, "--top", "4", "--db", query_db.path, "--json").stdout)
        stored = get_product(store, product_id, ["image_vector"])
        assert linker.photo_features  # the classifiers read the photo features, measured on the thumbnail
        thumbnail = thumbnails(store, [product_id])[product_id]
        expected = linker.infer(stored["image_vector"], top=4, features=photo_features_of([thumbnail]))
        assert doc["attributes"] == {c: [{"value": v, "score": s} for v, s in values] for c, values in expected.items()}


def test_infer_without_classifiers_is_cosine_against_the_translated_vector(query_db):
    """A linker with no classifiers (`cosine`, `paper`, or an `attributes` one saved before it kept
    its values' names) leaves `infer` to the paper's reading: the attribute vectors nearest the
    translated vector."""
    store = Store.open(query_db.path)
    attributes = load_attributes(store)
    for product_id in query_db.ids[:3]:
        product = get_product(store, product_id, ["image_vector", "rec_vector"])
        expected = infer_attributes(product["rec_vector"], attributes, top=4)
        assert infer_photo(None, product["rec_vector"], attributes, top=4) == expected


def test_inference_recovers_attributes_in_the_graph_space(query_db):
    """A product's own node vector names its articleType (top 3) far more often than the commonest share."""
    store = Store.open(query_db.path)
    attributes = load_attributes(store)
    rows = store.table("products").to_arrow().select(["articleType", "node_vector"]).to_pylist()
    hits = sum(
        r["articleType"] in [v for v, _ in infer_attributes(r["node_vector"], attributes)["articleType"]] for r in rows
    )
    commonest = Counter(r["articleType"] for r in rows).most_common(1)[0][1]
    assert hits > 2 * commonest, (hits, commonest, len(rows))


def test_infer_by_image_csv_and_table(query_db, fake_encoder):
    photo = query_db.images_dir / f"{query_db.ids[0]}.jpg"
    by_image = json.loads(run("infer", "--image", photo, "--db", query_db.path, "--json").stdout)
    by_id = json.loads(run("infer", "--id", query_db.ids[0], "--db", query_db.path, "--json").stdout)
    assert by_image["query"] is None and by_image["image"] == str(photo)
    # the stored translated vector is the same photo through the same models
    assert [v["value"] for v in by_image["attributes"]["articleType"]] == [
        v["value"] for v in by_id["attributes"]["articleType"]
    ]
    assert fake_encoder.calls == 1
    rows = list(
        csv.DictReader(io.StringIO(run("infer", "--id", query_db.ids[0], "--db", query_db.path, "--csv").stdout))
    )
    assert len(rows) == 3 * len(ATTRIBUTE_COLUMNS) and set(rows[0]) == {
        "column",
        "rank",
        "value",
        "score",
        "catalog_value",
    }
    text = run("infer", "--id", query_db.ids[0], "--db", query_db.path, env={"COLUMNS": "80"}).stdout
    assert "inferred attributes" in text and all(column in text for column in ATTRIBUTE_COLUMNS)
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["--id", "999999999"], "no product with id 999999999", 1),
        (["--id", "{no_photo}"], "has no photo", 1),
        (["--image", "missing.jpg"], "not found", 1),
        (["--image", "{not_an_image}"], "cannot use", 1),
        ([], "give exactly one of --image FILE or --id ID", 2),
        (["--id", "{first}", "--json", "--csv"], "choose one of --json and --csv", 2),
    ],
)
def test_infer_errors(query_db, tmp_path, fake_encoder, args, message, code):
    not_an_image = tmp_path / "photo.png"
    not_an_image.write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    args = [a.format(no_photo=query_db.no_photo_id, not_an_image=not_an_image, first=query_db.ids[0]) for a in args]
    result = run("infer", *args, "--db", query_db.path, ok=False)
    assert result.exit_code == code and message in result.stderr, result.stderr
    if code == 1:
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


# -- show, attributes, info ------------------------------------------------------------------------


def test_show_product(query_db):
    product_id = query_db.ids[0]
    doc = json.loads(run("show", product_id, "--db", query_db.path, "--json").stdout)
    row = next(r for r in products(query_db) if r["id"] == product_id)
    assert {c: doc[c] for c in ATTRIBUTE_COLUMNS} == {c: row[c] for c in ATTRIBUTE_COLUMNS}
    assert doc["has_image"] is True and doc["node_source"] == "walks" and doc["run"] == 1
    assert doc["image_path"].endswith(f"{product_id}.jpg")
    # shared_with: how many products carry each of its values
    everyone = products(query_db)
    for column, count in doc["shared_with"].items():
        assert count == sum(r[column] == row[column] for r in everyone)
    assert "thumbnail" not in doc and "image_vector" not in doc
    assert json.loads(run("show", query_db.no_photo_id, "--db", query_db.path, "--json").stdout)["has_image"] is False
    text = run("show", query_db.evil_id, "--db", query_db.path, env={"COLUMNS": "80"}).stdout
    assert EVIL_NAME in text.replace("\n", "") or "<script>" in text  # shown as text, not eaten as markup
    assert max(len(line) for line in text.splitlines()) <= 80


def test_show_unknown_id(query_db):
    result = run("show", 999999999, "--db", query_db.path, ok=False)
    assert result.exit_code == 1 and "no product with id 999999999" in result.stderr


def test_attributes_counts(query_db):
    everyone = products(query_db)
    rows = json.loads(run("attributes", "--db", query_db.path, "--json").stdout)
    assert [r["column"] for r in rows] == sorted((r["column"] for r in rows), key=ATTRIBUTE_COLUMNS.index)
    for column in ATTRIBUTE_COLUMNS:
        counted = Counter(r[column] for r in everyone if r[column])
        assert {r["value"]: r["products"] for r in rows if r["column"] == column} == dict(counted)
    colours = json.loads(run("attributes", "colour", "--db", query_db.path, "--json").stdout)
    assert {r["column"] for r in colours} == {"baseColour"}
    assert [r["products"] for r in colours] == sorted((r["products"] for r in colours), reverse=True)
    text = run("attributes", "baseColour", "--db", query_db.path, env={"COLUMNS": "80"}).stdout
    assert colours[0]["value"] in text and str(colours[0]["products"]) in text
    result = run("attributes", "flavour", "--db", query_db.path, ok=False)
    assert result.exit_code == 1 and "unknown attribute column 'flavour'; columns are gender" in result.stderr


def test_info(query_db):
    doc = json.loads(run("info", "--db", query_db.path, "--json").stdout)
    everyone = products(query_db)
    assert doc["products"] == len(everyone) and doc["with_image"] == sum(r["has_image"] for r in everyone)
    assert doc["node_source"] == {"walks": len(everyone), "inferred": 0}
    assert doc["encoder"]["id"].startswith("fake/random") and doc["encoder"]["image_size"] == 64
    assert doc["node2vec"]["num_walks"] == 10 and doc["linker"]["kind"] == "attributes"
    assert "val_cosine" in doc["linker"]["metrics"]
    # only the settings that shape the attributes linker: no network epochs or layer size
    assert {"regularisation", "sharpness"} <= set(doc["linker"]) and not {"epochs", "hidden"} & set(doc["linker"])
    assert doc["run"]["run"] == 1 and doc["run"]["runs"] == 1
    assert doc["versions"]["lancedb"] and doc["versions"]["schema"] >= 1
    on_disk = sum(p.stat().st_size for p in query_db.path.rglob("*") if p.is_file())
    assert doc["disk_bytes"] == on_disk > 0
    text = run("info", "--db", query_db.path, env={"COLUMNS": "80"}).stdout
    assert "fake/random" in text and "MB on disk" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_browsing_never_imports_tensorflow(query_db):
    code = (
        "import sys\nfrom catalog.cli.main import cli\n"
        "for args in sys.argv[2:]:\n"
        "    try:\n        cli(['--debug', *args.split('|'), '--db', sys.argv[1]], standalone_mode=False)\n"
        "    except SystemExit:\n        pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n"
    )
    commands = [f"show|{query_db.ids[0]}", "attributes|colour", "info", f"infer|--id|{query_db.ids[0]}|--json"]
    done = subprocess.run([sys.executable, "-c", code, str(query_db.path), *commands], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "baseColour" in done.stdout and '"attributes"' in done.stdout
