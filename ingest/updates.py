"""Catalog changes that are not an ingest: removing products and rolling back to an earlier run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from catalog.core.errors import CatalogError
from catalog.store.database import ATTRIBUTES_SCHEMA, KEEP_RUNS, Run, Store
from catalog.store.storage import DbLocation
from ingest.batches import Products
from ingest.pipeline import _inferred_share
from ingest.placement import attribute_degrees


def remove_products(db_path: Path | str | DbLocation, ids: list[int]) -> Run:
    """Delete the named products (all must exist) and update attribute degrees, as one run."""
    store = Store.open(db_path)
    with store.writer() as writer:
        previous = writer.previous
        state = Products.read(writer.products, writer.photos)  # never the thumbnails (ingest/batches.py)
        present = set(state.frame["id"].astype(int))
        unknown = sorted(set(ids) - present)
        if unknown:
            listed = ", ".join(map(str, unknown[:10])) + (" ..." if len(unknown) > 10 else "")
            raise CatalogError(f"no product with id {listed} in {store.path}; nothing removed")
        remaining = state.take(np.flatnonzero(~state.frame["id"].isin(ids).to_numpy()))
        writer.delete_products(sorted(set(ids)))
        attributes = writer.attributes.to_arrow().to_pandas()
        degrees = attribute_degrees(remaining.frame)
        attributes["degree"] = attributes["key"].map(degrees).fillna(0).astype("int64")
        attributes = attributes[attributes["degree"] > 0]
        writer.replace_attributes(pa.Table.from_pandas(attributes, schema=ATTRIBUTES_SCHEMA, preserve_index=False))
        writer.compact()
        summary = {
            "products": len(remaining.frame),
            "added": 0,
            "changed": 0,
            "removed": len(set(ids)),
            "mode": "remove",
            **_inferred_share(remaining),
        }
        return writer.commit(
            "remove",
            encoder=previous.encoder,
            node2vec=previous.node2vec,
            linker=previous.linker,
            metrics={},
            summary=summary,
        )


def rollback(db_path: Path | str | DbLocation, run_number: int) -> Run:
    """Bring products, attributes and models back to run `run_number`, as a new run."""
    store = Store.open(db_path)
    with store.writer() as writer:
        runs = {run.run: run for run in store.runs()}
        target = runs.get(run_number)
        if target is None:
            raise CatalogError(f"no run {run_number}; `catalog history` lists them (1..{max(runs)})")
        if run_number == writer.previous.run:
            raise CatalogError(f"run {run_number} is already the current state")
        current = writer.products.search().select(["id", "row_hash", "image_hash"]).to_arrow()
        try:
            writer.products.restore(target.products_version)
            writer.attributes.restore(target.attributes_version)
        except Exception:  # lance: "version not found" once cleaned up by the storage policy
            raise CatalogError(
                f"run {run_number} is older than the kept history (the newest {KEEP_RUNS} runs stay restorable)"
            ) from None
        restored = writer.products.search().select(["id", "row_hash", "image_hash", "node_source"]).to_arrow()
        summary = {
            **_diff(current, restored.select(["id", "row_hash", "image_hash"])),
            "mode": "rollback",
            "rolled_back_to": run_number,
            "products": restored.num_rows,
            **_inferred_share(restored.column("node_source").to_pandas()),
        }
        return writer.commit(
            "rollback",
            encoder=target.encoder,
            node2vec=target.node2vec,
            linker=target.linker,
            metrics={},
            summary=summary,
        )


def _diff(before: pa.Table, after: pa.Table) -> dict:
    old = {r["id"]: (r["row_hash"], r["image_hash"]) for r in before.to_pylist()}
    new = {r["id"]: (r["row_hash"], r["image_hash"]) for r in after.to_pylist()}
    return {
        "added": len(new.keys() - old.keys()),
        "removed": len(old.keys() - new.keys()),
        "changed": sum(old[i] != new[i] for i in old.keys() & new.keys()),
    }
