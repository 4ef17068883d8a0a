"""Photo encoding on Ray (`ingest --engine ray`) against the local engine, on this machine.

    python -m benchmarks.ray_encode --images 200 --json
    python -m benchmarks.ray_encode --images 200 --workers 1,2 --cpus 2 --json

The same synthetic 600x800 JPEGs (benchmarks/encode.py) go through
- the local engine: `load_images` (2 decoding threads) feeding `encode_stream` in this process,
  the encoder built once beforehand (as `ingest` does);
- `ingest.ray_engine.encode_on_ray` on a local Ray cluster of `--cpus` CPUs, with 1 and 2 encoder
  actors, each building its own encoder (a cold start per run, as every `ingest --engine ray` pays).

Prints one JSON line: per engine the wall time (encoder build included: every ingest that encodes
pays it, once locally, once per actor on Ray), images/s end to end, and the time until the first
vector came back; for Ray, its overhead against the local engine (wall time minus the local
engine's, same photos); the Ray cluster's own start time (paid once per process, or never when
joining a running cluster); the 1-minute load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.encode import synthetic_photos


def timed_batches(batches):
    """(wall seconds, images, seconds until the first batch came back)."""
    started = time.perf_counter()
    first = None
    images = 0
    for count in batches:
        if first is None:
            first = time.perf_counter() - started
        images += count
    return time.perf_counter() - started, images, first


def summary(wall: float, images: int, first: float, extra: dict | None = None) -> dict:
    return {
        "wall_s": round(wall, 2),
        "images_per_s": round(images / wall, 2),
        "first_result_s": round(first, 2),
        "images_encoded": images,
        **(extra or {}),
    }


def run_local(folder: Path, ids: list[int], weights: str, image_size: int, batch_size: int) -> dict:
    from catalog.models.encoder import ImageEncoder, encode_stream
    from ingest.images import load_images

    started = time.perf_counter()
    encoder = ImageEncoder(weights=weights, image_size=image_size)
    build = time.perf_counter() - started

    def batches():
        loaded = load_images(folder, ids, size=image_size)
        items = ((product_id, image.pixels) for product_id, image, _ in loaded if image is not None)
        for batch_ids, _ in encode_stream(encoder, items, batch_size=batch_size):
            yield len(batch_ids)

    wall, images, first = timed_batches(batches())
    # The encoder build is part of what the local engine pays per ingest too (Ray's actors pay it each).
    return summary(wall + build, images, first + build, {"encoder_build_s": round(build, 2)}), encoder


def run_ray(folder: Path, ids: list[int], encoder, workers: int, batch_size: int) -> dict:
    from ingest.ray_engine import EncoderSpec, RayOptions, encode_on_ray

    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "head.weights.h5"
        encoder.save_head(head)
        spec = EncoderSpec(
            weights=encoder.info.weights,
            seed=encoder.info.seed,
            image_size=encoder.info.image_size,
            head=head.read_bytes(),
            encoder_id=encoder.info.id,
        )
    photos = [(product_id, str(folder / f"{product_id}.jpg")) for product_id in ids]
    # One count per photo as it comes back (a batch's photos arrive together).
    results = encode_on_ray(photos, spec, RayOptions(workers=workers, batch_size=batch_size))
    batches = (1 for _, vector, _, _ in results if vector is not None)
    wall, images, first = timed_batches(batches)
    return summary(wall, images, first, {"workers": workers})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ray_encode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="synthetic JPEGs to encode")
    parser.add_argument("--workers", default="1,2", help="Ray encoder actors to try, comma-separated")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2, help="CPUs of the local Ray cluster")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--weights", default="random")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ids = synthetic_photos(folder, args.images)
        local, encoder = run_local(folder, ids, args.weights, args.image_size, args.batch_size)
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        ray_start = time.perf_counter() - started
        try:
            by_workers = {
                str(w): run_ray(folder, ids, encoder, int(w), args.batch_size) for w in args.workers.split(",")
            }
            for figures in by_workers.values():
                figures["overhead_vs_local_s"] = round(figures["wall_s"] - local["wall_s"], 2)
        finally:
            ray.shutdown()
    result = {
        "local": local,
        "ray": by_workers,
        "ray_cluster_start_s": round(ray_start, 2),
        "images": args.images,
        "image_size": args.image_size,
        "batch_size": args.batch_size,
        "cpus": args.cpus,
        "weights": args.weights,
        "load_avg_before": round(load_before, 2),
        "load_avg_after": round(os.getloadavg()[0], 2),
    }
    if not args.json:
        print(f"local engine: {local['images_per_s']} images/s end to end ({local['wall_s']} s)")
        for workers, figures in by_workers.items():
            print(
                f"ray, {workers} worker(s): {figures['images_per_s']} images/s end to end ({figures['wall_s']} s, "
                f"{figures['overhead_vs_local_s']:+} s vs local, first vectors after {figures['first_result_s']} s)"
            )
        print(f"ray cluster start: {result['ray_cluster_start_s']} s")
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
