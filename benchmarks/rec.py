"""Does Rec improve when the linker learns combination vectors? `catalog eval` side by side.

    python -m benchmarks.rec --products 1500 --seeds 0,1,2 --json

Builds a demo catalog (`catalog.demo`: drawn photos whose shape follows the category and whose
colour follows baseColour), ingests it with the real Keras encoder (`--weights random`, 64-pixel
photos for speed), then runs `catalog eval` (10% of the photos held out, graph space and linker
retrained without them) once per seed on the collapsed graph (the default: every product of a
combination has one vector, so the linker's targets are noise-free) and once on the product graph
(per-product vectors, each with its own Word2Vec noise: the previous default), same seeds, same
held-out photos. Prints one JSON line: per setting, the mean and sd over seeds of Rec and graph
precision@10 per column, nDCG@10, the linker's validation cosine and recall@10.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

COLUMNS = ("masterCategory", "subCategory", "articleType", "baseColour", "gender", "usage")
SETTINGS = {"collapsed graph (default)": True, "product graph (previous)": False}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1500)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]

    from catalog import Catalog
    from catalog.demo import make_demo_catalog
    from catalog.evaluate.evaluation import EvalOptions, evaluate

    with tempfile.TemporaryDirectory(prefix="catalog-rec-") as scratch:
        made = make_demo_catalog(Path(scratch) / "demo", count=args.products, seed=0, image_size=args.image_size)
        catalog = Catalog(Path(scratch) / "db")
        started = time.perf_counter()
        catalog.ingest(made.csv_path, made.images_dir, weights="random", image_size=args.image_size)
        ingest_seconds = time.perf_counter() - started
        runs: dict[str, list[dict]] = {label: [] for label in SETTINGS}
        for seed in seeds:
            for label, collapse in SETTINGS.items():
                result = evaluate(catalog.store, EvalOptions(seed=seed, node2vec_overrides={"collapse": collapse}))
                runs[label].append(result.document())
                if not args.json:
                    print(f"seed {seed} {label}: rec {result.precision['rec']}", file=sys.stderr)

    def summary(docs: list[dict]) -> dict:
        def stat(values):
            values = [v for v in values if v is not None]
            return {"mean": round(float(np.mean(values)), 4), "sd": round(float(np.std(values)), 4)}

        out = {
            space: {c: stat([d["precision"][space][c] for d in docs]) for c in COLUMNS}
            for space in ("rec", "image", "graph")
            if space in docs[0]["precision"]
        }
        out["ndcg"] = {space: stat([d["ndcg"][space] for d in docs]) for space in docs[0]["ndcg"]}
        out["linker"] = {
            key: stat([d["linker"].get(key) for d in docs])
            for key in docs[0]["linker"]
            if isinstance(docs[0]["linker"][key], (int, float))
        }
        return out

    print(
        json.dumps(
            {
                "products": args.products,
                "seeds": seeds,
                "ingest_seconds": round(ingest_seconds, 1),
                "load_average": round(os.getloadavg()[0], 2),
                "settings": {label: summary(docs) for label, docs in runs.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
