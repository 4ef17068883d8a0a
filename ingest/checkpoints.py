"""Resumable encoding: encoded photos are checkpointed by content hash while an ingest runs.

Encoding is the one stage that takes an hour on the full catalog, so an ingest interrupted by
Ctrl-C, a crash or `kill -9` must not start it over. Every few hundred photos the vectors and
photo features encoded so far are written to `<db>/checkpoints/<encoder>/NNNNNN.npz`, keyed by the
sha256 of the photo's bytes and by the encoder id, so a re-run skips every photo already done
(even if ids or rows changed in between). Their thumbnails are committed to the photos table
first (`PhotoRows`, catalog/store/photos.py), so a checkpoint never names a photo whose thumbnail
could be lost. Each file is written whole or not at all (a temporary name and a rename in a
folder; a single put on an object store, see catalog/store/storage.py). After a successful commit
the folder is removed: from then on the database itself holds the vectors.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np

from catalog.store.photos import photo_rows, write_fragments

FLUSH_EVERY = 256


class PhotoRows:
    """The thumbnails of the photos encoded since the last checkpoint, on their way to the photos table.

    In this process (`add`: written as data files at `flush`) or already written by Ray workers
    (`add_fragments`); either way `flush` commits them as one Append through the fenced writer."""

    def __init__(self, writer):
        self.writer = writer
        self.uri, self.storage_options = writer.photos_location()
        self._hashes: list[str] = []
        self._thumbnails: list[bytes] = []
        self._fragments: list = []

    def add(self, sha256: str, thumbnail: bytes) -> None:
        self._hashes.append(sha256)
        self._thumbnails.append(thumbnail)

    def add_fragments(self, fragments: list) -> None:
        self._fragments += fragments

    def flush(self) -> None:
        if self._hashes:
            rows = photo_rows(self._hashes, self._thumbnails)
            self._fragments += write_fragments(rows, self.uri, self.storage_options)
            self._hashes, self._thumbnails = [], []
        self.writer.append_photos(self._fragments)
        self._fragments = []


class EncodeCheckpoints:
    def __init__(self, storage, encoder_id: str, photos: PhotoRows | None = None):
        """`storage`: the database's location (catalog/store/storage.py), a folder or an object-store
        prefix; `photos`: where the thumbnails of the checkpointed photos go first."""
        digest = hashlib.sha256(encoder_id.encode()).hexdigest()[:16]
        self.storage = storage
        self.photos = photos
        self.folder = f"checkpoints/encode-{digest}"
        self._pending: list[tuple[str, np.ndarray, np.ndarray]] = []
        self._known: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._files = [key for key in storage.keys(self.folder) if key.endswith(".npz")]
        for key in self._files:
            self._known.update(_read(storage, key))

    def __len__(self) -> int:
        return len(self._known)

    def get(self, sha256: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(image vector, stored photo features) of a photo encoded by an interrupted run."""
        return self._known.get(sha256)

    def known(self) -> frozenset[str]:
        """The hashes of every checkpointed photo (sent to Ray workers, which hash the photos)."""
        return frozenset(self._known)

    def add(self, sha256: str, vector: np.ndarray, features: np.ndarray) -> None:
        # Not kept in `_known`: every lookup happens before encoding starts.
        self._pending.append((sha256, vector, features))
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.photos is not None:
            self.photos.flush()  # the thumbnails first: a checkpoint never names a photo without one
        if not self._pending:
            return
        shas, vectors, features = zip(*self._pending)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            sha=np.array(shas),
            vectors=np.stack(vectors).astype(np.float32),
            features=np.stack(features).astype(np.uint8),
        )
        key = f"{self.folder}/{len(self._files):06d}.npz"
        self.storage.write_bytes(key, buffer.getvalue())
        self._files.append(key)
        self._pending.clear()

    @staticmethod
    def clear(storage) -> None:
        """Delete every checkpoint of the database at `storage`: called after a commit, when the
        database holds everything they did. Static, so nothing is read to delete them (an
        instance reads them all: ~1 KB a photo, ~100 MB held at the end of a 100k-photo ingest)."""
        storage.delete_prefix("checkpoints")


def _read(storage, key: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        with np.load(io.BytesIO(storage.read_bytes(key))) as data:
            return {str(sha): (v, f) for sha, v, f in zip(data["sha"], data["vectors"], data["features"])}
    # A damaged checkpoint, or one an older catalog wrote (thumbnails, no features), only costs
    # re-encoding its photos.
    except (OSError, ValueError, KeyError):
        return {}
