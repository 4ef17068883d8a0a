"""`Catalog.similar` from a notebook: LanceDB per call (the default) against `memory=True`.

    python -m benchmarks.notebook --db demo3000/db --calls 300 --json

Each mode runs in a fresh Python process (so its memory is its own): open the catalog and answer a
first `similar` (what a notebook's first cell pays), then `similar(id, k=6)` (Rec) for `--calls`
products in turn. Reports the first answer's time, the per-call p50/p95, the process's RSS after,
and the number of calls after which memory mode has paid for its load.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_MODE = """
import json, sys, time, resource
import numpy as np
started = time.perf_counter()
from catalog import Catalog
db, memory, calls = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
catalog = Catalog(db, memory=memory)
ids = [p["id"] for p in catalog.browse(per_page=calls + 50).to_dict()["products"]]
catalog.similar(ids[0], k=6, space="graph")
first = time.perf_counter() - started
times = []
for product in ids[1:]:
    t = time.perf_counter()
    try:
        catalog.similar(product, k=6)
    except Exception:
        continue
    times.append(time.perf_counter() - t)
    if len(times) == calls:
        break
times = np.asarray(times) * 1000
print(json.dumps({
    "first_answer_s": round(first, 2),
    "calls": len(times),
    "p50_ms": round(float(np.percentile(times, 50)), 3),
    "p95_ms": round(float(np.percentile(times, 95)), 3),
    "all_calls_s": round(float(times.sum()) / 1000, 2),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = {"db": str(args.db)}
    for name, memory in (("lancedb", "0"), ("memory", "1")):
        done = subprocess.run(
            [sys.executable, "-c", ONE_MODE, str(args.db), memory, str(args.calls)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        result[name] = json.loads(done.stdout.strip().splitlines()[-1])
        if not args.json:
            print(name, result[name], file=sys.stderr)
    lancedb, memory = result["lancedb"], result["memory"]
    saved = lancedb["p50_ms"] - memory["p50_ms"]
    extra = max(0.0, memory["first_answer_s"] - lancedb["first_answer_s"]) * 1000
    result["memory_pays_off_after_calls"] = round(extra / saved) if saved > 0 else None
    result["memory_extra_rss_mb"] = round(memory["peak_rss_mb"] - lancedb["peak_rss_mb"], 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
