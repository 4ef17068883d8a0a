"""Search library: attribute inference, arithmetic, filters (real LanceDB where a store is needed)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.query.search import (
    ARITHMETIC_BAND,
    REC_OTHER_WEIGHT,
    REC_POOL,
    REC_WEIGHTS,
    Attribute,
    Query,
    Term,
    base_vector,
    compose,
    get_product,
    infer_attributes,
    load_attributes,
    nearest,
    parse_terms,
    photo_vector,
    preference_order,
    rec_preferences,
    row_preferences,
    stored_preferences,
)
from catalog.store.database import Store
from tests.query_fixture import query_db, run  # noqa: F401  (query_db is a fixture)


def attribute(key: str, vector) -> Attribute:
    column, value = key.split("=", 1)
    return Attribute(key, column, value, np.asarray(vector, dtype=np.float32))


def test_infer_attributes_ranks_values_per_column_by_cosine():
    attributes = [
        attribute("baseColour=Green", [1, 0, 0]),
        attribute("baseColour=Red", [0, 1, 0]),
        attribute("baseColour=Blue", [0, 0, 1]),
        attribute("baseColour=Olive", [1, 1, 0]),
        attribute("gender=Men", [0, 5, 0]),  # length must not matter: cosine
        attribute("gender=Women", [1, 0, 0.1]),
    ]
    inferred = infer_attributes(np.array([3.0, 0.5, 0.0]), attributes, top=3)
    assert list(inferred) == list(ATTRIBUTE_COLUMNS)
    assert [value for value, _ in inferred["baseColour"]] == ["Green", "Olive", "Red"]
    assert [value for value, _ in inferred["gender"]] == ["Women", "Men"]
    scores = [score for _, score in inferred["baseColour"]]
    assert scores == sorted(scores, reverse=True) and abs(scores[0] - 3 / np.hypot(3, 0.5)) < 1e-3
    assert inferred["season"] == []  # a column without values in this catalog is still listed
    assert len(infer_attributes(np.ones(3), attributes, top=1)["baseColour"]) == 1


def test_query_target_and_label():
    green = attribute("baseColour=Green", [1, 0])
    topwear = attribute("subCategory=Topwear", [0, 1])
    item = {"id": 7, "gender": "Men", "subCategory": "Topwear", "baseColour": "Grey", "articleType": "Shirts"}
    query = Query(items=[item], terms=[Term(green, 2.0), Term(topwear, -1.0)])
    target = query.target()
    assert target["baseColour"] == {"Grey", "Green"}  # the item's colour still counts, green is added
    assert target["subCategory"] == set()  # subtracted
    assert target["gender"] == {"Men"} and target["season"] == set()
    assert query.label() == "product 7 +baseColour=Green×2 −subCategory=Topwear"
    assert Query(items=[item, {**item, "id": 8}]).label() == "products 7 + 8"
    assert Query(image="a.jpg").label() == "photo a.jpg"


def test_compose_weights_unit_vectors():
    """Every vector counts by its weight alone: a long attribute vector does not drown the item."""
    base = np.array([1.0, 0.0, 0.0])
    green = attribute("baseColour=Green", [0, 10.0, 0])
    once = compose(base, [Term(green, 1.0)])
    twice = compose(base, [Term(green, 2.0)])
    assert np.allclose(once, [1, 1, 0]) and np.allclose(twice, [1, 2, 0])
    assert np.allclose(compose(3 * base, []), base)


def test_parse_terms_weights(query_db):
    attributes = load_attributes(Store.open(query_db.path))
    terms = parse_terms(["green:2,shoes"], ["topwear:0.5"], attributes)
    assert [(t.attribute.key, t.weight) for t in terms] == [
        ("baseColour=Green", 2.0), ("subCategory=Shoes", 1.0), ("subCategory=Topwear", -0.5)]
    # the table headers' short column names work too
    assert parse_terms(["colour=green", "article=tshirts:3"], [], attributes)[1].attribute.key == "articleType=Tshirts"


# -- the CLI on the demo catalog ---------------------------------------------------------------


def test_similar_where_filters_inside_the_search(query_db):
    """A selective filter still returns k results, all matching: it is applied before the top-k, not after."""
    product_id = query_db.ids[0]
    where = "gender = 'Women' AND season = 'Summer'"
    store = Store.open(query_db.path)
    matching = store.table("products").count_rows(where)
    k = min(10, matching - 1)
    assert k >= 5, "the demo catalog should have enough Women/Summer products"
    for space in ("rec", "image", "graph"):
        doc = json.loads(run("similar", product_id, "--space", space, "--where", where, "-k", k, "--db", query_db.path, "--json").stdout)
        assert len(doc["results"]) == k
        assert all(r["gender"] == "Women" and r["season"] == "Summer" for r in doc["results"])
        assert product_id not in [r["id"] for r in doc["results"]]
    unfiltered = json.loads(run("similar", product_id, "-k", k, "--db", query_db.path, "--json").stdout)
    assert not all(r["gender"] == "Women" and r["season"] == "Summer" for r in unfiltered["results"])


def test_query_where_and_weights(query_db):
    product_id = query_db.ids[1]
    doc = json.loads(run("query", "--id", product_id, "--plus", "black:2", "--where", "masterCategory = 'Footwear'",
                         "-k", 5, "--db", query_db.path, "--json").stdout)
    assert len(doc["results"]) == 5 and all(r["masterCategory"] == "Footwear" for r in doc["results"])
    # Black replaces the item's own colour (subtracted with the same weight) unless it is black already.
    assert doc["terms"][0] == {"attribute": "baseColour=Black", "weight": 2.0} and len(doc["terms"]) <= 2
    assert all(t["attribute"].startswith("baseColour=") and t["weight"] == -2.0 for t in doc["terms"][1:])
    assert doc["where"] == "masterCategory = 'Footwear'"


def test_heavier_weight_moves_further(query_db):
    """Across items, `--plus black:3` moves the query further toward black than `--plus black:0.5`
    (seen in the query's order); arithmetic's order puts the products carrying black first either way."""
    light = heavy = 0
    for product_id in query_db.ids[:6]:
        for weight in ("0.5", "3"):
            args = ["query", "--id", product_id, "--plus", f"black:{weight}", "--db", query_db.path, "--json"]
            doc = json.loads(run(*args, "--query-order").stdout)
            black = sum(r["baseColour"] == "Black" for r in doc["results"])
            light, heavy = (light + black, heavy) if weight == "0.5" else (light, heavy + black)
            assert all(r["baseColour"] == "Black" for r in json.loads(run(*args).stdout)["results"])
    assert heavy > light and heavy >= 0.5 * 36


def test_query_several_ids_averages_unit_vectors(query_db):
    first, second = query_db.ids[2], query_db.ids[3]
    doc = json.loads(run("query", "--id", first, "--id", second, "-k", 8, "--db", query_db.path, "--json").stdout)
    assert [item["id"] for item in doc["query"]] == [first, second]
    assert not {first, second} & {r["id"] for r in doc["results"]}
    store = Store.open(query_db.path)
    base, items = base_vector(store, [first, second])
    vectors = [np.asarray(get_product(store, i, ["rec_vector"])["rec_vector"]) for i in (first, second)]
    assert np.allclose(base, np.mean([v / np.linalg.norm(v) for v in vectors], axis=0), atol=1e-6)
    # Without arithmetic the classifiers order the pool, by the two photos' averaged probabilities.
    preferences = stored_preferences(store, [first, second])
    assert preferences is not None
    expected = nearest(store, compose(base, []), "node_vector", 8, exclude=(first, second),
                       tie_vector=photo_vector(store, [first, second]), preferences=preferences)
    assert [r["id"] for r in doc["results"]] == [r.id for r in expected]


def test_csv_output(query_db):
    product_id = query_db.ids[0]
    rows = list(csv.DictReader(io.StringIO(run("similar", product_id, "--db", query_db.path, "--csv", "-k", 4).stdout)))
    assert len(rows) == 4 and [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert set(rows[0]) == {"rank", "id", "score", *ATTRIBUTE_COLUMNS, "productDisplayName"}
    rows = list(csv.DictReader(io.StringIO(run("similar", product_id, "--space", "all", "--db", query_db.path, "--csv", "-k", 3).stdout)))
    assert [r["space"] for r in rows] == ["image"] * 3 + ["graph"] * 3 + ["rec"] * 3
    rows = list(csv.DictReader(io.StringIO(run("query", "--id", product_id, "--plus", "red", "--db", query_db.path, "--csv").stdout)))
    scores = [float(r["score"]) for r in rows]  # arithmetic: the band first, ordered by the item
    assert len(rows) == 6 and scores[0] >= max(scores) - ARITHMETIC_BAND
    both = run("similar", product_id, "--db", query_db.path, "--csv", "--json", ok=False)
    assert both.exit_code == 2 and "--json" in both.stderr


@pytest.mark.parametrize(
    "where, message",
    [
        ("colour = 'Red'", "unknown column 'colour'; did you mean baseColour?"),
        ("gender = \"Women\"", "text values take single quotes"),
        ("gender = 'Women' AND", "bad --where filter"),
        ("gender = 'Women", "unclosed quote"),
        ("year = 2012", "quote the value"),
        ("gender = 'Men') OR (gender = 'Women'", "unbalanced parentheses"),
        ("gender = 'Woman'", "gender is never 'Woman' (values: Boys, Girls, Men"),
        ("thumbnail IS NULL", "unknown column 'thumbnail'"),
    ],
)
def test_bad_filters_are_one_line_errors(query_db, where, message):
    for command in (["similar", query_db.ids[0]], ["query", "--id", query_db.ids[0]]):
        result = run(*command, "--where", where, "--db", query_db.path, ok=False)
        assert result.exit_code == 1, result.output
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr and ".rs:" not in result.stderr


def test_filters_people_write(query_db):
    """Case-insensitive names, IN lists, LIKE and functions pass the check and filter."""
    for where, check in [
        ("mastercategory = 'Apparel'", lambda r: r["masterCategory"] == "Apparel"),
        ("baseColour IN ('Black', 'White')", lambda r: r["baseColour"] in ("Black", "White")),
        ("productDisplayName LIKE '%Men%'", lambda r: "Men" in r["productDisplayName"]),
        ("lower(usage) = 'casual'", lambda r: r["usage"] == "Casual"),
    ]:
        doc = json.loads(run("similar", query_db.ids[0], "--space", "graph", "--where", where, "--db", query_db.path, "--json").stdout)
        assert doc["results"] and all(check(r) for r in doc["results"]), where


@pytest.mark.parametrize(
    "args, message",
    [
        (["query", "--id", "999999999"], "no product with id 999999999"),
        (["query", "--id", "{first}", "--id", "999999999"], "no product with id 999999999"),
        (["query", "--id", "{first}", "--plus", "gren"], "did you mean baseColour=Green"),
        (["query", "--id", "{first}", "--plus", "colour=Mauve"], "unknown attribute 'colour=Mauve'"),
        (["query", "--id", "{first}", "--minus", "flavour=Sweet"], "unknown attribute column 'flavour'"),
        (["similar", "999999999", "--space", "all"], "no product with id"),
        (["similar", "{no_photo}", "--space", "image"], "has no image"),
    ],
)
def test_query_errors(query_db, args, message):
    args = [a.format(first=query_db.ids[0], no_photo=query_db.no_photo_id) for a in args]
    result = run(*args, "--db", query_db.path, ok=False)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_query_photo_that_is_not_an_image(query_db, tmp_path, fake_encoder):
    fake = tmp_path / "shirt.jpg"
    fake.write_text("this is not a JPEG")
    result = run("query", "--image", fake, "--db", query_db.path, ok=False)
    assert result.exit_code == 1 and "cannot use" in result.stderr and "shirt.jpg" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    both = run("query", "--image", fake, "--id", query_db.ids[0], "--db", query_db.path, ok=False)
    assert both.exit_code == 2


def test_query_photo_with_weights_and_filter(query_db, fake_encoder):
    photo = query_db.images_dir / f"{query_db.ids[0]}.jpg"
    doc = json.loads(run("query", "--image", photo, "--plus", "white:2", "--where", "gender = 'Men'",
                         "--db", query_db.path, "--json", "-k", 4).stdout)
    assert doc["query"] is None and doc["image"] == str(photo)
    assert len(doc["results"]) == 4 and all(r["gender"] == "Men" for r in doc["results"])
    assert fake_encoder.calls == 1


# -- terminal tables ---------------------------------------------------------------------------

COLOUR_CODE = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-79]|9[0-7]|38;[25])[;m]")


def test_tables_highlight_matches_in_colour_unless_no_color(query_db):
    product_id = query_db.ids[0]
    coloured = run("similar", product_id, "--space", "graph", "--db", query_db.path, env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert COLOUR_CODE.search(coloured.stdout), "matching attributes are coloured on a colour terminal"
    plain = run("similar", product_id, "--space", "graph", "--db", query_db.path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not COLOUR_CODE.search(plain.stdout), "NO_COLOR: no colour codes"
    assert "\x1b[1m" in plain.stdout, "NO_COLOR keeps the bold, so matches still show"
    # the same words either way
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.stdout) == re.sub(r"\x1b\[[0-9;]*m", "", plain.stdout)


def test_result_tables_fit_80_columns(query_db, fake_encoder):
    first, second = query_db.ids[0], query_db.ids[1]
    commands = [
        ["similar", first], ["similar", first, "--space", "all"], ["similar", query_db.evil_id, "--space", "graph"],
        ["query", "--id", first, "--id", second, "--plus", "green:2,shoes", "--minus", "topwear", "--where", "gender = 'Men'"],
        ["query", "--image", query_db.images_dir / f"{first}.jpg"],
    ]
    for command in commands:
        out = run(*command, "--db", query_db.path, env={"COLUMNS": "80"}).stdout
        assert max(len(line) for line in out.splitlines()) <= 80, out
        assert str(first) in out or "photo" in out


def test_search_commands_never_import_tensorflow(query_db):
    code = (
        "import sys, io, contextlib\nfrom catalog.cli.main import cli\n"
        "for args in sys.argv[2:]:\n"
        "    try:\n        cli(['--debug', *args.split('|'), '--db', sys.argv[1]], standalone_mode=False)\n"
        "    except SystemExit:\n        pass\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n"
    )
    first = query_db.ids[0]
    commands = [f"similar|{first}|--where|gender = 'Men'|--csv", f"query|--id|{first}|--plus|green:2|--json"]
    done = subprocess.run([sys.executable, "-c", code, str(query_db.path), *commands], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "rank,id,score" in done.stdout and '"terms"' in done.stdout


@pytest.fixture(scope="module")
def twins_db(tmp_path_factory, demo_catalog):
    """30 products on three attribute combinations (14, 10 and 6 products), photos from the demo
    catalog, one product of the big combination without a photo; ingested with the fake encoder."""
    import shutil

    import catalog.models.encoder
    from catalog.core.columns import DISPLAY_COLUMNS
    from tests.conftest import FAST_INGEST, FakeEncoder

    root = tmp_path_factory.mktemp("twins")
    images = root / "images"
    images.mkdir()
    photos = sorted(demo_catalog.images_dir.glob("*.jpg"))
    combos = [("Men", "Apparel", "Topwear", "Tshirts", "Black", "Summer", "2012", "Casual", 14),
              ("Women", "Footwear", "Shoes", "Heels", "Red", "Winter", "2016", "Party", 10),
              ("Men", "Accessories", "Watches", "Watches", "Silver", "Fall", "2011", "Formal", 6)]
    rows = []
    for values in combos:
        for _ in range(values[-1]):
            product_id = 500 + len(rows)
            rows.append([product_id, *values[:-1], f"product {product_id}"])
            if product_id != 501:  # one twin without a photo
                shutil.copy(photos[len(rows)], images / f"{product_id}.jpg")
    with (root / "styles.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(DISPLAY_COLUMNS)
        writer.writerows(rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog.models.encoder, "ImageEncoder", FakeEncoder)
        run("ingest", "--csv", root / "styles.csv", "--images", images, "--db", root / "db", *FAST_INGEST)
    return root / "db"


def test_ties_in_the_graph_space_are_ordered_by_photo_closeness(twins_db):
    """Products of one attribute combination share a node vector; photos decide among them."""
    from catalog.query.search import similar

    table = {r["id"]: r for r in Store.open(twins_db).table("products").to_arrow().to_pylist()}
    big = [i for i in range(500, 514)]
    assert all(table[i]["node_vector"] == table[500]["node_vector"] for i in big)
    # The ingest ranks each combination's photo-less products by id (501 is the big one's only one).
    assert table[501]["tie_rank"] == 1 and all(table[i]["tie_rank"] == 0 for i in big if i != 501)

    def unit(v):
        v = np.asarray(v, np.float32)
        return v / np.linalg.norm(v)

    query = 500
    closeness = {i: float(unit(table[i]["image_vector"]) @ unit(table[query]["image_vector"]))
                 for i in big if i != query and table[i]["has_image"]}
    expected = sorted(closeness, key=lambda i: (-closeness[i], i))
    for k in (3, 13, 16):  # the tie straddles the k-th place; fills it exactly; ends before it
        _, results = similar(Store.open(twins_db), query, k=k, spaces=("graph", "rec"))
        got = [r.id for r in results["graph"]]
        assert len(got) == k and all(r.score == pytest.approx(1.0, abs=1e-4) for r in results["graph"][:13])
        assert got[: min(k, 12)] == expected[: min(k, 12)]  # the 12 twins with photos, closest photo first
        if k >= 13:
            assert got[12] == 501  # the twin without a photo after those with one
        if k == 16:
            assert all(i >= 514 for i in got[13:])  # then the next combination
        # The in-memory snapshot (`catalog serve`) orders ties the same way.
        from catalog.query.snapshot import Snapshot

        store = Store.open(twins_db)
        _, in_memory = Snapshot.load(store).similar(store, query, k=k, spaces=("graph", "rec"))
        assert [r.id for r in in_memory["graph"]] == got
        assert [r.id for r in in_memory["rec"]] == [r.id for r in results["rec"]]
        rec = [r.id for r in results["rec"]]
        scores = [r.score for r in results["rec"]]
        for a, b, sa, sb in zip(rec, rec[1:], scores, scores[1:]):
            if sa == sb and table[a]["has_image"] and table[b]["has_image"]:  # within a tie: photo order
                assert float(unit(table[a]["image_vector"]) @ unit(table[query]["image_vector"])) >= \
                    float(unit(table[b]["image_vector"]) @ unit(table[query]["image_vector"])) - 1e-6


def test_replacing_subtracts_the_items_own_value_of_an_added_column():
    from catalog.query.search import Attribute, Term, replacing

    def attribute(key, vector):
        column, value = key.split("=", 1)
        return Attribute(key, column, value, np.asarray(vector, dtype=np.float32))

    black, green = attribute("baseColour=Black", [1, 0, 0]), attribute("baseColour=Green", [0, 1, 0])
    shoes, topwear = attribute("subCategory=Shoes", [0, 0, 1]), attribute("subCategory=Topwear", [1, 1, 0])
    attributes = [black, green, shoes, topwear]
    photo = np.array([0.9, 0.1, 0.0])  # reads as black
    terms = replacing(photo, [Term(green, 1.0), Term(shoes, 2.0), Term(topwear, -1.0)], attributes)
    # Green replaces the photo's black (same weight); Shoes already has Topwear subtracted by hand.
    assert [(t.attribute.key, t.weight) for t in terms] == [
        ("baseColour=Green", 1.0),
        ("subCategory=Shoes", 2.0),
        ("subCategory=Topwear", -1.0),
        ("baseColour=Black", -1.0),
    ]
    # A catalog item's own value comes from its row, whatever its vector reads as.
    terms = replacing(photo, [Term(black, 1.0)], attributes, items=[{"baseColour": "Green"}])
    assert [(t.attribute.key, t.weight) for t in terms] == [("baseColour=Black", 1.0), ("baseColour=Green", -1.0)]
    # Adding the value the item already has subtracts nothing.
    assert len(replacing(photo, [Term(black, 1.0)], attributes)) == 1


def test_band_order_puts_near_equal_scores_in_the_items_order():
    from catalog.query.search import ARITHMETIC_BAND, band_order

    best = 0.9
    scores = np.array([best, 0.88, 0.88, best - ARITHMETIC_BAND + 1e-3, best - ARITHMETIC_BAND - 1e-3, 0.5])
    closeness = np.array([0.1, 0.5, 0.5, 0.9, 0.99, 1.0])
    # In the band: closest to the item first, equal closeness (one combination) in the given order;
    # then the rest as the query ranked them, however close to the item.
    assert band_order(scores, closeness).tolist() == [3, 1, 2, 0, 4, 5]
    assert band_order(np.array([]), np.array([])).tolist() == []


def test_arithmetic_orders_the_querys_pool_by_values_carried_then_kept(query_db):
    """`Catalog.query` returns the query's first ARITHMETIC_POOL results ordered by the added values
    they carry, then the item's other values they keep (kept_weights), then closeness to the item;
    `catalog eval` ranks the same way; `band=False` / `--query-order` keep the query's order."""
    from catalog import Catalog
    from catalog.core.ranking import DEFAULT_RANKING
    from catalog.evaluate.arithmetic import catalog_item_values
    from catalog.evaluate.evaluation import _Ranker
    from catalog.evaluate.split import attribute_codes, load_catalog
    from catalog.query.search import ARITHMETIC_POOL, arithmetic_target

    def unit(v):
        v = np.asarray(v, np.float64)
        return v / max(np.linalg.norm(v), 1e-12)

    catalog = Catalog(query_db.path)
    store = Store.open(query_db.path)
    rows = store.table("products").to_arrow().to_pylist()
    by_id = {r["id"]: r for r in rows}
    node = {r["id"]: unit(r["node_vector"]) for r in rows}
    frame = load_catalog(store)
    codes, vocabularies = attribute_codes(frame)
    reordered = 0
    for item in query_db.ids[:6]:
        got = catalog.query(ids=[item], plus="black", k=6)
        plain = catalog.query(ids=[item], plus="black", k=ARITHMETIC_POOL, band=False).results["rec"]
        base, _ = base_vector(store, [item])
        terms = [(t.attribute.column, t.attribute.value, t.weight) for t in got.query.terms]
        own = {c: {by_id[item][c]: 1.0} for c in ATTRIBUTE_COLUMNS if by_id[item][c]}
        target = arithmetic_target(terms, own)
        weights = DEFAULT_RANKING.kept_weights

        keys = []  # the definition, written out: terms satisfied, item's values kept, closeness, position
        for n, result in enumerate(plain):
            row = by_id[result.id]
            carried = sum(w for c, v, w in terms if w > 0 and row[c] == v) + sum(-w for c, v, w in terms if w < 0 and row[c] != v)
            kept = sum(weights[c] for c in target.kept if row[c] == by_id[item][c])
            keys.append((-round(carried, 6), -round(kept, 6), -round(float(node[row["id"]] @ unit(base)), 6), n))
        expected = sorted(range(len(plain)), key=keys.__getitem__)
        assert got.ids == [plain[n].id for n in expected[:6]]
        assert all(by_id[i]["baseColour"] == "Black" for i in got.ids)  # carried first: every result is black
        reordered += got.ids != [r.id for r in plain[:6]]
        # eval's ranker, with the item among the pool but excluded as `query --id` excludes it, returns the same.
        position = {int(i): n for n, i in enumerate(frame["id"])}
        images = np.array([r["image_vector"] if r["has_image"] else np.zeros(len(r["image_vector"])) for r in rows])
        order = [position[int(r["id"])] for r in rows]
        ranker = _Ranker(np.array([r["node_vector"] for r in rows]), images, np.array([r["id"] for r in rows]),
                         DEFAULT_RANKING, codes[order], vocabularies)  # fmt: skip
        values = catalog_item_values(codes[[position[item]]], vocabularies)[0]
        eval_target = arithmetic_target(terms, values)
        ranked = ranker.top(compose(base, got.query.terms), 6, np.asarray(by_id[item]["image_vector"]), base,
                            target=eval_target, exclude=next(n for n, r in enumerate(rows) if r["id"] == item))  # fmt: skip
        assert [rows[n]["id"] for n in ranked] == got.ids
    assert reordered  # the order changes something on this catalog, so the checks above mean something
    doc = json.loads(run("query", "--id", item, "--plus", "black", "--query-order", "--db", query_db.path, "--json").stdout)
    assert [r["id"] for r in doc["results"]] == [r.id for r in plain[:6]]


def test_rec_preferences_sharpen_and_weigh_the_classifiers():
    preferences = rec_preferences(
        {"articleType": {"Shirts": 0.6, "Tshirts": 0.4}, "baseColour": {"Red": 0.5, "Blue": 0.5}, "gender": {"Men": 1.0}}
    )
    assert preferences["articleType"]["Shirts"] == pytest.approx(0.36 / 0.52)  # squared, renormalised
    assert preferences["articleType"]["Tshirts"] == pytest.approx(0.16 / 0.52)
    assert preferences["baseColour"]["Red"] == pytest.approx(REC_WEIGHTS["baseColour"] * 0.5)
    assert preferences["gender"]["Men"] == pytest.approx(REC_OTHER_WEIGHT)
    rows = [{"articleType": "Tshirts", "baseColour": "Red"}, {"articleType": "Shirts", "baseColour": "Blue"},
            {"articleType": "Shirts", "baseColour": "Red", "gender": "Men"}, {"articleType": "Shirts", "baseColour": "Red"}]  # fmt: skip
    assert list(preference_order(row_preferences(rows, preferences))) == [2, 1, 3, 0]  # 1 and 3 tie: kept in order


def test_rec_results_are_the_translated_vectors_pool_ordered_by_the_classifiers(query_db):
    store = Store.open(query_db.path)
    for product_id in query_db.ids[:4]:
        doc = json.loads(run("similar", product_id, "-k", 8, "--db", query_db.path, "--json").stdout)
        preferences = stored_preferences(store, [product_id])
        assert preferences is not None and set(preferences) == set(ATTRIBUTE_COLUMNS)
        product = get_product(store, product_id, ["rec_vector", "image_vector"])
        pool = nearest(store, product["rec_vector"], "node_vector", REC_POOL, exclude=(product_id,),
                       tie_vector=product["image_vector"])  # fmt: skip
        order = preference_order(row_preferences([r.row for r in pool], preferences))
        assert [r["id"] for r in doc["results"]] == [pool[i].id for i in order[:8]]
        scores = row_preferences(doc["results"], preferences)
        assert all(a >= b - 1e-9 for a, b in zip(scores, scores[1:]))
    assert stored_preferences(store, [query_db.no_photo_id]) is None  # no photo: cosine order
