"""A second family of evaluation catalogs, for measuring on catalogs the defaults were not tuned on.

The ranking defaults (`catalog/core/ranking.py`) were chosen on the demo catalogs, whose structure
follows the real styles.csv: genders and usages depend on the articleType (t-shirts mostly for
men, sarees only for women, sports shoes for sports), colours and article types are skewed the
real file's way. A default that works only because of that structure would fail on a shop whose
catalog is built otherwise. These catalogs differ from the demo's on purpose:

- **genders** Men, Women and Unisex in equal shares and **usages** Casual, Formal, Sports and
  Ethnic in equal shares, each drawn independently of the article type and of everything else (so
  no photo says anything about them: only the catalog knows an item's gender);
- **article types**: every drawable demo type equally often (the demo: the real file's skew,
  t-shirts 16%);
- **colours**: four colours, Green the commonest and no Black (the demo: 24 colours, Black 19%);
- **seasons** and **years** uniform.

The photos are the demo's drawings (`catalog.demo.render_product_image`: the articleType's
silhouette in the colour), so the image space and the encoder are those of the demo; what differs
is the catalog's structure. No quirks (the reader is tested elsewhere).

    python -m benchmarks.heldout --count 600 --seed 0 --out h600s0/demo
    catalog ingest --csv h600s0/demo/styles.csv --images h600s0/demo/images --weights random --seed 0 --db h600s0/db

docs/quality.md, "Catalogs not used for tuning", reports `catalog eval` on them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.core.columns import DISPLAY_COLUMNS, IMAGE_SIZE
from catalog.demo.tables import ARTICLE_TYPES, ID_RANGE
from catalog.demo.writer import render_product_image

GENDERS = ("Men", "Women", "Unisex")
USAGES = ("Casual", "Formal", "Sports", "Ethnic")
COLOURS = {"Green": 0.35, "Blue": 0.25, "Red": 0.2, "White": 0.2}
SEASONS = ("Summer", "Fall", "Winter", "Spring")
YEARS = (2012, 2013, 2014, 2015, 2016, 2017)


def heldout_styles(count: int, seed: int = 0) -> pd.DataFrame:
    """`count` product rows: id, the 8 attribute columns and productDisplayName."""
    rng = np.random.default_rng((seed, 22))
    ids = rng.choice(np.arange(ID_RANGE[0], ID_RANGE[1] + 1), size=count, replace=False)
    types = list(ARTICLE_TYPES)
    colours, shares = list(COLOURS), np.array(list(COLOURS.values()))
    rows = []
    for product_id in ids:
        article = types[int(rng.integers(len(types)))]
        kind = ARTICLE_TYPES[article]
        gender = GENDERS[int(rng.integers(len(GENDERS)))]
        colour = colours[int(rng.choice(len(colours), p=shares / shares.sum()))]
        usage = USAGES[int(rng.integers(len(USAGES)))]
        season = SEASONS[int(rng.integers(len(SEASONS)))]
        year = YEARS[int(rng.integers(len(YEARS)))]
        name = " ".join((kind.brands[int(rng.integers(len(kind.brands)))], gender, colour, kind.noun))
        rows.append((int(product_id), gender, kind.master, kind.sub, article, colour, season, year, usage, name))
    return pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS)).astype({"id": "int64", "year": "int64"})


def make_heldout_catalog(out_dir: Path, count: int, seed: int = 0, image_size: int = IMAGE_SIZE) -> Path:
    """Write `out_dir/styles.csv` and `out_dir/images/{id}.jpg`; returns the CSV's path."""
    out_dir = Path(out_dir)
    images = out_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    styles = heldout_styles(count, seed)
    styles.to_csv(out_dir / "styles.csv", index=False)
    for row in styles.itertuples(index=False):
        photo = render_product_image(row.articleType, row.baseColour, image_size, seed=(seed, row.id))
        photo.save(images / f"{row.id}.jpg", "JPEG", quality=90)
    return out_dir / "styles.csv"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heldout", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=IMAGE_SIZE)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    csv_path = make_heldout_catalog(args.out, args.count, args.seed, args.image_size)
    print(f"{args.count} products: {csv_path} and {args.out / 'images'}/")


if __name__ == "__main__":
    main()
