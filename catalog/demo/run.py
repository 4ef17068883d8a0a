"""`catalog demo`: write the demo catalog, ingest it with `--weights random`, and run the first examples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalog.core.columns import IMAGE_SIZE
from catalog.demo.writer import EXAMPLE_IDS, DemoCatalog, make_demo_catalog


@dataclass
class DemoRun:
    """What `catalog demo` did: the files, the ingest, and the two example searches it shows."""

    made: DemoCatalog
    report: object  # ingest.pipeline.IngestReport
    example: int  # a topwear product with a photo, like the paper's 19549 sweatshirt
    db_flag: str  # " --db PATH" when the database is not the default, for the printed commands
    similar: object  # catalog.results.SearchResults of `similar EXAMPLE --space all`
    query: object  # catalog.results.SearchResults of `query --id EXAMPLE --plus green,shoes --minus topwear`


def run_demo(
    catalog,
    out_dir: Path,
    count: int = 600,
    seed: int = 0,
    image_size: int = IMAGE_SIZE,
    walks: int | None = None,
    reporter=None,
    on_catalog: Callable[[DemoCatalog], None] | None = None,
) -> DemoRun:
    """Generate the demo catalog in `out_dir`, ingest it into `catalog` (`--weights random`) and run the examples."""
    from catalog.store.database import default_db_path

    made = make_demo_catalog(out_dir, count=count, seed=seed, image_size=image_size)
    if on_catalog is not None:
        on_catalog(made)
    report = catalog.ingest(
        made.csv_path,
        made.images_dir,
        weights="random",
        seed=seed,
        image_size=image_size,
        walks=walks,
        reporter=reporter,
    )
    example = demo_example(catalog.store)
    db_flag = "" if catalog.path == default_db_path() else f" --db {catalog.path}"
    similar = catalog.similar(example, k=6, space="all")
    query = catalog.query(ids=[example], plus="green,shoes", minus="topwear", k=6)
    return DemoRun(made, report, example, db_flag, similar, query)


def demo_example(store) -> int:
    """The paper's 19549 sweatshirt (every demo catalog has it), else a topwear product with a photo."""
    rows = (
        store.table("products")
        .search()
        .where(f"id = {EXAMPLE_IDS[0]} AND has_image = true")
        .select(["id"])
        .limit(1)
        .to_list()
    )
    rows = (
        rows
        or store.table("products")
        .search()
        .where("subCategory = 'Topwear' AND has_image = true")
        .select(["id"])
        .limit(1)
        .to_list()
    )
    if not rows:
        rows = store.table("products").search().where("has_image = true").select(["id"]).limit(1).to_list()
    return int(rows[0]["id"])
