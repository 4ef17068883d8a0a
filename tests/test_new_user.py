"""What a new user tripped over on the demo catalog, one test each (issue 12's list)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rich.console import Console

from catalog.cli import render
from catalog.models.linker import linker_warning
from catalog.store.database import Run
from ingest.pipeline import IngestReport
from tests.conftest import FAST_INGEST
from tests.conftest import run_cli as run
from tests.query_fixture import query_db  # noqa: F401  (the shared read-only database)


@pytest.fixture
def db_copy(query_db, tmp_path):  # noqa: F811
    path = tmp_path / "db"
    shutil.copytree(query_db.path, path)
    return path


def test_rebuild_prints_its_report(db_copy, fake_encoder):
    result = run("rebuild", "--walks", "5", "--db", db_copy)
    assert "run 2 (full)" in result.stdout and "KeyError" not in result.output
    assert "photos encoded" not in result.stdout  # a rebuild encodes nothing; it does not say "0 photos encoded"


def test_negative_scores_are_shown_in_full():
    rows = [
        {"id": 7, "articleType": "Shirts", "baseColour": "Red", "productDisplayName": "A shirt"},
        {"id": 12345, "articleType": "Heels", "baseColour": "Black", "productDisplayName": "Some heels"},
    ]
    for width in (60, 80, 120):
        out = Console(width=width, record=True)
        out.print(render.product_table("t", rows, scores=[0.5, -0.123], width=width))
        text = out.export_text()
        assert "-0.123" in text and "12345" in text, (width, text)


def test_a_later_ingest_uses_the_encoder_the_database_records(db_copy, query_db, monkeypatch):  # noqa: F811
    monkeypatch.delenv("CATALOG_ENCODER", raising=False)  # the database's own (recorded) encoder
    csv = query_db.path.parent / "styles.csv"
    doc = json.loads(run("ingest", "--csv", csv, "--images", query_db.images_dir, "--db", db_copy, "--json").stdout)
    assert doc["run"] is None and doc["summary"]["added"] == 0  # nothing changed, and no --weights needed
    refused = run(
        "ingest", "--csv", csv, "--images", query_db.images_dir, "--db", db_copy, "--weights", "imagenet", ok=False
    )
    assert refused.exit_code == 1 and "weights=random" in refused.stderr


def test_similar_all_fits_80_columns_one_line_per_rank(query_db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COLUMNS", "80")
    out = run("similar", query_db.ids[0], "--space", "all", "-k", 6, "--db", query_db.path).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    # under the title and the header: one line per rank, nothing wrapped onto a second line
    table = lines[next(i for i, line in enumerate(lines) if "nearest products per space" in line) :]
    assert [line.split()[0] for line in table[2:8]] == ["1", "2", "3", "4", "5", "6"], out


def test_similar_all_for_a_product_without_a_photo(query_db):  # noqa: F811
    result = run("similar", query_db.no_photo_id, "--space", "all", "--db", query_db.path)
    assert "graph space" in result.stdout and "no photo" in result.stderr
    doc = json.loads(run("similar", query_db.no_photo_id, "--space", "all", "--db", query_db.path, "--json").stdout)
    assert list(doc["results"]) == ["graph"]  # still keyed by space, like any --space all


def test_db_may_come_before_the_command(query_db):  # noqa: F811
    doc = json.loads(run("--db", query_db.path, "similar", query_db.ids[0], "-k", 2, "--json").stdout)
    assert len(doc["results"]) == 2


def test_eval_is_reproducible_for_a_seed(db_copy):
    options = ["eval", "--db", db_copy, "--json", "--walks", "5", "--epochs", "5", "--trials", "20", "--seed", "3"]
    first, second = (json.loads(run(*options).stdout) for _ in range(2))
    del first["seconds"], second["seconds"]
    assert first == second


def test_html_to_a_missing_folder_fails_before_the_work(query_db, tmp_path):  # noqa: F811
    result = run(
        "similar", query_db.ids[0], "--db", query_db.path, "--html", tmp_path / "nowhere" / "page.html", ok=False
    )
    assert result.exit_code == 1 and "does not exist" in result.stderr and result.stdout == ""


def test_show_gives_the_photo_path_absolute(tmp_path, demo_catalog, fake_encoder, monkeypatch):
    monkeypatch.chdir(demo_catalog.images_dir.parent)  # ingest with a relative --images
    run("ingest", "--csv", "styles.csv", "--images", "images", "--db", tmp_path / "db", *FAST_INGEST, "--epochs", 3)
    monkeypatch.chdir(tmp_path)
    product_id = next(i for i in demo_catalog_ids(demo_catalog) if (demo_catalog.images_dir / f"{i}.jpg").exists())
    doc = json.loads(run("show", product_id, "--db", tmp_path / "db", "--json").stdout)
    assert Path(doc["image_path"]).is_absolute() and Path(doc["image_path"]).is_file()


def demo_catalog_ids(demo_catalog) -> list[int]:
    return [int(line.split(",", 1)[0]) for line in demo_catalog.csv_path.read_text().splitlines()[1:]]


def test_a_folder_as_image_is_a_clear_error(query_db):  # noqa: F811
    result = run("query", "--image", query_db.images_dir, "--db", query_db.path, ok=False)
    assert result.exit_code == 1 and "is a folder" in result.stderr


def test_info_has_no_python_reprs(query_db):  # noqa: F811
    out = run("info", "--db", query_db.path).stdout
    for repr_text in ("True", "False", "None", "['", "{'"):
        assert repr_text not in out, (repr_text, out)
    assert "suggest rebuild no" in out


def test_a_linker_worse_than_the_mean_is_reported(capsys):
    assert linker_warning("cosine", {"val_cosine": 0.6, "val_cosine_mean_predictor": 0.4}) is None
    assert "no better than predicting the mean" in linker_warning(
        "cosine", {"val_cosine": 0.193, "val_cosine_mean_predictor": 0.416}
    )
    assert "MSE" in linker_warning("paper", {"val_mse": 0.31, "val_mse_mean_predictor": 0.07})
    metrics = {"val_cosine": 0.193, "val_cosine_mean_predictor": 0.416}
    run_record = Run(
        1, "ingest", datetime.now(timezone.utc), 1, 1, {}, {}, {"kind": "cosine", "metrics": metrics}, {}, {}
    )
    summary = {"mode": "full", "products": 9, "added": 9, "changed": 0, "removed": 0, "encoded": 9}
    report = IngestReport(run_record, 9, [], [], {"read": 0.1}, summary)
    render.print_ingest_report(report)
    assert "warning: the linker (cosine) is no better" in capsys.readouterr().err
    assert report.to_dict()["warnings"] == report.warnings != []


def test_the_demo_has_the_readme_examples(demo_catalog):
    ids = demo_catalog_ids(demo_catalog)
    assert {19549, 1855, 41599} <= set(ids)
    assert demo_catalog.photo_path.is_file() and demo_catalog.new_products_csv.is_file()
    assert not set(demo_catalog.missing_image_ids) & {19549, 1855, 41599}
