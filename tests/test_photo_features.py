"""Photo features: the colour histogram and silhouette the `attributes` linker reads beside the
image vector, measured on thumbnails made the way ingest makes them."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from catalog.core.photo_features import (
    COLOUR_LEVELS,
    FEATURE_DIM,
    SILHOUETTE_CELLS,
    features_of,
    photo_features,
    photo_features_of,
)
from catalog.core.photos import load_image

COLOUR_BINS = COLOUR_LEVELS**3


def _thumbnail(draw, size=(200, 300), background=(255, 255, 255)) -> bytes:
    """A photo drawn by `draw(ImageDraw)`, through `load_image` as ingest reads it: its thumbnail."""
    image = Image.new("RGB", size, background)
    draw(ImageDraw.Draw(image))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return load_image(buffer.getvalue(), size=32).thumbnail


def _bin(rgb) -> int:
    r, g, b = (c * COLOUR_LEVELS // 256 for c in rgb)
    return (r * COLOUR_LEVELS + g) * COLOUR_LEVELS + b


def test_colour_is_the_items_not_the_backgrounds():
    red_on_white = photo_features(_thumbnail(lambda d: d.rectangle((50, 80, 150, 220), fill=(200, 30, 40))))
    colours = red_on_white[:COLOUR_BINS]
    assert colours.argmax() == _bin((200, 30, 40))
    assert colours[_bin((255, 255, 255))] < 0.2  # the white ground is left out
    assert abs(float((colours**2).sum()) - 1.0) < 0.02  # square roots of shares that sum to 1 (to 1/255)


def test_silhouette_keeps_the_outline_and_the_aspect_ratio():
    tall = photo_features(_thumbnail(lambda d: d.rectangle((80, 20, 120, 280), fill=(30, 30, 90)), size=(200, 300)))
    wide = photo_features(_thumbnail(lambda d: d.rectangle((20, 80, 280, 120), fill=(30, 30, 90)), size=(300, 200)))
    tall_grid = tall[COLOUR_BINS:].reshape(SILHOUETTE_CELLS, SILHOUETTE_CELLS)
    wide_grid = wide[COLOUR_BINS:].reshape(SILHOUETTE_CELLS, SILHOUETTE_CELLS)
    middle = SILHOUETTE_CELLS // 2
    assert tall_grid[:, middle].sum() > 3 * tall_grid[middle, :].sum()  # a column of cells
    assert wide_grid[middle, :].sum() > 3 * wide_grid[:, middle].sum()  # a row of cells
    assert tall_grid[0, 0] == 0 and wide_grid[0, 0] == 0  # the corners are ground


def test_a_photo_the_item_fills_keeps_every_pixel():
    """A close-up of fabric: nothing differs from the border, so there is no ground to remove."""
    features = photo_features(_thumbnail(lambda d: None, size=(300, 300), background=(40, 145, 60)))
    assert features[COLOUR_BINS:].min() > 0.99  # the whole photo is "the item"
    assert features[:COLOUR_BINS].argmax() == _bin((40, 145, 60))


def test_missing_or_broken_thumbnails_give_zeros_and_rows_line_up():
    good = _thumbnail(lambda d: d.ellipse((40, 40, 160, 260), fill=(240, 205, 40)))
    rows = photo_features_of([good, None, b"not a jpeg", good])
    assert rows.shape == (4, FEATURE_DIM) and rows.dtype == np.float32
    assert not rows[1].any() and not rows[2].any()
    assert np.array_equal(rows[0], rows[3]) and rows[0].any()
    seen = []
    photo_features_of([good] * 2500, progress=seen.append)
    assert sum(seen) == 2500


def test_ingest_stores_the_features_and_an_older_table_gains_the_column(tmp_path, demo_catalog, fake_encoder):
    """Ingest writes each photo's features (uint8) beside its image vector, exactly what the thumbnail
    gives; a products table written before the column existed gains it (empty) on the next write."""
    from catalog.core.photo_features import COLUMN, from_stored, stored_features
    from catalog.store.database import Store
    from tests.conftest import FAST_INGEST, product_rows
    from tests.conftest import run_cli as run

    db = tmp_path / "db"
    run("ingest", "--csv", demo_catalog.csv_path, "--images", demo_catalog.images_dir, "--db", db, *FAST_INGEST)
    table = Store.open(db).table("products").to_arrow()
    stored = stored_features(table)
    has_image = table.column("has_image").to_numpy(zero_copy_only=False)
    assert stored[has_image].any(axis=1).all() and not stored[~has_image].any()
    assert table.column(COLUMN).null_count == int((~has_image).sum())
    rows = product_rows(db)
    thumbnails = [rows[i]["thumbnail"] for i in table.column("id").to_pylist()]
    for row in np.flatnonzero(has_image)[:5]:
        assert np.array_equal(from_stored(stored[row]), photo_features(thumbnails[row]))

    # A products table written before the column existed: the next writer adds it, empty, and
    # until a rebuild fills it the features are measured from the thumbnails.
    import lancedb

    from catalog.store.database import PRODUCTS_SCHEMA, migrate

    old = table.drop_columns([COLUMN])
    legacy = lancedb.connect(tmp_path / "legacy").create_table("products", old)
    migrate(legacy, PRODUCTS_SCHEMA)
    migrated = legacy.to_arrow()
    assert migrated.schema.field(COLUMN).type == PRODUCTS_SCHEMA.field(COLUMN).type
    assert migrated.column(COLUMN).null_count == migrated.num_rows and not stored_features(old).any()
    rows = np.flatnonzero(has_image)[:5]
    measured = features_of(stored_features(migrated)[rows], [thumbnails[r] for r in rows])
    assert np.array_equal(measured, from_stored(stored[rows]))
