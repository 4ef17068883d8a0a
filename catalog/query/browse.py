"""Looking around a database: one product, the attribute values, and what the database is.

Plain reads of the committed state; no TensorFlow, no vector search.
"""

from __future__ import annotations

import re
from importlib import metadata

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS, NAME_COLUMN
from catalog.core.errors import CatalogError
from catalog.core.keys import attribute_key, sql_ids, sql_string, sql_strings
from catalog.core.ranking import RankingSettings
from catalog.query.search import get_product
from catalog.store.database import SCHEMA_VERSION, Store

# What `show` prints besides the display columns (vectors and thumbnail bytes are not for reading).
DETAIL_COLUMNS = ("has_image", "image_path", "node_source", "run", "encoder_id")
NODE_SOURCES = ("walks", "inferred")  # trained by node2vec, or placed incrementally


def product_details(store: Store, product_id: int) -> dict:
    """The product's row and, per attribute, how many products share that value (its degree)."""
    row = get_product(store, product_id, [*DISPLAY_COLUMNS, *DETAIL_COLUMNS])
    keys = [attribute_key(column, row[column]) for column in ATTRIBUTE_COLUMNS if row[column]]
    degrees = {}
    if keys:
        found = (
            store.table("attributes")
            .search()
            .where(f"key IN ({sql_strings(keys)})")
            .select(["column", "degree"])
            .limit(len(keys))
            .to_list()
        )
        degrees = {r["column"]: int(r["degree"]) for r in found}
    return {**row, "shared_with": degrees}


def attribute_counts(store: Store, column: str | None = None) -> list[dict]:
    """Attribute values with their product counts, by column (schema order), most common first."""
    table = store.table("attributes").to_arrow().select(["column", "value", "degree"]).to_pylist()
    if column is not None:
        table = [r for r in table if r["column"] == column]
    order = {c: i for i, c in enumerate(ATTRIBUTE_COLUMNS)}
    table.sort(key=lambda r: (order.get(r["column"], len(order)), -r["degree"], r["value"]))
    return [{"column": r["column"], "value": r["value"], "products": int(r["degree"])} for r in table]


def catalog_info(store: Store) -> dict:
    """Counts, models, parameters, metrics, versions and disk use of the committed state."""
    run = store.run
    products = store.table("products")
    return {
        "database": str(store.path),
        "run": {"run": run.run, "kind": run.kind, "created_at": run.created_at, "runs": len(store.runs())},
        "products": products.count_rows(),
        "with_image": products.count_rows("has_image = true"),
        "attribute_values": store.table("attributes").count_rows(),
        # counted by filter: reading the column would read every row's vectors and thumbnail too
        "node_source": {source: products.count_rows(f"node_source = {sql_string(source)}") for source in NODE_SOURCES},
        "encoder": run.encoder,
        "node2vec": run.node2vec,
        "linker": run.linker,
        # What ranks results (Rec's weights, the pools, the band, the linker's column weights): the
        # run's record, or the defaults it was ranked with when written before they were recorded.
        "ranking": RankingSettings.from_dict((run.linker or {}).get("ranking")).to_dict(),
        "metrics": run.metrics,
        "summary": run.summary,
        "versions": {
            "catalog": _version("catalog"),
            "schema": SCHEMA_VERSION,
            "products_table": run.products_version,
            "attributes_table": run.attributes_version,
            "lancedb": _version("lancedb"),
            "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
            "keras": _version("keras"),
            "gensim": _version("gensim"),
        },
        "disk_bytes": store.storage.total_bytes(),
    }


def _version(package: str) -> str | None:
    """The installed version, read from package metadata (importing TensorFlow would cost seconds)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def browse_products(store: Store, text: str = "", filters: dict[str, str] | None = None, page: int = 1,
                    per_page: int = 24):
    """`Snapshot.browse` through LanceDB (for a reader without the in-memory copy): the same
    products in the same order, reading only the ids of the matches and the rows of one page."""
    from catalog.results import ProductPage

    if per_page < 1 or page < 1:
        raise CatalogError("page and per_page start at 1")
    clauses = [f"{column} = {sql_string(value)}" for column, value in (filters or {}).items()]
    table = store.table("products")
    words = text.split()
    if len(words) == 1 and re.fullmatch(r"\d{1,18}", words[0]):
        by_id = " AND ".join([*clauses, f"id = {int(words[0])}"])
        if table.count_rows(by_id):  # an id search finds that product; otherwise the digits are a name word
            clauses.append(f"id = {int(words[0])}")
            words = []
    clauses += [f"strpos(lower({NAME_COLUMN}), {sql_string(word.lower())}) > 0" for word in words]
    query = table.search().select(["id"]).limit(None)
    if clauses:
        query = query.where(" AND ".join(clauses))
    ids = np.sort(query.to_arrow().column("id").to_numpy())
    chosen = ids[(page - 1) * per_page:page * per_page]
    rows = []
    if len(chosen):
        found = table.search().where(f"id IN ({sql_ids(chosen)})").select(list(DISPLAY_COLUMNS))
        by_id = {row["id"]: row for row in found.limit(len(chosen)).to_list()}
        rows = [{c: by_id[int(i)][c] for c in DISPLAY_COLUMNS} for i in chosen]
    return ProductPage(rows, int(len(ids)), page, per_page)
