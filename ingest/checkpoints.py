"""Resumable encoding: encoded photos are checkpointed by content hash while an ingest runs.

Encoding is the one stage that takes an hour on the full catalog, so an ingest interrupted by
Ctrl-C, a crash or `kill -9` must not start it over. Every few hundred photos the vectors and
thumbnails encoded so far are written to `<db>/checkpoints/<encoder>/NNNNNN.npz`, keyed by the
sha256 of the photo's bytes and by the encoder id, so a re-run skips every photo already done
(even if ids or rows changed in between). Each file is written whole or not at all (a temporary
name and a rename in a folder; a single put on an object store, see catalog/store/storage.py). After a
successful commit the folder is removed: from then on the database itself holds the vectors.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np

FLUSH_EVERY = 256


class EncodeCheckpoints:
    def __init__(self, storage, encoder_id: str):
        """`storage`: the database's location (catalog/store/storage.py), a folder or an object-store prefix."""
        digest = hashlib.sha256(encoder_id.encode()).hexdigest()[:16]
        self.storage = storage
        self.folder = f"checkpoints/encode-{digest}"
        self._pending: list[tuple[str, np.ndarray, bytes]] = []
        self._known: dict[str, tuple[np.ndarray, bytes]] = {}
        self._files = [key for key in storage.keys(self.folder) if key.endswith(".npz")]
        for key in self._files:
            self._known.update(_read(storage, key))

    def __len__(self) -> int:
        return len(self._known)

    def get(self, sha256: str) -> tuple[np.ndarray, bytes] | None:
        return self._known.get(sha256)

    def add(self, sha256: str, vector: np.ndarray, thumbnail: bytes) -> None:
        # Not kept in `_known`: every lookup happens before encoding starts, so holding each new
        # thumbnail here as well would keep them all in memory (ingest/batches.py spools them).
        self._pending.append((sha256, vector, thumbnail))
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        shas, vectors, thumbnails = zip(*self._pending)
        offsets = np.cumsum([0] + [len(t) for t in thumbnails])
        buffer = io.BytesIO()
        np.savez(
            buffer,
            sha=np.array(shas),
            vectors=np.stack(vectors).astype(np.float32),
            thumbnails=np.frombuffer(b"".join(thumbnails), np.uint8),
            offsets=offsets,
        )
        key = f"{self.folder}/{len(self._files):06d}.npz"
        self.storage.write_bytes(key, buffer.getvalue())
        self._files.append(key)
        self._pending.clear()

    def clear(self) -> None:
        """Called after a commit: the database now holds everything the checkpoints did."""
        self._pending.clear()
        self.storage.delete_prefix("checkpoints")


def _read(storage, key: str) -> dict[str, tuple[np.ndarray, bytes]]:
    try:
        with np.load(io.BytesIO(storage.read_bytes(key))) as data:
            blob, offsets = data["thumbnails"].tobytes(), data["offsets"]
            return {
                str(sha): (vector, blob[offsets[n] : offsets[n + 1]])
                for n, (sha, vector) in enumerate(zip(data["sha"], data["vectors"]))
            }
    except (OSError, ValueError, KeyError):  # a damaged checkpoint only costs re-encoding its photos
        return {}
