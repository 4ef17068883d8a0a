"""The write lock on an object store: a lease object, taken and renewed with conditional writes.

Object stores have no `fcntl`, and a lock that a killed writer never releases must not block the
database forever. So the lock is an object, `<db>/.lock`, holding its owner (a random token, host,
pid) and an expiry time, and every change to it is conditional:

- take a free lock: put with `If-None-Match: *` (the object does not exist yet), or put with
  `If-Match: <etag>` over a lock that is released or whose lease has run out. Of two writers that
  race for it, the store lets exactly one put through; the other gets a clear "another process is
  writing" error, like the second writer on a local folder.
- hold it: a daemon thread renews the lease every third of its length (`If-Match` on the etag of
  its own last write). A renewal refused means someone took the lock over (this process stalled
  past its lease); the writer then stops
  before its next change to the database.
- fence: `check()` renews once more and confirms ownership right before every change to the
  database (each upsert, delete, compaction, cleanup, index build and the run record: the writer's
  tables are `FencedTable`s, catalog/store/database.py), so a writer that lost the lock stops before
  its next change instead of writing on top of its successor's work.
- release: a conditional put marking the lock released (not a delete, so a take-over is always a
  conditional write against a known etag).

A writer killed with `kill -9` leaves its lock behind; the next writer may take it once the lease has
run out (default 30 s, `CATALOG_LOCK_LEASE_SECONDS`), then restores any half-written tables as on a
local folder. Expiry is judged by the clocks of the two machines, which must agree to within a few
seconds (NTP). S3 (since 2024), GCS and Azure all support these conditional writes; so does moto,
which the tests use. The choice and its limits: docs/object-storage.md.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timezone

from catalog.core.errors import CatalogError

LEASE_KEY = ".lock"
DEFAULT_LEASE_SECONDS = 30.0


def lease_seconds() -> float:
    return float(os.environ.get("CATALOG_LOCK_LEASE_SECONDS") or DEFAULT_LEASE_SECONDS)


class LeaseLock:
    def __init__(self, storage, lease: float | None = None):
        self.storage = storage
        self.lease = lease if lease is not None else lease_seconds()
        self.token = uuid.uuid4().hex
        self.etag: str | None = None
        self.lost = False
        self.took_over: dict | None = None  # the expired lock this writer replaced, if any
        self._stop = threading.Event()
        self._mutex = threading.Lock()  # the heartbeat and check() both renew
        self._thread: threading.Thread | None = None

    # -- the lock's body -------------------------------------------------------------------------

    def _body(self, released: bool = False) -> bytes:
        now = time.time()
        return json.dumps(
            {
                "owner": self.token,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "renewed_at": now,
                "expires_at": 0 if released else now + self.lease,
                "released": released,
            }
        ).encode()

    def _busy(self, holder: dict) -> CatalogError:
        expires = datetime.fromtimestamp(float(holder.get("expires_at", 0)), timezone.utc)
        return CatalogError(
            f"another process is writing to {self.storage}; wait for it to finish and try again "
            f"(lock held by {holder.get('host', '?')} pid {holder.get('pid', '?')}; if that process died, "
            f"its lease runs out at {expires:%H:%M:%S} UTC)"
        )

    # -- take, renew, release ----------------------------------------------------------------------

    def acquire(self) -> None:
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        store = self.storage.store
        try:
            self.etag = self.storage._call(obstore.put, store, LEASE_KEY, self._body(), mode="create")["e_tag"]
            return
        except AlreadyExistsError:
            pass
        try:
            current = self.storage._call(obstore.get, store, LEASE_KEY)
        except FileNotFoundError:  # released by deletion in between (not by us): simply try again
            return self.acquire()
        etag, holder = current.meta["e_tag"], _parse(bytes(current.bytes()))
        if not holder.get("released") and float(holder.get("expires_at", 0)) > time.time():
            raise self._busy(holder)
        try:
            self.etag = self.storage._call(obstore.put, store, LEASE_KEY, self._body(), mode={"e_tag": etag})["e_tag"]
        except PreconditionError:  # another writer took it first
            raise self._busy(_parse(self.storage.read_bytes(LEASE_KEY))) from None
        if not holder.get("released"):
            self.took_over = holder

    def renew(self) -> bool:
        """Extend the lease; False (and `lost`) if someone else holds the lock now."""
        import obstore
        from obstore.exceptions import PreconditionError

        with self._mutex:
            if self.lost:
                return False
            try:
                self.etag = obstore.put(self.storage.store, LEASE_KEY, self._body(), mode={"e_tag": self.etag})["e_tag"]
                return True
            except (PreconditionError, FileNotFoundError):
                self.lost = True
                return False

    def check(self) -> None:
        """Before every change to the database (catalog/store/database.py, FencedTable): this writer
        still holds the lock, with a fresh lease for the change. A renewal, not a read: it proves
        ownership and extends the lease in one conditional put (~1 per batch of rows written)."""
        try:
            held = self.renew()
        except Exception as error:  # the store unreachable: better no change than one not under the lock
            raise CatalogError(
                f"cannot renew the write lock on {self.storage}: {error}; stopped before changing the database, "
                "nothing of this run is visible"
            ) from None
        if not held:
            raise CatalogError(
                f"this writer lost the write lock on {self.storage} (it stalled longer than the "
                f"{self.lease:g} s lease and another writer took over); it stopped before its next change "
                "and nothing of its run is visible (nothing was committed)"
            )

    def release(self) -> None:
        import obstore

        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._mutex:
            if self.lost or self.etag is None:
                return
            try:
                obstore.put(self.storage.store, LEASE_KEY, self._body(released=True), mode={"e_tag": self.etag})
            except Exception:  # taken over or unreachable: the lease runs out by itself
                pass

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                if not self.renew():
                    return
            except Exception:  # a network blip: try again at the next beat, the lease has time left
                continue

    def __enter__(self) -> "LeaseLock":
        self.acquire()
        self._thread = threading.Thread(target=self._heartbeat, name="catalog-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _parse(data: bytes) -> dict:
    try:
        holder = json.loads(data)
        return holder if isinstance(holder, dict) else {}
    except ValueError:  # not ours or damaged: treat as expired (expires_at 0)
        return {}
