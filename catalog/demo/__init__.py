"""The built-in demo catalog: a `styles.csv` with the real schema and quirks, and drawn product photos.

The Fashion Product Images dataset cannot be shipped or downloaded here, so `catalog demo` and the
tests generate a stand-in. Its rows follow the real file: value distributions skewed the same way,
every articleType always under the same subCategory and masterCategory, and (with `quirks=True`)
the real file's defects on a few rows. Its images are Pillow drawings on a white background whose
SHAPE follows articleType and whose COLOUR follows baseColour, with seeded jitter, so that image
search and the attribute graph both have real structure to find.

Run `python -m catalog.demo OUT_DIR --count N` to look at one.
"""

from catalog.demo.drawing import COLOURS
from catalog.demo.run import DemoRun, demo_example, run_demo
from catalog.demo.tables import ARTICLE_TYPES, ID_RANGE
from catalog.demo.writer import (
    DemoCatalog,
    demo_styles,
    main,
    make_demo_catalog,
    render_product_image,
)

__all__ = [
    "ARTICLE_TYPES",
    "COLOURS",
    "ID_RANGE",
    "DemoCatalog",
    "DemoRun",
    "demo_example",
    "demo_styles",
    "main",
    "make_demo_catalog",
    "render_product_image",
    "run_demo",
]
