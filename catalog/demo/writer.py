"""Writing a demo catalog: seeded rows, the real file's quirks, `styles.csv` and `images/{id}.jpg`.

Run `python -m catalog.demo OUT_DIR --count N` to look at one.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from catalog.core.columns import DISPLAY_COLUMNS, IMAGE_SIZE
from catalog.core.errors import CatalogError
from catalog.demo.drawing import COLOURS, Canvas, palette
from catalog.demo.tables import (
    ARTICLE_TYPES,
    COLOUR_WEIGHTS,
    ID_RANGE,
    SEASON_WEIGHTS,
    YEAR_WEIGHTS,
)


class _Choice:
    """Seeded weighted draws from a value table (a cumulative table: numpy's `choice` is ~10x slower per draw)."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        cumulative = np.cumsum(np.asarray(list(weights.values()), dtype=float))
        self._cumulative = cumulative / cumulative[-1]

    def __call__(self, rng: np.random.Generator):
        index = int(np.searchsorted(self._cumulative, rng.random(), side="right"))
        return self.values[min(index, len(self.values) - 1)]


_TYPE_CHOICE = _Choice({name: t.weight for name, t in ARTICLE_TYPES.items()})
_COLOUR_CHOICE = _Choice(COLOUR_WEIGHTS)
_SEASON_CHOICE = _Choice(SEASON_WEIGHTS)
_YEAR_CHOICE = _Choice(YEAR_WEIGHTS)
_PER_TYPE = {
    name: {
        "gender": _Choice(t.genders),
        "usage": _Choice(t.usages),
        "colour": _Choice(t.colours) if t.colours else _COLOUR_CHOICE,
        "season": _Choice(t.seasons) if t.seasons else _SEASON_CHOICE,
        "brand": _Choice(dict.fromkeys(t.brands, 1)),
        "descriptor": _Choice(dict.fromkeys(t.descriptors, 1)),
    }
    for name, t in ARTICLE_TYPES.items()
}


def _check_count(count: int) -> None:
    capacity = ID_RANGE[1] - ID_RANGE[0] + 1
    if not 1 <= count <= capacity:
        raise CatalogError(f"demo catalog size must be between 1 and {capacity}, got {count}")


def demo_styles(count: int, seed: int = 0) -> pd.DataFrame:
    """`count` clean product rows: id, the 8 attribute columns and productDisplayName, as in the real file.

    From MIN_COUNT_WITH_EXAMPLES rows on, the last rows are the EXAMPLE_ROWS products the README's
    examples use.
    """
    _check_count(count)
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(ID_RANGE[0], ID_RANGE[1] + 1), size=count, replace=False)
    rows = []
    for product_id in ids:
        article = _TYPE_CHOICE(rng)
        kind, draw = ARTICLE_TYPES[article], _PER_TYPE[article]
        gender, colour = draw["gender"](rng), draw["colour"](rng)
        name = " ".join((draw["brand"](rng), gender, colour, draw["descriptor"](rng), kind.noun))
        rows.append(
            (
                int(product_id),
                gender,
                kind.master,
                kind.sub,
                article,
                colour,
                draw["season"](rng),
                _YEAR_CHOICE(rng),
                draw["usage"](rng),
                name,
            )
        )
    styles = pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS))
    styles = styles.astype({"id": "int64", "year": "int64"})
    return _with_examples(styles) if count >= MIN_COUNT_WITH_EXAMPLES else styles


def render_product_image(
    article_type: str, colour: str, size: int = IMAGE_SIZE, seed: int | tuple[int, ...] = 0
) -> Image.Image:
    """A product photo stand-in: the articleType's silhouette in the colour, jittered by `seed`."""
    if article_type not in ARTICLE_TYPES:
        raise CatalogError(f"no demo drawing for articleType {article_type!r}")
    if colour not in COLOURS:
        raise CatalogError(f"no demo colour {colour!r}")
    rng = np.random.default_rng(seed)
    canvas = Canvas(size, rng, palette(colour, rng))
    ARTICLE_TYPES[article_type].draw(canvas, rng)
    # Slight sensor noise, so no two photos (and no two JPEG encodings) are identical.
    pixels = np.asarray(canvas.image, dtype=np.int16) + rng.integers(-3, 4, size=(size, size, 3), dtype=np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


@dataclass(frozen=True)
class DemoCatalog:
    """Where a generated catalog lives; the quirk ids let tests check the reader's reports."""

    csv_path: Path
    images_dir: Path
    count: int  # rows in styles.csv
    missing_image_ids: tuple[int, ...] = ()  # rows whose image file was deliberately not written
    comma_name_ids: tuple[int, ...] = ()  # rows whose productDisplayName has unquoted commas
    photo_path: Path | None = None  # a photo of a product that is not in the catalog (shirt.jpg)
    new_products_csv: Path | None = None  # rows of products not in styles.csv yet (their photos in new-images/)


# Products every demo catalog holds, with photos and clean rows, so the README's examples (and a
# new user copying them) find them: the paper's 19549 sweatshirt, and two more to remove or mix.
EXAMPLE_ROWS = (
    (
        19549,
        "Men",
        "Apparel",
        "Topwear",
        "Sweatshirts",
        "Navy Blue",
        "Fall",
        2012,
        "Casual",
        "Puma Men Navy Blue Sweatshirt",
    ),
    (
        1855,
        "Men",
        "Apparel",
        "Topwear",
        "Tshirts",
        "Grey",
        "Summer",
        2011,
        "Casual",
        "Inkfruit Men Grey Chain Reaction T-shirt",
    ),
    (41599, "Women", "Footwear", "Shoes", "Heels", "Green", "Summer", 2012, "Casual", "Catwalk Women Green Heels"),
)
EXAMPLE_IDS = tuple(row[0] for row in EXAMPLE_ROWS)
MIN_COUNT_WITH_EXAMPLES = 10  # a smaller catalog keeps its rows for the quirks
NEW_PRODUCTS = 5  # rows in new-products.csv


def _csv_fields(styles: pd.DataFrame) -> list[list[str]]:
    return [[str(v) for v in row] for row in styles.itertuples(index=False)]


def _with_examples(styles: pd.DataFrame) -> pd.DataFrame:
    """The last rows replaced by EXAMPLE_ROWS; a drawn row that had an example's id gets another id."""
    styles = styles.copy()
    keep = len(styles) - len(EXAMPLE_ROWS)
    taken = set(styles["id"].iloc[:keep].tolist()) | set(EXAMPLE_IDS)
    for index in range(keep):
        if styles.at[index, "id"] in EXAMPLE_IDS:
            styles.at[index, "id"] = next(i for i in range(ID_RANGE[1], ID_RANGE[0], -1) if i not in taken)
            taken.add(styles.at[index, "id"])
    examples = pd.DataFrame(list(EXAMPLE_ROWS), columns=list(DISPLAY_COLUMNS)).astype(styles.dtypes.to_dict())
    return pd.concat([styles.iloc[:keep], examples], ignore_index=True)


def _apply_quirks(
    fields: list[list[str]], styles: pd.DataFrame, rng: np.random.Generator, protected: frozenset[int] = frozenset()
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Reproduce the real styles.csv's defects on distinct random rows (as many as the catalog has rows for).

    Rows at `protected` indices stay clean. Returns the ids of rows without an image and of rows
    with unquoted commas in their name.
    """
    column = {name: i for i, name in enumerate(DISPLAY_COLUMNS)}
    count = len(fields)
    order = iter(i for i in rng.permutation(count) if int(i) not in protected)
    missing, commas = [], []

    def take(n: int):
        for _ in range(n):
            index = next(order, None)
            if index is None:
                return
            yield index

    for i in take(2):
        missing.append(int(styles.iat[i, 0]))
    for extra, i in enumerate(take(2), start=1):
        # "Puma Men Black, Grey Running Sports Shoes": joining the surplus fields with "," restores the name.
        colour = styles.at[i, "baseColour"]
        others = [c for c in ("White", "Grey", "Red", "Blue") if c != colour][:extra]
        name = styles.at[i, "productDisplayName"]
        fields[i][column["productDisplayName"]] = name.replace(f" {colour} ", f" {', '.join([colour, *others])} ", 1)
        commas.append(int(styles.at[i, "id"]))
    for i in take(max(3, count // 100)):
        fields[i][column["year"]] += ".0"
    for i in take(max(2, count // 300)):
        fields[i][column["usage"]] = "NA"
    for name in ("baseColour", "season", "usage", "productDisplayName", "year"):
        for i in take(1):
            fields[i][column[name]] = ""
    return tuple(missing), tuple(commas)


def make_demo_catalog(
    out_dir: Path,
    count: int = 600,
    seed: int = 0,
    image_size: int = IMAGE_SIZE,
    quirks: bool = True,
    progress: Callable[[int], None] | None = None,
) -> DemoCatalog:
    """Write `out_dir/styles.csv` and `out_dir/images/{id}.jpg` for `count` demo products.

    Same seed, same bytes. The catalog holds the EXAMPLE_ROWS products (19549, 1855, 41599) with
    photos. With `quirks`, a few rows carry the real file's defects (unquoted commas in names,
    `2011.0` years, empty cells, usage `NA`) and 2 rows have no image file. Beside them, for the
    README's examples: `shirt.jpg`, a photo of a product not in the catalog, and
    `new-products.csv`, NEW_PRODUCTS rows not in styles.csv (their photos in `new-images/`).
    `progress` is called with 1 after each catalog image is written.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise CatalogError(f"{out_dir} exists and is not a folder")
    if image_size < 32:
        raise CatalogError(f"demo image size must be at least 32 pixels, got {image_size}")
    styles = demo_styles(count, seed)
    fields = _csv_fields(styles)
    protected = frozenset(np.flatnonzero(styles["id"].isin(EXAMPLE_IDS).to_numpy()).tolist())
    missing, commas = _apply_quirks(fields, styles, np.random.default_rng((seed, 1)), protected) if quirks else ((), ())

    images_dir = out_dir / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "styles.csv"
    # Written by hand, not with the csv module: the quirk rows must NOT be quoted.
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(DISPLAY_COLUMNS) + "\n")
        out.writelines(",".join(row) + "\n" for row in fields)

    for row in styles.itertuples(index=False):
        path = images_dir / f"{row.id}.jpg"
        if row.id in missing:
            path.unlink(missing_ok=True)  # a stale file from an earlier run would hide the quirk
            continue
        # Seeded per product, so an image does not depend on which other rows were generated.
        image = render_product_image(row.articleType, row.baseColour, image_size, seed=(seed, row.id))
        image.save(path, "JPEG", quality=90)
        if progress is not None:
            progress(1)
    photo_path, new_csv = _write_extras(out_dir, styles, seed, image_size)
    return DemoCatalog(csv_path, images_dir, count, missing, commas, photo_path, new_csv)


def _write_extras(out_dir: Path, styles: pd.DataFrame, seed: int, image_size: int) -> tuple[Path, Path]:
    """shirt.jpg (not a catalog product) and new-products.csv with new-images/ (rows to add later), for the README."""
    photo_path = out_dir / "shirt.jpg"
    render_product_image("Shirts", "Blue", image_size, seed=(seed, 2)).save(photo_path, "JPEG", quality=90)
    taken = set(styles["id"].tolist())
    new = demo_styles(NEW_PRODUCTS + len(taken), seed + 1)
    new = new[~new["id"].isin(taken)].head(NEW_PRODUCTS).reset_index(drop=True)
    new_images = out_dir / "new-images"
    new_images.mkdir(exist_ok=True)
    for row in new.itertuples(index=False):
        image = render_product_image(row.articleType, row.baseColour, image_size, seed=(seed, row.id))
        image.save(new_images / f"{row.id}.jpg", "JPEG", quality=90)
    new_csv = out_dir / "new-products.csv"
    new.to_csv(new_csv, index=False)
    return photo_path, new_csv


def main(argv: list[str] | None = None) -> None:
    """`python -m catalog.demo OUT_DIR --count N`: write a demo catalog to look at."""
    parser = argparse.ArgumentParser(prog="python -m catalog.demo", description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=IMAGE_SIZE)
    parser.add_argument("--no-quirks", dest="quirks", action="store_false")
    args = parser.parse_args(argv)
    try:
        demo = make_demo_catalog(args.out_dir, args.count, args.seed, args.image_size, args.quirks)
    except CatalogError as error:
        parser.exit(1, f"Error: {error}\n")
    print(f"{demo.count} products: {demo.csv_path} and {demo.images_dir}/")


if __name__ == "__main__":
    main()
