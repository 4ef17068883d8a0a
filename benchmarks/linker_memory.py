"""Peak memory of training the `attributes` linker, per photo trained.

    python -m benchmarks.linker_memory --photos 20000,50000 --json

Each N trains `train_linker` (kind `attributes`, with photo features) in its own process on N
random image vectors, node vectors and photo features, with attribute values drawn from the
calibrated synthetic catalog (benchmarks/synthetic.py: the real file's value frequencies, so the
classifiers have the real number of classes). Prints, per N, the peak RSS of the process and its
growth over the inputs (what training itself holds), and the growth per photo between the smallest
and largest N. Run the same command in a worktree of an older commit for a side-by-side figure:
the ingest's linker stage trains on at most LINKER_SAMPLE photos, so this is its memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys


def _one(photos: int) -> dict:
    import numpy as np

    from benchmarks.synthetic import synthetic_styles
    from catalog.core.columns import ATTRIBUTE_COLUMNS, IMAGE_DIM, NODE_DIM
    from catalog.core.photo_features import FEATURE_DIM
    from catalog.models.linker import LinkerParams, train_linker

    rng = np.random.default_rng(0)
    styles = synthetic_styles(photos, seed=0)
    values = np.array([[str(v or "") for v in styles[c]] for c in ATTRIBUTE_COLUMNS], dtype=object).T
    images = rng.normal(size=(photos, IMAGE_DIM)).astype(np.float32)
    nodes = rng.normal(size=(photos, NODE_DIM)).astype(np.float32)
    features = rng.integers(0, 256, size=(photos, FEATURE_DIM)).astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    train_linker(images, nodes, LinkerParams(kind="attributes"), values=values, features=features)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "photos": photos,
        "inputs_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "growth_mb": round(peak - before, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", default="20000,50000", help="photos trained on per run, comma-separated")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a single run, in this process
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one)))
        return
    runs = []
    for photos in [int(n) for n in args.photos.split(",")]:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.linker_memory", "--one", str(photos)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    result: dict = {"runs": runs}
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        per_photo = (last["growth_mb"] - first["growth_mb"]) / (last["photos"] - first["photos"]) * 1024
        result["growth_kb_per_photo"] = round(per_photo, 2)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
