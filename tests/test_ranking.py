"""The one ranking module (catalog/core/ranking.py): its rules, and that no reader keeps its own copy."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from catalog.core import ranking
from catalog.core.ranking import TIE_TOLERANCE, tie_groups, tie_order, top_k, top_with_ties
from tests.conftest import FAKE_ENCODER, FAST_INGEST
from tests.conftest import run_cli as run

CATALOG = Path(__file__).resolve().parent.parent / "catalog"


def test_a_tie_is_measured_from_its_first_score():
    step = 0.6 * TIE_TOLERANCE
    # Chained differences would make one tie of all three; the leader rule splits at 2 x step.
    assert tie_groups(np.array([1.0, 1.0 - step, 1.0 - 2 * step])).tolist() == [0, 0, 1]
    # Equal scores on either side of a rounding boundary stay one tie (1e-6 buckets split them).
    assert tie_groups(np.array([0.5000004, 0.4999996])).tolist() == [0, 0]
    assert tie_groups(np.array([])).tolist() == []


def test_ties_go_photos_first_by_closeness_then_id():
    scores = np.array([0.5, 0.9, 0.9, 0.9, 0.9, 0.9 - 0.5 * TIE_TOLERANCE])
    has_image = np.array([True, False, True, True, False, True])
    closeness = np.array([1.0, 0.0, 0.2, 0.7, 0.0, 0.2])
    ids = np.array([1, 9, 8, 7, 3, 2])
    # One tie of five (the fifth within the tolerance): photos by closeness, equal closeness by
    # id, then the photo-less ones by id; the lower score last.
    assert tie_order(scores, has_image, closeness, ids).tolist() == [3, 5, 2, 4, 1, 0]


def test_top_k_takes_the_first_rows_among_equal_scores_and_never_minus_infinity():
    scores = np.array([0.1, 0.3, 0.3, -np.inf, 0.3, 0.2], np.float32)
    for k in (2, 4):
        rows, values = top_k(scores, k)
        assert rows.tolist() == [1, 2, 4, 5][:k] and values.tolist() == sorted(values.tolist(), reverse=True)
    assert top_k(scores, 10)[0].tolist() == [1, 2, 4, 5, 0]  # -inf is never a result
    many = np.repeat(np.arange(50, dtype=np.float32), 3)  # above SMALL_K: the partition path, same rule
    rows, _ = top_k(many, ranking.SMALL_K + 5)
    assert rows.tolist() == top_k(many, 200)[0][: ranking.SMALL_K + 5].tolist()
    assert rows[:3].tolist() == [147, 148, 149]


def test_a_tie_at_the_kth_place_is_filled_with_its_best_photos():
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.5, 0.1])
    has_image = np.array([True, True, False, True, True, True])
    closeness = np.array([0.0, 0.1, 0.0, 0.9, 0.5, 1.0])
    rows, values = top_with_ties(scores, 3, has_image, np.arange(6), lambda r: closeness[r])
    assert rows.tolist() == [0, 3, 4] and values.tolist() == [0.9, 0.5, 0.5]


def _calls(tree: ast.AST) -> list[str]:
    """Sorting calls that rank: np.lexsort, np.argpartition, and argsort of a negated array."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name in ("lexsort", "argpartition"):
                found.append(name)
            elif name == "argsort" and node.args and isinstance(node.args[0], ast.UnaryOp):
                found.append("argsort(-...)")
    return found


def test_ranking_is_written_once():
    """Every ordering of results lives in catalog/core/ranking.py; search, the snapshot and eval
    call it. Sorting by score anywhere else in the library is a second copy that can drift."""
    copies = {}
    for path in CATALOG.rglob("*.py"):
        if path.name == "ranking.py" and path.parent.name == "core":
            continue
        calls = _calls(ast.parse(path.read_text()))
        if calls:
            copies[str(path.relative_to(CATALOG))] = calls
    assert copies == {}
    # The three callers use the module's functions themselves, not look-alikes.
    from catalog.evaluate import ranker
    from catalog.query import search, snapshot

    assert search.tie_order is ranking.tie_order and search.tie_groups is ranking.tie_groups
    assert snapshot.top_with_ties is ranking.top_with_ties and snapshot.top_k is ranking.top_k
    assert ranker.top_with_ties is ranking.top_with_ties and ranker.top_k is ranking.top_k
    for module in (search, snapshot, ranker):
        assert module.band_order is ranking.band_order and module.preference_order is ranking.preference_order


# -- the settings ------------------------------------------------------------------------------------


def test_settings_change_by_name_and_column_and_refuse_what_they_do_not_know():
    from catalog.core.errors import CatalogError
    from catalog.core.ranking import DEFAULT_RANKING, RankingSettings

    changed = DEFAULT_RANKING.changed({"rec_weights.baseColour": "1.5", "arithmetic_pool": "50"})
    assert changed.rec_weights == {"articleType": 1.0, "baseColour": 1.5} and changed.arithmetic_pool == 50
    assert RankingSettings.from_dict(changed.to_dict()) == changed  # what a run records reads back the same
    assert RankingSettings.from_dict({}) == DEFAULT_RANKING  # a record from before the settings: the defaults
    # Keyed by column name: the linker's weights do not depend on the order of ATTRIBUTE_COLUMNS.
    assert DEFAULT_RANKING.linker_weights["articleType"] == 2.0 and DEFAULT_RANKING.linker_weights["year"] == 0.1
    for bad, message in (
        ({"band": 0.1}, "unknown ranking setting 'band'"),
        ({"rec_weights.size": 1}, "unknown column 'size'"),
        ({"arithmetic_band": "wide"}, "must be a number"),
        ({"rec_pool": 0}, "at least 1"),
        ({"arithmetic_band.gender": 1}, "has no columns"),
    ):
        with pytest.raises(CatalogError, match=message):
            DEFAULT_RANKING.changed(bad)


@pytest.fixture(scope="module")
def ranked_db(tmp_path_factory, demo_catalog):
    path = tmp_path_factory.mktemp("ranking") / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
        run("ingest", "--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--db", path,
            *FAST_INGEST, "--ranking", "arithmetic_band=0.2", "--ranking", "linker_weights.gender=1")  # fmt: skip
    return path


def test_ranking_settings_are_recorded_with_the_run_and_read_back(ranked_db, demo_catalog):
    from catalog.core.ranking import DEFAULT_RANKING
    from catalog.models.linker import Linker
    from catalog.query.search import settings_of
    from catalog.query.snapshot import Snapshot
    from catalog.store.database import Store

    info = json.loads(run("info", "--db", ranked_db, "--json").stdout)["ranking"]
    assert info["arithmetic_band"] == 0.2 and info["linker_weights"]["gender"] == 1.0
    assert info["rec_weights"] == DEFAULT_RANKING.rec_weights and info["rec_pool"] == DEFAULT_RANKING.rec_pool
    assert "ranking" in run("info", "--db", ranked_db).stdout  # the table shows them too
    store = Store.open(ranked_db)
    assert settings_of(store).arithmetic_band == 0.2 and Snapshot.load(store).settings == settings_of(store)
    # The linker was trained with the recorded column weights (gender is the first column).
    linker = Linker.from_bytes(store.read_file(store.run.linker["file"]))
    assert linker.column_weights[0] == 1.0 and linker.column_weights[3] == DEFAULT_RANKING.linker_weights["articleType"]

    # eval measures other settings without changing the database, and records what it measured.
    doc = json.loads(run("eval", "--db", ranked_db, "--json", "--holdout", "0.3", "--walks", "10", "--trials", "10",
                         "--ranking", "arithmetic_band=0.05").stdout)  # fmt: skip
    assert (
        doc["settings"]["ranking"]["arithmetic_band"] == 0.05
        and doc["settings"]["ranking"]["linker_weights"]["gender"] == 1.0
    )
    # Arithmetic from catalog items (`query --id`), kept per untouched column beside a random carrier.
    ids = doc["arithmetic"]["multi_term_ids"]
    assert ids["queries"] > 0 and set(ids["kept_by_column"]) == set(ids["kept_random_carrier_by_column"]) == {
        "gender",
        "season",
        "year",
        "usage",
    }
    assert "kept_random_carrier_by_column" in doc["arithmetic"]["multi_term"]
    # rebuild changes one and keeps the rest; an incremental ingest may not change the linker's weights.
    run("rebuild", "--db", ranked_db, "--ranking", "rec_pool=50")
    after = json.loads(run("info", "--db", ranked_db, "--json").stdout)["ranking"]
    assert after["rec_pool"] == 50 and after["arithmetic_band"] == 0.2
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
        out = run("ingest", "--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--db", ranked_db,
                  "--ranking", "linker_weights.gender=2", ok=False)  # fmt: skip
    assert out.exit_code == 1 and "catalog rebuild --ranking" in out.output
    out = run("eval", "--db", ranked_db, "--ranking", "band=0.1", ok=False)
    assert out.exit_code == 1 and "unknown ranking setting 'band'" in out.output


# -- arithmetic keeps the item -------------------------------------------------------------------------


def test_arithmetic_returns_the_items_gender_first_where_the_added_values_exist_for_every_gender(tmp_path):
    """On a catalog whose genders are independent of everything a photo shows (benchmarks/heldout.py),
    `+green +shoes -topwear` from a topwear item returns green shoes of the item's gender first: the
    catalog knows the item's gender, and green shoes exist for every gender. The graph space alone
    (the query's order) keeps it no better than chance; LanceDB and the snapshot agree."""
    from benchmarks.heldout import make_heldout_catalog
    from catalog import Catalog
    from catalog.store.database import Store

    csv_path = make_heldout_catalog(tmp_path / "catalog", count=240, seed=3, image_size=64)
    db = tmp_path / "db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
        run("ingest", "--csv", csv_path, "--images", csv_path.parent / "images", "--db", db, *FAST_INGEST)
    rows = (
        Store.open(db)
        .table("products")
        .search()
        .select(["id", "gender", "subCategory", "baseColour"])
        .limit(1000)
        .to_list()
    )
    green_shoes = {r["gender"] for r in rows if r["subCategory"] == "Shoes" and r["baseColour"] == "Green"}
    assert green_shoes == {"Men", "Women", "Unisex"}  # the premise: the added values exist for every gender
    lance, memory = Catalog(db), Catalog(db, memory=True)
    items = [r for r in rows if r["subCategory"] == "Topwear"][:12]
    kept = plain = 0
    for item in items:
        args = {"ids": [item["id"]], "plus": "green,shoes", "minus": "topwear", "k": 3}
        found = lance.query(**args)
        assert found.ids == memory.query(**args).ids  # the snapshot's order is LanceDB's
        first = found.results["rec"][0].row
        assert (first["baseColour"], first["subCategory"], first["gender"]) == ("Green", "Shoes", item["gender"])
        kept += sum(r.row["gender"] == item["gender"] for r in found.results["rec"])
        plain += sum(r.row["gender"] == item["gender"] for r in lance.query(**args, band=False).results["rec"])
    assert kept > plain


def test_the_items_gender_outweighs_its_season_year_and_usage_together():
    """`kept_weights`: a result of the item's gender comes before one of another gender that keeps
    the item's season, year and usage (and is closer to the item): who a product is for first.
    With gender weighing exactly season + year + usage (the weights before) the two tied and
    closeness put the other gender first."""
    from catalog.core.ranking import arithmetic_order, arithmetic_target, row_target_scores

    item = {"gender": "Men", "subCategory": "Topwear", "baseColour": "Blue", "season": "Summer", "year": "2012",
            "usage": "Casual"}  # fmt: skip
    terms = [("baseColour", "Green", 1.0), ("subCategory", "Shoes", 1.0), ("subCategory", "Topwear", -1.0)]
    target = arithmetic_target(terms, {column: {value: 1.0} for column, value in item.items()})
    assert set(target.kept) == {"gender", "season", "year", "usage"}  # colour and category are the terms'
    columns = ("baseColour", "subCategory", "gender", "season", "year", "usage")
    rows = [
        dict(zip(columns, values))
        for values in [
            ("Green", "Shoes", "Women", "Summer", "2012", "Casual"),  # keeps season, year and usage
            ("Green", "Shoes", "Men", "Winter", "2015", "Formal"),  # keeps the gender only
            ("Green", "Topwear", "Men", "Summer", "2012", "Casual"),
        ]
    ]
    carried, kept = row_target_scores(rows, target)
    assert carried.tolist() == [3.0, 3.0, 1.0]  # the third still carries Topwear: the terms come first
    assert arithmetic_order(carried, kept, np.array([0.9, 0.1, 1.0])).tolist() == [1, 0, 2]
    weights = ranking.DEFAULT_RANKING.kept_weights
    assert weights["gender"] > weights["season"] + weights["year"] + weights["usage"]
