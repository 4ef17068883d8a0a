"""Benchmark the image encoder alone and the whole photo pipeline (decode + resize + encode).

    python -m benchmarks.encode --images 200 --json
    python -m benchmarks.encode --images 200 --batch-size 8 --weights random

Prints one JSON line: bare_images_per_s (encoder.encode on random 256x256 uint8 batches),
bare_images_per_s_by_batch (the same for batch 8 and 16), pipeline_images_per_s
(load_images + encode_stream over synthetic 600x800 JPEGs in a temporary folder), ratio
(pipeline / bare at the same batch size: how much decoding costs once it overlaps with the
model), decode_images_per_s (load_images alone), batch_size, peak_rss_mb (the whole run), and the settings used.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.core.columns import IMAGE_SIZE
from catalog.models.encoder import ImageEncoder
from ingest.images import load_images

BARE_BATCH_SIZES = (8, 16)


def synthetic_photos(folder: Path, count: int, width: int = 600, height: int = 800, seed: int = 0) -> list[int]:
    """`count` JPEGs `{id}.jpg` that compress like product photos: smooth shapes plus sensor noise."""
    rng = np.random.default_rng(seed)
    ids = list(range(10_000, 10_000 + count))
    for product_id in ids:
        coarse = Image.fromarray(rng.integers(0, 256, (6, 4, 3), dtype=np.uint8))
        smooth = np.asarray(coarse.resize((width, height), Image.Resampling.BICUBIC), dtype=np.int16)
        pixels = np.clip(smooth + rng.integers(-12, 13, smooth.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{product_id}.jpg", quality=90)
    return ids


def bare_rate(encoder: ImageEncoder, images: int, batch_size: int) -> float:
    """Images per second of the model alone, in batches of `batch_size`."""
    size = encoder.info.image_size
    batch = np.random.default_rng(0).integers(0, 256, (batch_size, size, size, 3), dtype=np.uint8)
    encoder.encode(batch)  # warm-up: the first call traces the graph
    batches = max(1, images // batch_size)
    started = time.perf_counter()
    for _ in range(batches):
        encoder.encode(batch)
    return batches * batch_size / (time.perf_counter() - started)


def decode_rate(folder: Path, ids: list[int], image_size: int) -> float:
    """Images per second of load_images alone (2 decoding threads, no model running)."""
    started = time.perf_counter()
    decoded = sum(image is not None for _, image, _ in load_images(folder, ids, size=image_size))
    return decoded / (time.perf_counter() - started)


def pipeline_rate(encoder: ImageEncoder, folder: Path, ids: list[int], batch_size: int) -> float:
    """Images per second from JPEG files to vectors, decoding in threads while the model runs."""
    warm = np.zeros((batch_size, encoder.info.image_size, encoder.info.image_size, 3), np.uint8)
    encoder.encode(warm)
    started = time.perf_counter()
    loaded = load_images(folder, ids, size=encoder.info.image_size)
    items = ((product_id, image.pixels) for product_id, image, _ in loaded if image is not None)
    encoded = sum(len(batch_ids) for batch_ids, _ in encoder.encode_stream(items, batch_size=batch_size))
    if encoded != len(ids):
        raise RuntimeError(f"only {encoded} of {len(ids)} synthetic photos were encoded")
    return encoded / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.encode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200, help="synthetic JPEGs for the pipeline run")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=IMAGE_SIZE)
    parser.add_argument("--weights", default="random", help="imagenet, random or a weights file")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    encoder = ImageEncoder(weights=args.weights, image_size=args.image_size)
    by_batch = {size: bare_rate(encoder, args.images, size) for size in sorted({*BARE_BATCH_SIZES, args.batch_size})}
    with tempfile.TemporaryDirectory() as folder:
        ids = synthetic_photos(Path(folder), args.images)
        decode = decode_rate(Path(folder), ids, args.image_size)
        pipeline = pipeline_rate(encoder, Path(folder), ids, args.batch_size)
    bare = by_batch[args.batch_size]
    result = {
        "bare_images_per_s": round(bare, 2),
        "bare_images_per_s_by_batch": {str(size): round(rate, 2) for size, rate in by_batch.items()},
        "pipeline_images_per_s": round(pipeline, 2),
        "ratio": round(pipeline / bare, 3),
        "decode_images_per_s": round(decode, 1),
        "batch_size": args.batch_size,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "images": args.images,
        "image_size": args.image_size,
        "weights": encoder.info.weights,
    }
    if not args.json:
        print(f"encoder alone: {bare:.1f} images/s at batch {args.batch_size} ({result['bare_images_per_s_by_batch']})")
        print(f"pipeline:      {pipeline:.1f} images/s over {args.images} 600x800 JPEGs (ratio {result['ratio']})")
        print(f"decoding:      {decode:.1f} images/s (load_images alone)")
        print(f"peak RSS:      {result['peak_rss_mb']} MB")
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
