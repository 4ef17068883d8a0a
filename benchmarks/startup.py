"""Benchmark `catalog similar` as a fresh process against a bare `python -c "import lancedb"`.

    python -m benchmarks.startup --json
    python -m benchmarks.startup --db db --id 19549 --runs 9 --json   # an existing database
    python -m benchmarks.startup --db db --id 19549 --photo demo/shirt.jpg --json   # + cold photo queries

Without --db, writes a small demo catalog (catalog.demo, 300 products, 64-pixel photos) and
ingests it with `catalog ingest --weights random --image-size 64` into a temporary database.
Then runs both commands alternately (so both see the same machine load) and reports the median
wall time of each, the difference (target: at most 1 s), whether TensorFlow or Keras was imported
on the `similar` path (from `python -X importtime`; target: never), and the top-level imports that
cost the most on that path (ms of import time per package), to show where the time goes.

With --photo, also a cold `catalog query --image PHOTO` in the same alternation, as shipped (the
encoder's OpenVINO model file; target: at most 2 s over `similar`) and with CATALOG_RUNTIME=keras
(TensorFlow and the Keras model, as before), and whether the shipped one imported TensorFlow.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_SECONDS = 1.0
HEAVY_PACKAGES = ("tensorflow", "keras", "tf_keras")


def catalog_command() -> list[str]:
    """The installed `catalog` console script next to this interpreter, else `python -m catalog`."""
    script = Path(sys.executable).parent / "catalog"
    return [str(script)] if script.exists() else [sys.executable, "-m", "catalog"]


def build_demo_database(folder: Path, products: int) -> tuple[Path, int]:
    """A demo catalog ingested by the real CLI; returns the database path and a product with a photo."""
    from catalog.demo import make_demo_catalog

    demo = make_demo_catalog(folder / "demo", count=products, image_size=64)
    db = folder / "db"
    subprocess.run(
        [
            *catalog_command(),
            "ingest",
            "--csv",
            str(demo.csv_path),
            "--images",
            str(demo.images_dir),
            "--weights",
            "random",
            "--image-size",
            "64",
            "--db",
            str(db),
            "--json",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with demo.csv_path.open(encoding="utf-8") as rows:
        next(rows)
        product_id = next(int(row[0]) for row in csv.reader(rows) if int(row[0]) not in demo.missing_image_ids)
    return db, product_id


def wall_seconds(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )
    return time.perf_counter() - started


def import_costs(command: list[str]) -> tuple[list[str], list[tuple[str, float]]]:
    """Heavy packages imported by `command`, and ms of import time per top-level package, costliest first.

    Each module's own ("self") import time is added to its top-level package, so `pandas` holds
    everything spent inside pandas modules and nothing spent in what they import from elsewhere.
    """
    script = command[1:] if command[0] == sys.executable else command
    finished = subprocess.run(
        [sys.executable, "-X", "importtime", *script],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    by_package: dict[str, float] = {}
    for line in finished.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            package = match[2].split(".")[0]
            by_package[package] = by_package.get(package, 0.0) + int(match[1]) / 1000
    heavy = sorted(set(by_package) & set(HEAVY_PACKAGES))
    return heavy, sorted(((name, round(ms, 1)) for name, ms in by_package.items()), key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an existing database (default: build a demo one)")
    parser.add_argument("--id", type=int, help="product to query (required with --db)")
    parser.add_argument("--products", type=int, default=300, help="demo catalog size (default 300)")
    parser.add_argument("--runs", type=int, default=7, help="runs of each command; the median is reported")
    parser.add_argument("--photo", type=Path, help="also time a cold `catalog query --image PHOTO`")
    parser.add_argument(
        "--no-keras", action="store_true", help="skip the CATALOG_RUNTIME=keras photo query (a bf16 database)"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    if args.db and args.id is None:
        parser.error("--db needs --id")

    scratch = None if args.db else Path(tempfile.mkdtemp(prefix="catalog-startup-"))
    try:
        db, product_id = (args.db, args.id) if args.db else build_demo_database(scratch, args.products)
        baseline = [sys.executable, "-c", "import lancedb"]
        similar = [*catalog_command(), "similar", str(product_id), "--db", str(db), "--json"]
        wall_seconds(similar)  # first run warms the page cache for both
        photo = [*catalog_command(), "query", "--image", str(args.photo), "--db", str(db), "--json"]
        if args.photo:
            wall_seconds(photo)  # makes the model file if the database has none yet, and warms the cache
        times: dict[str, list[float]] = {"baseline": [], "similar": [], "query_image": [], "query_image_keras": []}
        for _ in range(args.runs):
            times["baseline"].append(wall_seconds(baseline))
            times["similar"].append(wall_seconds(similar))
            if args.photo:
                times["query_image"].append(wall_seconds(photo))
                if not args.no_keras:  # Keras runs f32 only: a bf16 database has no Keras path to time
                    times["query_image_keras"].append(wall_seconds(photo, {"CATALOG_RUNTIME": "keras"}))
        heavy, costs = import_costs(similar)
        photo_heavy = import_costs(photo)[0] if args.photo else []
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)

    baseline_s = statistics.median(times["baseline"])
    similar_s = statistics.median(times["similar"])
    result = {
        "baseline_s": round(baseline_s, 3),  # python -c "import lancedb"
        "similar_s": round(similar_s, 3),  # catalog similar ID --json
        "overhead_s": round(similar_s - baseline_s, 3),
        "budget_s": BUDGET_SECONDS,
        "within_budget": similar_s - baseline_s <= BUDGET_SECONDS,
        "tensorflow_imported": bool(heavy),
        "heavy_imports": heavy,
        "import_ms_by_package": dict(costs[:12]),
        "runs": args.runs,
        "load_average": round(os.getloadavg()[0], 2),
    }
    if args.photo:
        image_s = statistics.median(times["query_image"])
        keras_s = statistics.median(times["query_image_keras"]) if times["query_image_keras"] else None
        result.update(
            {
                "query_image_s": round(image_s, 3),  # catalog query --image PHOTO --json, as shipped
                "query_image_over_similar_s": round(image_s - similar_s, 3),
                "query_image_keras_s": keras_s and round(keras_s, 3),  # the same with CATALOG_RUNTIME=keras
                "query_image_keras_over_similar_s": keras_s and round(keras_s - similar_s, 3),
                "query_image_tensorflow_imported": bool(photo_heavy),
                "times_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
            }
        )
    if not args.json:
        print(
            f"similar {similar_s:.2f} s vs import lancedb {baseline_s:.2f} s "
            f"(+{similar_s - baseline_s:.2f} s, budget {BUDGET_SECONDS} s)",
            file=sys.stderr,
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
