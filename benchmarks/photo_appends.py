"""What a writer keeps for each Append to the photos table: its connection's Lance cache and RSS.

    python -m benchmarks.photo_appends --appends 100,400 --json

An ingest appends the thumbnails encoded so far to the photos table every FLUSH_EVERY (256) photos
(ingest/checkpoints.py), so 100k photos are ~400 appends. Each N here, in its own process, opens a
fresh database's writer, appends N data files of 256 made-up thumbnails (3 KB each) through
`Writer.append_photos`, and prints the writer's Lance session size (the connection's metadata and
index caches, `lancedb.Session.size_bytes`), the process's RSS growth and glibc's bytes in use over
the appends, and the seconds they took. Run the same command in a worktree of an older commit (copy
this file there) for a side-by-side figure.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import subprocess
import sys
import tempfile
import time

ROWS = 256  # thumbnails per Append: FLUSH_EVERY


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()
    ]


def _malloc_in_use_mb() -> float:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2().uordblks / 2**20


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _one(appends: int) -> dict:
    import lancedb
    import numpy as np

    from catalog.store.database import Store
    from catalog.store.photos import photo_rows, write_fragments

    session = lancedb.Session()  # the caches the writer's connection fills, made visible
    connect = lancedb.connect
    lancedb.connect = lambda uri, **options: connect(uri, session=session, **options)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="catalog-appends-") as folder:
        store = Store(folder)
        with store.writer() as writer:
            uri, options = writer.photos_location()
            rss, in_use = _rss_mb(), _malloc_in_use_mb()
            started = time.perf_counter()
            for n in range(appends):
                hashes = [f"{n:032x}{i:032x}" for i in range(ROWS)]
                rows = photo_rows(hashes, [rng.bytes(3000) for _ in range(ROWS)])
                writer.append_photos(write_fragments(rows, uri, options))
            seconds = time.perf_counter() - started
            return {
                "appends": appends,
                "photos": appends * ROWS,
                "session_mb": round(session.size_bytes / 2**20, 2),
                "rss_growth_mb": round(_rss_mb() - rss, 1),
                "malloc_growth_mb": round(_malloc_in_use_mb() - in_use, 1),
                "seconds": round(seconds, 2),
            }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", default="100,400", help="comma-separated numbers of appends (default 100,400)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: one run
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(_one(args.one)))
        return
    runs = []
    for appends in (int(n) for n in args.appends.split(",")):
        command = [sys.executable, "-m", "benchmarks.photo_appends", "--one", str(appends)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        if not args.json:
            print(runs[-1])
    if args.json:
        print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()
