"""Photo encodes, bounded: one at a time per worker, at most `waiting` more queued, and beyond that
503 with `Retry-After` (`catalog serve --photo-queue`).

Why: an encode takes the model's whole attention (it uses every core; `Catalog` runs one at a time
anyway), so a burst of uploads can only queue. Queued in the thread pool, each held a worker thread
(and its upload in memory) for as long as the queue was long, and every other request that needed a
thread waited behind them. Here a queued upload waits on the event loop (an `asyncio.Lock`, no
thread), the queue has a set length, and a client told 503 knows when to come back instead of
timing out. The count starts before the upload is read, so a full queue refuses it unread.
"""

from __future__ import annotations

import asyncio
import math
import time
from contextlib import asynccontextmanager

from starlette.concurrency import run_in_threadpool

from catalog.web.observe import ENCODING, REFUSED, WAITING

DEFAULT_WAITING = 8


class Busy(Exception):
    """The photo queue is full: answered 503 with `Retry-After` (catalog/web/errors.py). Not a
    CatalogError: nothing is wrong with the request, and the pages show a CatalogError as a 400."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class PhotoQueue:
    """At most one encode running and `waiting` more admitted, per worker process."""

    def __init__(self, waiting: int = DEFAULT_WAITING):
        self.waiting = waiting
        self.admitted = 0  # running + waiting; only touched on the event loop
        self.lock = asyncio.Lock()
        self.seconds = 1.0  # a running mean of one encode, for Retry-After

    @asynccontextmanager
    async def slot(self):
        """Admit one photo request (or raise `Busy`); the request reads its upload inside it."""
        if self.admitted > self.waiting:
            REFUSED.inc()
            retry = max(1, math.ceil(self.seconds * self.admitted))
            raise Busy(f"busy: {self.admitted} photos are being encoded or waiting; retry in {retry} s", retry)
        self.admitted += 1
        try:
            yield self
        finally:
            self.admitted -= 1

    async def run(self, function, *args, **kwargs):
        """`function(*args, **kwargs)` in a worker thread once the encoder is free."""
        WAITING.inc()
        waiting = True
        try:
            async with self.lock:
                WAITING.dec()
                waiting = False
                ENCODING.inc()
                started = time.perf_counter()
                try:
                    return await run_in_threadpool(function, *args, **kwargs)
                finally:
                    ENCODING.dec()
                    self.seconds = 0.8 * self.seconds + 0.2 * (time.perf_counter() - started)
        finally:
            if waiting:  # the client went away while it waited
                WAITING.dec()
