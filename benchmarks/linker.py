"""What reading the photo features costs the `attributes` linker: training side by side.

    python -m benchmarks.linker --db d3000/db --rows 40000 --json

Reads a database's products with photos (image vectors, thumbnails, attribute values, node
vectors), repeats them to `--rows` training photos (the full catalog has ~40,000; a demo database
holds fewer, and repeating keeps the classes as they are), then trains the `attributes` linker
twice in this process, with and without the photo features (catalog/core/photo_features.py), and
measures the features' extraction separately. Prints wall and CPU seconds per step and the peak
RSS growth of each training (a fresh measure per step: the process's peak is reset between
them where Linux allows, else the growth over the process's peak so far is reported).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def _step(label: str, work, results: dict):
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    results[label] = {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "peak_rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024, 1),
    }
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--rows", type=int, default=0, help="training photos (the database's, repeated); 0: as stored")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from catalog.core.columns import ATTRIBUTE_COLUMNS
    from catalog.core.photo_features import photo_features_of
    from catalog.models.linker import LinkerParams, train_linker
    from catalog.store.database import Store
    from catalog.store.photos import thumbnails_of

    store = Store.open(args.db)
    table = store.table("products").search().where("has_image = true").limit(10**9).to_arrow()
    images = np.stack(table.column("image_vector").to_numpy(zero_copy_only=False)).astype(np.float32)
    nodes = np.stack(table.column("node_vector").to_numpy(zero_copy_only=False)).astype(np.float32)
    values = np.array(
        [[v or "" for v in table.column(c).to_pylist()] for c in ATTRIBUTE_COLUMNS], dtype=object
    ).T  # fmt: skip
    found = thumbnails_of(store.table("products"), store.photos(), table.column("id").to_pylist())
    thumbnails = [found.get(i) for i in table.column("id").to_pylist()]
    rows = args.rows or len(images)
    take = np.arange(rows) % len(images)

    results: dict = {}
    features = _step("photo features", lambda: photo_features_of([thumbnails[i] for i in take]), results)
    for label, params, extra in [
        ("linker, image vectors only (previous default)", LinkerParams(photo_features=False), None),
        ("linker, with photo features (default)", LinkerParams(), features),
    ]:

        def train(params=params, extra=extra):
            return train_linker(images[take], nodes[take], params, values=values[take], features=extra)

        _step(label, train, results)
    document = {"db": args.db, "photos_stored": len(images), "training_photos": rows, "steps": results}
    with_features = results["linker, with photo features (default)"]["wall_s"] + results["photo features"]["wall_s"]
    document["ratio_wall_with_features"] = round(
        with_features / results["linker, image vectors only (previous default)"]["wall_s"], 2
    )
    print(json.dumps(document) if args.json else json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
