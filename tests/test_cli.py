"""The CLI as a user runs it: ingest, similar, query, and the one-line errors (fake encoder, real LanceDB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from catalog.store.database import Store
from tests.conftest import FAST_INGEST
from tests.conftest import run_cli as run


@pytest.fixture(scope="module")
def db(tmp_path_factory, demo_catalog):
    """One database for the module: the tests below read it, or check that errors leave it unchanged."""
    from tests.conftest import FAKE_ENCODER

    path = tmp_path_factory.mktemp("cli") / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
        run("ingest", "--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--db", path, *FAST_INGEST)
    return path


def state(path):
    """Everything an error must leave untouched: the runs and each table's latest version."""
    store = Store(path)
    return (
        [r.run for r in store.runs()],
        store.db.open_table("products").version,
        store.db.open_table("attributes").version,
    )


def test_ingest_reports_counts_and_problems(tmp_path, demo_catalog, fake_encoder):
    out = run(
        "ingest",
        "--csv",
        demo_catalog.csv_path,
        "--images",
        demo_catalog.images_dir,
        "--db",
        tmp_path / "db",
        "--json",
        *FAST_INGEST,
    )
    doc = json.loads(out.stdout)
    assert doc["summary"]["products"] == demo_catalog.count
    assert doc["summary"]["added"] == demo_catalog.count
    # the demo deliberately lacks two photos: reported with ids, products still land
    assert len(doc["image_problems"]) == 2 and all("id" in p for p in doc["image_problems"])
    assert fake_encoder.calls == demo_catalog.count - 2
    assert set(doc["seconds"]) >= {"read", "images+encode", "walks", "word2vec", "linker", "write"}
    store = Store.open(tmp_path / "db")
    assert store.table("products").count_rows() == demo_catalog.count


def test_reingest_encodes_nothing(db, demo_catalog, fake_encoder):
    fake_encoder.calls = 0
    out = run(
        "ingest",
        "--csv",
        demo_catalog.csv_path,
        "--images",
        demo_catalog.images_dir,
        "--db",
        db,
        "--json",
        *FAST_INGEST,
    )
    doc = json.loads(out.stdout)
    assert fake_encoder.calls == 0
    assert doc["summary"]["added"] == 0 and doc["summary"]["encoded"] == 0


def test_similar_json_excludes_the_product_itself(db):
    store = Store.open(db)
    product_id = store.table("products").search().where("has_image = true").limit(1).to_list()[0]["id"]
    doc = json.loads(run("similar", product_id, "--db", db, "--json", "-k", 4).stdout)
    assert doc["query"]["id"] == product_id
    assert len(doc["results"]) == 4
    assert product_id not in [r["id"] for r in doc["results"]]
    assert {"id", "score", "articleType", "baseColour", "productDisplayName"} <= set(doc["results"][0])
    # Rec orders its pool by the classifiers (scores stay cosines); the graph space is in score order.
    graph = json.loads(run("similar", product_id, "--space", "graph", "--db", db, "--json", "-k", 4).stdout)
    scores = [r["score"] for r in graph["results"]]
    assert scores == sorted(scores, reverse=True) and product_id not in [r["id"] for r in graph["results"]]


def test_similar_all_spaces_side_by_side(db):
    product_id = Store.open(db).table("products").search().where("has_image = true").limit(1).to_list()[0]["id"]
    doc = json.loads(run("similar", product_id, "--space", "all", "--db", db, "--json").stdout)
    assert set(doc["results"]) == {"image", "graph", "rec"}
    assert all(len(v) == 6 for v in doc["results"].values())
    text = run("similar", product_id, "--space", "all", "--db", db).stdout
    assert "graph space" in text and "image space" in text


def test_graph_space_neighbours_share_attributes(db):
    """The graph space is built from the attributes, so its neighbours share them far above chance."""
    store = Store.open(db)
    everything = store.table("products").to_arrow().to_pylist()
    rows = everything[:20]
    shared = {"masterCategory": [], "articleType": []}
    for row in rows:
        doc = json.loads(run("similar", row["id"], "--space", "graph", "--db", db, "--json", "-k", 5).stdout)
        for column, hits in shared.items():
            hits += [r[column] == row[column] for r in doc["results"]]
    chance = sum(a["articleType"] == b["articleType"] for a in rows for b in everything) / (len(rows) * len(everything))
    assert sum(shared["masterCategory"]) / 100 > 0.8
    assert sum(shared["articleType"]) / 100 > 3 * chance


def test_query_by_id_with_arithmetic_moves_toward_added_attributes(db):
    store = Store.open(db)
    items = store.table("products").search().where("subCategory = 'Topwear' AND has_image = true").limit(5).to_list()
    before = after = 0
    for item in items:
        plain = json.loads(run("query", "--id", item["id"], "--db", db, "--json").stdout)
        doc = json.loads(
            run("query", "--id", item["id"], "--plus", "shoes", "--minus", "topwear", "--db", db, "--json").stdout
        )
        assert [t["attribute"] for t in doc["terms"]] == ["subCategory=Shoes", "subCategory=Topwear"]
        before += sum(r["subCategory"] == "Shoes" for r in plain["results"])
        after += sum(r["subCategory"] == "Shoes" for r in doc["results"])
    assert after >= 0.6 * 6 * len(items) and after > 2 * before


def test_query_by_image(db, demo_catalog, fake_encoder):
    photo = next(demo_catalog.images_dir.glob("*.jpg"))
    doc = json.loads(run("query", "--image", photo, "--db", db, "--json", "-k", 3).stdout)
    assert len(doc["results"]) == 3 and doc["image"] == str(photo)


@pytest.mark.parametrize(
    "args, message",
    [
        (["similar", "999999999"], "no product with id 999999999"),
        (["query", "--id", "999999999"], "no product with id"),
        (["query", "--id", "0", "--plus", "chartreuse-ish"], "unknown attribute"),
        (["query", "--image", "missing.jpg"], "not found"),
    ],
)
def test_errors_are_one_line_and_change_nothing(db, args, message):
    before = state(db)
    result = run(*args, "--db", db, ok=False)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert state(db) == before


def test_unknown_attribute_lists_candidates(db):
    result = run("query", "--id", "0", "--plus", "gren", "--db", db, ok=False)
    assert "baseColour=Green" in result.stderr


def test_ambiguous_attribute_word(db):
    attrs = {r["key"] for r in Store.open(db).table("attributes").to_arrow().to_pylist()}
    if not {"subCategory=Watches", "articleType=Watches"} <= attrs:
        pytest.skip("demo sample has no Watches in both columns")
    result = run("query", "--id", "0", "--plus", "watches", "--db", db, ok=False)
    assert "ambiguous" in result.stderr and "articleType=Watches" in result.stderr


def test_bad_ingest_inputs_leave_database_as_it_was(db, tmp_path, demo_catalog):
    before = state(db)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    no_columns = tmp_path / "bad.csv"
    no_columns.write_text("id,colour\n1,red\n")
    cases = [
        (["--csv", tmp_path / "nope.csv", "--images", demo_catalog.images_dir], "nope.csv"),
        (["--csv", demo_catalog.csv_path, "--images", tmp_path / "no-images"], "no-images"),
        (["--csv", empty, "--images", demo_catalog.images_dir], "empty"),
        (["--csv", no_columns, "--images", demo_catalog.images_dir], "gender"),
        (
            ["--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--weights", "no-such.h5"],
            "no-such.h5",
        ),
    ]
    for args, needle in cases:
        result = run("ingest", *args, "--db", db, *FAST_INGEST[2:], ok=False)
        assert result.exit_code == 1, (args, result.output)
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert state(db) == before


def test_changing_encoder_is_refused(db, demo_catalog):
    result = run(
        "ingest",
        "--csv",
        demo_catalog.csv_path,
        "--images",
        demo_catalog.images_dir,
        "--db",
        db,
        "--weights",
        "random",
        "--image-size",
        "96",
        ok=False,
    )
    assert result.exit_code == 1 and "image_size" in result.stderr


def test_missing_database_is_a_clear_error(tmp_path):
    result = run("similar", "1", "--db", tmp_path / "nowhere", ok=False)
    assert result.exit_code == 1 and "no catalog database" in result.stderr


def test_similar_never_imports_tensorflow(db):
    code = (
        "import sys; from catalog.cli.main import main; sys.argv=['catalog','similar','--db',sys.argv[1],'--json',sys.argv[2]];\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'"
    )
    product_id = Store.open(db).table("products").search().where("has_image = true").limit(1).to_list()[0]["id"]
    done = subprocess.run([sys.executable, "-c", code, str(db), str(product_id)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["query"]["id"] == product_id


LANCE_WARNING_SCRIPT = """
import sys, tempfile
import numpy as np

def build_index():  # an IVF index on repeated vectors: LanceDB's k-means warns of empty clusters
    import lancedb, pyarrow as pa
    vectors = np.repeat(np.random.default_rng(0).normal(size=(20, 32)).astype(np.float32), 100, axis=0)
    column = pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), 32)
    table = lancedb.connect(tempfile.mkdtemp()).create_table("t", pa.table({"v": column}))
    table.create_index(metric="cosine", vector_column_name="v", index_type="IVF_FLAT", num_partitions=50)

if sys.argv[1] == "cli":
    from catalog.cli.main import cli
    cli.command("build-index")(build_index)
    cli(["build-index"], standalone_mode=False)
else:
    build_index()
"""


def test_lancedb_warnings_stay_off_the_terminal():
    env = {k: v for k, v in os.environ.items() if k != "LANCEDB_LOG"}
    runs = {
        how: subprocess.run([sys.executable, "-c", LANCE_WARNING_SCRIPT, how], capture_output=True, text=True, env=env)
        for how in ("plain", "cli")
    }
    assert all(done.returncode == 0 for done in runs.values()), {how: done.stderr for how, done in runs.items()}
    assert "WARN" in runs["plain"].stderr  # the noise exists without the CLI...
    assert "WARN" not in runs["cli"].stderr  # ...and the CLI keeps it off stderr


def test_query_help_names_the_band_the_search_uses():
    """The help text states the band width as a literal (the CLI does not import the search module
    to print help); it must follow catalog.query.search.ARITHMETIC_BAND."""
    from catalog.query.search import ARITHMETIC_BAND

    width = f"{ARITHMETIC_BAND:.2f}".lstrip("0")
    assert f"within {width} of the best" in " ".join(run("query", "--help").stdout.split())
