"""The store's commit log: readers see committed runs only; writers recover and migrate."""

from __future__ import annotations

import lancedb
import pyarrow as pa

from catalog.store.database import PRODUCTS_SCHEMA, Store, migrate


def _commit(writer, kind="ingest"):
    return writer.commit(kind, encoder={}, node2vec={}, linker={}, metrics={}, summary={})


def test_readers_see_only_committed_writes(tmp_path):
    store = Store(tmp_path / "db")
    rows = PRODUCTS_SCHEMA.empty_table()
    with store.writer() as writer:
        _commit(writer)
    committed = Store.open(tmp_path / "db").table("products").version
    # an uncommitted write (a writer that died before its run record) stays invisible...
    raw = lancedb.connect(str(tmp_path / "db")).open_table("products")
    raw.add(pa.Table.from_pylist([{name: None for name in rows.schema.names} | {"id": 7}], schema=PRODUCTS_SCHEMA))
    reader = Store.open(tmp_path / "db")
    assert reader.table("products").count_rows() == 0 and reader.table("products").version == committed
    # ...and the next writer restores the committed state before writing
    with store.writer() as writer:
        assert writer.products.count_rows() == 0
        _commit(writer)
    assert [r.run for r in Store.open(tmp_path / "db").runs()] == [1, 2]


def test_migrate_adds_columns_an_older_catalog_lacked(tmp_path):
    old_schema = pa.schema([f for f in PRODUCTS_SCHEMA if f.name != "image_stat"])
    table = lancedb.connect(str(tmp_path)).create_table("products", schema=old_schema)
    table.add(pa.Table.from_pylist([{name: None for name in old_schema.names} | {"id": 1}], schema=old_schema))
    migrate(table, PRODUCTS_SCHEMA)
    assert "image_stat" in table.schema.names
    assert table.to_arrow().column("image_stat").to_pylist() == [""]
