"""Loading many product photos for an ingest, decoded in a thread pool ahead of the encoder.

Decoding itself (one file -> pixels + thumbnail) is `catalog/core/photos.py`, shared with the read side.
Pillow releases the GIL while it decodes and resizes, so the pool overlaps with model inference
running in the caller's thread.

Photos come from a folder (`PhotoFolder`) or from an object-store prefix (`PhotoPrefix`:
`--images s3://bucket/images`, read with obstore and the same settings as the database, see
docs/object-storage.md). Both find `{id}.jpg` (or another usual extension) by id only.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from catalog.core.columns import IMAGE_SIZE
from catalog.core.errors import CatalogError
from catalog.core.photos import (  # noqa: F401  (re-exported: the ingest side's names for them)
    IMAGE_EXTENSIONS,
    IMAGE_FORMATS,
    MAX_PIXELS,
    ImageError,
    LoadedImage,
    find_image,
    load_image,
    photo_name,
)

# Decoded images waiting for the consumer: enough for the next batch to be ready while the model
# runs on the current one, few enough that memory stays small (each item is ~200 KB at 256 px).
LOOKAHEAD = 32


class PhotoFolder:
    """Photos in a folder on this machine (or a shared filesystem every Ray worker mounts)."""

    def __init__(self, folder: Path):
        self.given = Path(folder)  # as the user wrote it, for messages
        self.folder = self.given.absolute()  # Ray workers run elsewhere: paths must not depend on the cwd
        self._names: frozenset[str] | None = None

    def __str__(self) -> str:
        return str(self.given)

    def check(self) -> None:
        if not self.folder.is_dir():
            raise CatalogError(
                f"images folder {self.given} not found" if not self.folder.exists() else f"{self.given} is not a folder"
            )

    @property
    def names(self) -> frozenset[str]:
        """The folder's file names, listed once per ingest: looking a product up is then a set lookup,
        where trying 8 names with a `stat` each cost ~110 CPU s for a million photo-less products."""
        if self._names is None:
            try:
                with os.scandir(self.folder) as entries:
                    self._names = frozenset(entry.name for entry in entries if entry.is_file())
            except OSError as error:
                raise CatalogError(f"cannot list the images folder {self.given}: {error.strerror or error}") from None
        return self._names

    def find(self, product_id: int) -> str | None:
        name = photo_name(product_id, self.names.__contains__)
        return str(self.folder / name) if name is not None else None

    def stat(self, ref: str) -> str:
        """Changes whenever the bytes do (size and mtime): an unchanged photo is not read again."""
        info = Path(ref).stat()
        return f"{info.st_size}:{info.st_mtime_ns}"

    def sha256(self, ref: str) -> str:
        from catalog.core.keys import file_sha256

        return file_sha256(Path(ref))

    def location(self, ref: str) -> str:
        return str(Path(ref).resolve())  # absolute: `show` must point at the photo wherever it is run from

    def load(self, ref: str, size: int) -> LoadedImage:
        return load_image(Path(ref), size)

    def read(self, ref: str) -> bytes:
        """The photo's bytes (a Ray worker hashes and decodes them from one read)."""
        try:
            return Path(ref).read_bytes()
        except OSError as error:
            raise ImageError(f"cannot read file: {error.strerror or error}") from None


class PhotoPrefix:
    """Photos under an object-store prefix (`s3://bucket/images`), listed once, read by key."""

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        from catalog.store.storage import ObjectStorage

        self.uri = uri.rstrip("/")
        self.storage = ObjectStorage(self.uri, storage_options or {})
        self._listing: dict[str, dict] | None = None

    def __str__(self) -> str:
        return self.uri

    @property
    def listing(self) -> dict[str, dict]:
        if self._listing is None:
            self._listing = {meta["path"]: meta for meta in self.storage._list(None)}
        return self._listing

    def check(self) -> None:
        if not self.listing:
            raise CatalogError(f"no photos under {self.uri}")

    def find(self, product_id: int) -> str | None:
        return photo_name(product_id, self.listing.__contains__)

    def stat(self, ref: str) -> str:
        meta = self.listing[ref]
        return f"{meta['size']}:{meta.get('e_tag') or meta['last_modified'].isoformat()}"

    def sha256(self, ref: str) -> str:
        import hashlib

        return hashlib.sha256(self.storage.read_bytes(ref)).hexdigest()

    def location(self, ref: str) -> str:
        return f"{self.uri}/{ref}"

    def load(self, ref: str, size: int) -> LoadedImage:
        return load_image(self.read(ref), size)

    def read(self, ref: str) -> bytes:
        try:
            return self.storage.read_bytes(ref)
        except (FileNotFoundError, CatalogError) as error:
            raise ImageError(f"cannot read {ref}: {error}") from None


def open_photos(images, storage_options: dict[str, str] | None = None) -> PhotoFolder | PhotoPrefix:
    """Where an ingest's photos are: a folder, or an `s3://`, `gs://`, `az://` prefix."""
    from catalog.store.storage import is_object_store

    if isinstance(images, (PhotoFolder, PhotoPrefix)):
        return images
    if is_object_store(images):
        return PhotoPrefix(str(images), storage_options)
    return PhotoFolder(Path(images))


def load_images(
    images_dir,
    ids: Sequence[int],
    size: int = IMAGE_SIZE,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[int, LoadedImage | None, str | None]]:
    """Load the photos of `ids` in a thread pool; yield (id, image, None) or (id, None, reason) in order.

    `images_dir`: a folder, a PhotoFolder or a PhotoPrefix.

    At most LOOKAHEAD photos are decoded ahead of the consumer, so memory stays bounded however many
    ids there are, and the next batch decodes while the caller's thread runs the model on this one.
    """
    source = open_photos(images_dir)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load-image")
    pending: deque[tuple[int, Future]] = deque()
    remaining = iter(ids)

    def submit_next() -> None:
        product_id = next(remaining, None)
        if product_id is not None:
            pending.append((product_id, pool.submit(_load_or_reason, source, product_id, size)))

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


def _load_or_reason(source, product_id: int, size: int) -> tuple[LoadedImage | None, str | None]:
    ref = source.find(product_id)
    if ref is None:
        return None, "image file not found"
    try:
        return source.load(ref, size), None
    except ImageError as exc:
        return None, str(exc)
