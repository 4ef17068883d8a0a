"""Loading many product photos for an ingest, decoded in a thread pool ahead of the encoder.

Decoding itself (one file -> pixels + thumbnail) is `catalog/photos.py`, shared with the read side.
Pillow releases the GIL while it decodes and resizes, so the pool overlaps with model inference
running in the caller's thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from catalog.columns import IMAGE_SIZE
from catalog.photos import (  # noqa: F401  (re-exported: the ingest side's names for them)
    IMAGE_EXTENSIONS,
    IMAGE_FORMATS,
    MAX_PIXELS,
    ImageError,
    LoadedImage,
    find_image,
    load_image,
)

# Decoded images waiting for the consumer: enough for the next batch to be ready while the model
# runs on the current one, few enough that memory stays small (each item is ~200 KB at 256 px).
LOOKAHEAD = 32


def load_images(
    images_dir: Path,
    ids: Sequence[int],
    size: int = IMAGE_SIZE,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, LoadedImage | None, str | None]]:
    """Load the photos of `ids` in a thread pool; yield (id, image, None) or (id, None, reason) in order.

    At most LOOKAHEAD photos are decoded ahead of the consumer, so memory stays bounded however many
    ids there are, and the next batch decodes while the caller's thread runs the model on this one.
    """
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-image")
    pending: deque[tuple[int, Future]] = deque()
    remaining = iter(ids)

    def submit_next() -> None:
        product_id = next(remaining, None)
        if product_id is not None:
            pending.append((product_id, pool.submit(_load_or_reason, images_dir, product_id, size)))

    try:
        for _ in range(LOOKAHEAD):
            submit_next()
        while pending:
            product_id, future = pending.popleft()
            image, reason = future.result()
            submit_next()
            if progress is not None:
                progress(1)
            yield product_id, image, reason
    finally:
        # A consumer that stops early must not wait for photos nobody will look at.
        pool.shutdown(wait=True, cancel_futures=True)


def _load_or_reason(images_dir: Path, product_id: int, size: int) -> tuple[LoadedImage | None, str | None]:
    path = find_image(images_dir, product_id)
    if path is None:
        return None, "image file not found"
    try:
        return load_image(path, size), None
    except ImageError as exc:
        return None, str(exc)
