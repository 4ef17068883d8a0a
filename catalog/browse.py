"""Looking around a database: one product, the attribute values, and what the database is.

Plain reads of the committed state; no TensorFlow, no vector search.
"""

from __future__ import annotations

from importlib import metadata

from catalog.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS
from catalog.keys import attribute_key, sql_string, sql_strings
from catalog.search import get_product
from catalog.store import SCHEMA_VERSION, Store

# What `show` prints besides the display columns (vectors and thumbnail bytes are not for reading).
DETAIL_COLUMNS = ("has_image", "image_path", "node_source", "run", "encoder_id")
NODE_SOURCES = ("walks", "inferred")  # trained by node2vec, or placed incrementally


def product_details(store: Store, product_id: int) -> dict:
    """The product's row and, per attribute, how many products share that value (its degree)."""
    row = get_product(store, product_id, [*DISPLAY_COLUMNS, *DETAIL_COLUMNS])
    keys = [attribute_key(column, row[column]) for column in ATTRIBUTE_COLUMNS if row[column]]
    degrees = {}
    if keys:
        found = store.table("attributes").search().where(f"key IN ({sql_strings(keys)})").select(["column", "degree"]).limit(len(keys)).to_list()
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
