"""The built-in demo catalog: real schema and skew, the real file's quirks, drawings that carry the attributes."""

import csv
import hashlib

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from catalog.core.columns import DISPLAY_COLUMNS
from catalog.core.errors import CatalogError
from catalog.demo import (
    ARTICLE_TYPES,
    COLOURS,
    ID_RANGE,
    DemoCatalog,
    demo_styles,
    main,
    make_demo_catalog,
    render_product_image,
)

HEADER = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> DemoCatalog:
    return make_demo_catalog(tmp_path_factory.mktemp("demo"), count=300, seed=3)


def raw_rows(demo: DemoCatalog) -> list[list[str]]:
    with demo.csv_path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def non_white(image: Image.Image) -> np.ndarray:
    return (np.asarray(image.convert("RGB"), dtype=int) < 225).any(axis=2)


def tree_hash(demo: DemoCatalog) -> str:
    digest = hashlib.sha256(demo.csv_path.read_bytes())
    for path in sorted(demo.images_dir.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_header_is_the_real_schema_in_order(demo):
    assert demo.csv_path.read_text(encoding="utf-8").splitlines()[0] == HEADER
    assert list(demo_styles(5)) == HEADER.split(",") == list(DISPLAY_COLUMNS)


def test_row_count_and_ids(demo):
    rows = raw_rows(demo)[1:]
    assert len(rows) == demo.count == 300
    ids = [int(r[0]) for r in rows]
    assert len(set(ids)) == len(ids)
    assert all(ID_RANGE[0] <= i <= ID_RANGE[1] for i in ids)
    assert max(ids) - min(ids) + 1 > len(ids)  # not a contiguous block


def test_distributions_are_skewed_like_the_real_file():
    styles = demo_styles(4000, seed=1)
    share = {c: styles[c].value_counts(normalize=True) for c in styles.columns[1:-1]}
    assert 0.45 < share["gender"]["Men"] < 0.58 and 0.35 < share["gender"]["Women"] < 0.48
    assert list(share["gender"].index[:2]) == ["Men", "Women"]
    assert set(share["gender"].index) == {"Men", "Women", "Unisex", "Boys", "Girls"}
    assert share["masterCategory"].index[0] == "Apparel"
    assert set(share["masterCategory"].index) == {"Apparel", "Accessories", "Footwear", "Personal Care"}
    assert share["articleType"].index[0] == "Tshirts"
    assert share["baseColour"].index[0] == "Black" and styles["baseColour"].nunique() >= 20
    assert share["season"].index[0] == "Summer"
    assert set(share["year"].index[:2]) == {2011, 2012} and styles["year"].between(2010, 2017).all()
    assert share["usage"].index[0] == "Casual" and share["usage"]["Casual"] > 0.6
    assert {"Sports", "Formal", "Ethnic", "Party"} <= set(share["usage"].index)


def test_nesting_is_consistent_and_keeps_shared_names():
    styles = demo_styles(3000, seed=2)
    per_type = styles.groupby("articleType")[["subCategory", "masterCategory"]].nunique()
    assert (per_type == 1).all().all()
    assert (styles.groupby("subCategory")["masterCategory"].nunique() == 1).all()
    for shared in ("Watches", "Belts", "Socks", "Ties"):
        assert (styles.loc[styles["articleType"] == shared, "subCategory"] == shared).all()
    topwear = set(styles.loc[styles["subCategory"] == "Topwear", "articleType"])
    assert {"Tshirts", "Shirts", "Kurtas", "Tops"} <= topwear and "Jeans" not in topwear
    assert set(styles.loc[styles["articleType"] == "Heels", "gender"]) == {"Women"}


def test_names_read_like_product_names():
    styles = demo_styles(200, seed=4)
    for row in styles.itertuples():
        assert f" {row.gender} {row.baseColour} " in row.productDisplayName
        assert "," not in row.productDisplayName


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    first = make_demo_catalog(tmp_path / "a", count=40, seed=7, image_size=64)
    again = make_demo_catalog(tmp_path / "b", count=40, seed=7, image_size=64)
    other = make_demo_catalog(tmp_path / "c", count=40, seed=8, image_size=64)
    assert tree_hash(first) == tree_hash(again) != tree_hash(other)
    pd.testing.assert_frame_equal(demo_styles(50, 5), demo_styles(50, 5))


def test_comma_quirk_rows_have_more_fields_than_the_header(demo):
    rows = raw_rows(demo)
    long_rows = [r for r in rows[1:] if len(r) > len(rows[0])]
    assert len(long_rows) == 2
    assert {int(r[0]) for r in long_rows} == set(demo.comma_name_ids)
    assert {len(r) for r in long_rows} == {11, 12}
    for r in long_rows:
        name = ",".join(r[9:])  # what a reader recovers by joining the surplus fields
        assert name.startswith(r[9]) and ", " in name and r[5] in name
    with pytest.raises(pd.errors.ParserError, match="Expected 10 fields"):
        pd.read_csv(demo.csv_path)


def test_other_quirks_are_present(demo):
    rows = [r for r in raw_rows(demo)[1:] if len(r) == 10]
    column = {name: i for i, name in enumerate(DISPLAY_COLUMNS)}
    assert sum(r[column["year"]].endswith(".0") for r in rows) >= 3
    assert sum(r[column["usage"]] == "NA" for r in rows) >= 2
    for name in ("baseColour", "season", "usage", "productDisplayName", "year"):
        assert sum(r[column[name]] == "" for r in rows) >= 1, name


def test_without_quirks_pandas_reads_it_plainly(tmp_path):
    demo = make_demo_catalog(tmp_path, count=80, seed=3, image_size=48, quirks=False)
    styles = pd.read_csv(demo.csv_path)
    assert len(styles) == 80 and styles.notna().all().all() and styles["year"].dtype == np.int64
    assert demo.missing_image_ids == demo.comma_name_ids == ()
    assert len(list(demo.images_dir.glob("*.jpg"))) == 80


def test_images_exist_for_all_but_the_missing_ones(demo):
    ids = {int(r[0]) for r in raw_rows(demo)[1:]}
    on_disk = {int(p.stem) for p in demo.images_dir.glob("*.jpg")}
    assert len(demo.missing_image_ids) == 2
    assert on_disk == ids - set(demo.missing_image_ids)


def test_images_decode_as_rgb_of_the_right_size(demo, tmp_path):
    for path in sorted(demo.images_dir.glob("*.jpg"))[:25]:
        with Image.open(path) as image:
            assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (256, 256))
    small = make_demo_catalog(tmp_path, count=3, seed=0, image_size=96, quirks=False)
    for path in small.images_dir.glob("*.jpg"):
        with Image.open(path) as image:
            assert image.size == (96, 96)
            corner = np.asarray(image)[:4, :4]
            assert corner.min() > 240  # white background like the real product photos


@pytest.mark.parametrize("colour", ["Red", "Blue", "Green"])
def test_colour_follows_base_colour_for_every_article_type(colour):
    # Compared by direction (cosine), not distance: dark lenses or shadows keep the hue, not the brightness.
    references = {name: np.array(COLOURS[name]) / np.linalg.norm(COLOURS[name]) for name in ("Red", "Blue", "Green")}
    for article in ARTICLE_TYPES:
        image = render_product_image(article, colour, size=96, seed=11)
        mean = np.asarray(image, dtype=float)[non_white(image)].mean(axis=0)
        nearest = max(references, key=lambda name: mean @ references[name])
        assert nearest == colour, (article, mean)


def test_colour_in_the_catalog_follows_the_csv(demo):
    styles = demo_styles(demo.count, seed=3)  # the clean values behind the written file
    red = styles[(styles["baseColour"] == "Red") & ~styles["id"].isin(demo.missing_image_ids)]
    assert len(red) >= 5
    for product_id in red["id"]:
        with Image.open(demo.images_dir / f"{product_id}.jpg") as image:
            r, g, b = np.asarray(image, dtype=float)[non_white(image)].mean(axis=0)
        assert r > g + 40 and r > b + 40


def test_shape_follows_article_type():
    size = 64

    def mask(article, seed):
        return non_white(render_product_image(article, "Black", size=size, seed=seed))

    watch, tshirt = mask("Watches", 0), mask("Tshirts", 0)
    assert (watch & tshirt).sum() / (watch | tshirt).sum() < 0.4
    # The nearest mean silhouette recognises the articleType of unseen drawings in other colours
    # (chance is 1 in 29); what it confuses are look-alikes such as Jeans and Trousers.
    types = list(ARTICLE_TYPES)
    centroids = np.stack([np.mean([mask(t, s) for s in range(4)], axis=0).ravel() for t in types])
    same_type = same_master = 0
    for t in types:
        for seed, colour in ((100, "Red"), (101, "Beige")):
            m = non_white(render_product_image(t, colour, size=size, seed=seed)).ravel()
            guess = types[int(np.argmin(((centroids - m) ** 2).sum(axis=1)))]
            same_type += guess == t
            same_master += ARTICLE_TYPES[guess].master == ARTICLE_TYPES[t].master
    assert same_type / (2 * len(types)) >= 0.75
    assert same_master / (2 * len(types)) >= 0.9


def test_same_type_and_colour_are_similar_not_identical():
    a = np.asarray(render_product_image("Shirts", "Navy Blue", size=64, seed=1), dtype=int)
    b = np.asarray(render_product_image("Shirts", "Navy Blue", size=64, seed=2), dtype=int)
    assert not np.array_equal(a, b)
    ma, mb = (a < 225).any(axis=2), (b < 225).any(axis=2)
    assert (ma & mb).sum() / (ma | mb).sum() > 0.6


def test_progress_counts_written_images(tmp_path):
    calls = []
    demo = make_demo_catalog(tmp_path, count=30, seed=1, image_size=32, progress=calls.append)
    assert sum(calls) == 30 - len(demo.missing_image_ids) == 28


def test_tiny_catalog_applies_as_many_quirks_as_it_has_rows(tmp_path):
    demo = make_demo_catalog(tmp_path, count=3, seed=0, image_size=32)
    assert len(demo.missing_image_ids) == 2 and len(demo.comma_name_ids) == 1
    assert len(raw_rows(demo)) == 4


def test_bad_arguments_are_catalog_errors(tmp_path):
    with pytest.raises(CatalogError, match="between 1 and"):
        make_demo_catalog(tmp_path, count=0)
    with pytest.raises(CatalogError, match="between 1 and"):
        demo_styles(ID_RANGE[1])
    with pytest.raises(CatalogError, match="image size"):
        make_demo_catalog(tmp_path, count=5, image_size=8)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CatalogError, match="not a folder"):
        make_demo_catalog(tmp_path / "file", count=5)
    with pytest.raises(CatalogError, match="articleType"):
        render_product_image("Spaceships", "Red")


def test_module_entry_point_writes_a_catalog(tmp_path, capsys):
    main([str(tmp_path / "out"), "--count", "12", "--seed", "2", "--image-size", "40"])
    assert "12 products" in capsys.readouterr().out
    assert len(list((tmp_path / "out" / "images").glob("*.jpg"))) == 10
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "bad"), "--count", "0"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith("Error: ")
