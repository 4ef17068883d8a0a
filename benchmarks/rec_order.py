"""What ordering Rec by the classifiers costs a `similar` call, against plain cosine order.

    python -m benchmarks.rec_order --db d3000/db --queries 200 --json

Times `Catalog.similar(id, k=10, space="rec")` for `--queries` products with photos, on LanceDB
(`Catalog(db)`) and on the in-memory snapshot `catalog serve` uses (`Catalog(db, memory=True)`),
each in two modes run alternately on the same warm handles: the default (the translated vector's
100 nearest products ordered by the linker's classifiers, which reads the product's thumbnail
and computes its photo features) and plain cosine order (the preferences switched off, 10 rows
read). Prints p50 / p95 milliseconds per mode and the ratio of the p50s.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager

import numpy as np


@contextmanager
def cosine_order():
    """Rec without the classifiers' order: no preferences, so `nearest` reads k rows."""
    from catalog.query import search, snapshot

    saved = search.photo_preferences, snapshot.Snapshot.preferences
    search.photo_preferences = lambda *args, **kwargs: None
    snapshot.Snapshot.preferences = lambda *args, **kwargs: None
    try:
        yield
    finally:
        search.photo_preferences, snapshot.Snapshot.preferences = saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from catalog import Catalog

    lance, memory = Catalog(args.db), Catalog(args.db, memory=True)
    table = lance.store.table("products").search().where("has_image = true").select(["id"]).limit(10**9).to_arrow()
    ids = np.random.default_rng(0).permutation(table.column("id").to_numpy())[: args.queries]
    timings: dict[str, list[float]] = {}
    for handle in (lance, memory):  # warm: indexes, the snapshot, the linker
        handle.similar(int(ids[0]), k=10)
    for product_id in ids:
        for store_name, handle in (("lancedb", lance), ("memory", memory)):
            for mode in ("classifiers' order (default)", "cosine order"):
                started = time.perf_counter()
                if mode == "cosine order":
                    with cosine_order():
                        handle.similar(int(product_id), k=10)
                else:
                    handle.similar(int(product_id), k=10)
                timings.setdefault(f"{store_name}: {mode}", []).append((time.perf_counter() - started) * 1000)
    document: dict = {"db": args.db, "queries": len(ids), "ms": {}}
    for name, values in timings.items():
        document["ms"][name] = {
            "p50": round(float(np.median(values)), 2),
            "p95": round(float(np.percentile(values, 95)), 2),
        }
    for store_name in ("lancedb", "memory"):
        default = document["ms"][f"{store_name}: classifiers' order (default)"]["p50"]
        document[f"{store_name}_ratio_p50"] = round(default / document["ms"][f"{store_name}: cosine order"]["p50"], 2)
    print(json.dumps(document) if args.json else json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
