"""Resumable encoding: encoded photos are checkpointed by content hash while an ingest runs.

Encoding is the one stage that takes an hour on the full catalog, so an ingest interrupted by
Ctrl-C, a crash or `kill -9` must not start it over. Every few hundred photos the vectors and
thumbnails encoded so far are written to `<db>/checkpoints/<encoder>/NNNNNN.npz`, keyed by the
sha256 of the photo's bytes and by the encoder id, so a re-run skips every photo already done
(even if ids or rows changed in between). Files are written to a temporary name and renamed, so
a checkpoint is either whole or absent. After a successful commit the folder is removed: from then
on the database itself holds the vectors.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np

FLUSH_EVERY = 256


class EncodeCheckpoints:
    def __init__(self, db_path: Path, encoder_id: str):
        digest = hashlib.sha256(encoder_id.encode()).hexdigest()[:16]
        self.root = Path(db_path) / "checkpoints"
        self.folder = self.root / f"encode-{digest}"
        self._pending: list[tuple[str, np.ndarray, bytes]] = []
        self._known: dict[str, tuple[np.ndarray, bytes]] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.npz")):
                self._known.update(_read(path))

    def __len__(self) -> int:
        return len(self._known)

    def get(self, sha256: str) -> tuple[np.ndarray, bytes] | None:
        return self._known.get(sha256)

    def add(self, sha256: str, vector: np.ndarray, thumbnail: bytes) -> None:
        self._known[sha256] = (vector, thumbnail)
        self._pending.append((sha256, vector, thumbnail))
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        shas, vectors, thumbnails = zip(*self._pending)
        offsets = np.cumsum([0] + [len(t) for t in thumbnails])
        buffer = io.BytesIO()
        np.savez(buffer, sha=np.array(shas), vectors=np.stack(vectors).astype(np.float32),
                 thumbnails=np.frombuffer(b"".join(thumbnails), np.uint8), offsets=offsets)
        path = self.folder / f"{len(list(self.folder.glob('*.npz'))):06d}.npz"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)
        self._pending.clear()

    def clear(self) -> None:
        """Called after a commit: the database now holds everything the checkpoints did."""
        self._pending.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def _read(path: Path) -> dict[str, tuple[np.ndarray, bytes]]:
    try:
        with np.load(path) as data:
            blob, offsets = data["thumbnails"].tobytes(), data["offsets"]
            return {
                str(sha): (vector, blob[offsets[n]:offsets[n + 1]])
                for n, (sha, vector) in enumerate(zip(data["sha"], data["vectors"]))
            }
    except (OSError, ValueError, KeyError):  # a damaged checkpoint only costs re-encoding its photos
        return {}
