"""Benchmark `catalog serve` under load: 50 concurrent clients against /api/similar and the product page.

    python -m benchmarks.serve --json                              # 44,446 products, 30 s per run
    python -m benchmarks.serve --db /tmp/serve-44k --seconds 30    # keep (and reuse) the database
    python -m benchmarks.serve --photo-db db --photos demo/images  # also: photo query latency, cold and warm
    python -m benchmarks.serve --no-load --photo-db db --photos demo/images   # only that
    python -m benchmarks.serve --catalog /work/bench10m/run/db --no-baseline --json   # an ingested database

Builds (or reuses) the full-size synthetic catalog of `benchmarks.search` (44,446 products, the
real file's attribute shape, IVF indexes as an ingest builds them), starts the real `catalog
serve` on a loopback port, and runs the bounded closed-loop load generator of
`benchmarks.loadgen`: CLIENTS keep-alive connections, each sending its next request when the
previous one is answered, for SECONDS, each request for a random product with a photo. Twice:
the server as shipped (similar answered from its in-memory copy of the committed run) and the
baseline `--no-memory` (a LanceDB vector query per request), same database, same run, one after
the other. Reports throughput, p50/p90/p99/max latency, errors, and the server's CPU time per
request (steadier than wall time on a shared machine), with the machine and its load average.

With --photo-db, also times photo queries (POST /api/photo, the Photo page's call) against a
database with a real encoder: the first (TensorFlow and the model load) and the warm ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import psutil

from benchmarks.loadgen import run_load
from benchmarks.search import open_or_build
from catalog.store.index import ROWS_THRESHOLD

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The real `catalog serve` in a subprocess, until stopped."""

    def __init__(self, db: Path, *extra: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            **(env or {}),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "catalog", "serve", "--db", str(db), "--port", str(self.port), *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ps = psutil.Process(self.process.pid)
        started = time.monotonic()
        deadline = started + 600  # a 10M-product catalog takes a while to open
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"catalog serve exited: {self.process.stderr.read()}")
            try:
                with urllib.request.urlopen(self.url + "/api/info", timeout=10) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("catalog serve did not start within 600 s")
            time.sleep(0.3)
        self.start_seconds = round(time.monotonic() - started, 1)  # until /api/info answered
        self.said = ""  # what it printed on stderr (read when it stops)

    def rss_mb(self) -> int:
        return round(self.ps.memory_info().rss / 2**20)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.said = self.process.communicate(timeout=20)[1] or ""
        except subprocess.TimeoutExpired:
            self.process.kill()


def load(server: Server, make_path, clients: int, seconds: float) -> dict:
    run_load(server.url, make_path, clients=clients, seconds=min(3.0, seconds))  # warm-up, not counted
    cpu = server.cpu_seconds()
    result = run_load(server.url, make_path, clients=clients, seconds=seconds)
    summary = result.summary()
    summary["server_cpu_ms_per_request"] = round((server.cpu_seconds() - cpu) * 1000 / max(1, result.requests), 2)
    summary["load_average_after"] = round(os.getloadavg()[0], 2)
    summary["server_rss_mb"] = server.rss_mb()  # the copy in memory (or not), after serving the load
    return summary


def photo_latency(db: Path, photos: list[Path], count: int, env: dict[str, str] | None = None) -> dict:
    """POST /api/photo `count` times with real photos: the first loads the encoder, the rest are warm.
    `env`: for the server (CATALOG_RUNTIME=keras: the Keras encoder, as before OpenVINO)."""
    server = Server(db, env=env)
    try:
        seconds = []
        cpu_after_first = 0.0
        for n in range(count):
            if n == 1:
                cpu_after_first = server.cpu_seconds()
            data = photos[n % len(photos)].read_bytes()
            boundary = uuid.uuid4().hex
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
                    f"Content-Type: image/jpeg\r\n\r\n"
                ).encode()
                + data
                + f"\r\n--{boundary}--\r\n".encode()
            )
            request = urllib.request.Request(
                server.url + "/api/photo",
                data=body,
                method="POST",
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()
            seconds.append(time.perf_counter() - started)
        warm = np.asarray(seconds[1:]) * 1000
        return {
            "photo_first_ms": round(seconds[0] * 1000),
            "photo_warm_p50_ms": round(float(np.percentile(warm, 50)), 1),
            "photo_warm_p90_ms": round(float(np.percentile(warm, 90)), 1),
            # the server's CPU per warm photo query: steadier than latency on a shared machine
            "photo_warm_server_cpu_ms": round((server.cpu_seconds() - cpu_after_first) * 1000 / max(1, count - 1), 1),
            "photo_queries": count,
        }
    finally:
        server.stop()


def machine() -> dict:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=44446)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="per measured run (default 30)")
    parser.add_argument("--db", type=Path, metavar="FOLDER", help="keep the synthetic database here and reuse it")
    parser.add_argument("--no-baseline", action="store_true", help="skip the LanceDB-per-request baseline")
    parser.add_argument(
        "--no-load", action="store_true", help="skip the load runs (with --photo-db: photo latency only)"
    )
    parser.add_argument("--photo-db", type=Path, help="a database with a real encoder, for photo query latency")
    parser.add_argument("--photos", type=Path, help="a folder of photos to query --photo-db with")
    parser.add_argument("--photo-queries", type=int, default=21)
    parser.add_argument(
        "--photo-keras",
        action="store_true",
        help="also time photo queries with CATALOG_RUNTIME=keras (TensorFlow, as before OpenVINO), alternating",
    )
    parser.add_argument("--photo-rounds", type=int, default=2, help="with --photo-keras: turns of each (default 2)")
    parser.add_argument(
        "--catalog",
        type=Path,
        metavar="DB",
        help="load an existing database (e.g. a demo catalog with photos and a linker) instead of the synthetic one",
    )
    parser.add_argument(
        "--memory-limit", type=float, metavar="MB", help="`catalog serve --memory-limit` for the in-memory run"
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    scratch = None
    if args.db is None:
        scratch = tempfile.TemporaryDirectory(prefix="catalog-serve-")
        args.db = Path(scratch.name)
    try:
        space = ""
        if args.catalog is not None:  # its own ids: those of the products with a photo
            from catalog.store.database import Store

            db = args.catalog
            table = Store.open(db).table("products").search().where("has_image = true").select(["id"])
            with_photo = table.limit(10**9).to_arrow().column("id").to_numpy()
            if not len(with_photo):  # a photo-less catalog: any product, in the graph space (no rec vectors)
                with_photo = Store.open(db).table("products").search().select(["id"]).to_arrow().column("id").to_numpy()
                space = "&space=graph"
            args.rows = Store.open(db).table("products").count_rows()
        else:
            db, vectors, _ = (
                open_or_build(args.db, args.rows, ROWS_THRESHOLD)
                if not args.no_load
                else (None, {"has_image": np.ones(1, bool)}, None)
            )
            with_photo = np.flatnonzero(vectors["has_image"]) + 1  # row i holds id i + 1
        targets = {
            "api_similar": lambda rng: f"/api/similar/{with_photo[rng.integers(len(with_photo))]}?k=6{space}",
            "product_page": lambda rng: f"/product/{with_photo[rng.integers(len(with_photo))]}",
        }
        result = {
            "rows": args.rows,
            "clients": args.clients,
            "seconds": args.seconds,
            "machine": machine(),
            "load_average_before": round(os.getloadavg()[0], 2),
        }
        limit = ("--memory-limit", str(args.memory_limit)) if args.memory_limit else ()
        modes = [("memory", limit)] + ([] if args.no_baseline else [("lancedb_per_request", ("--no-memory",))])
        if args.no_load:
            modes = []
        for mode, flags in modes:
            server = Server(db, *flags)
            try:
                result[f"{mode}.start_seconds"] = server.start_seconds
                result[f"{mode}.rss_at_start_mb"] = server.rss_mb()
                for name, make_path in targets.items():
                    result[f"{mode}.{name}"] = load(server, make_path, args.clients, args.seconds)
                    if not args.json:
                        print(mode, name, json.dumps(result[f"{mode}.{name}"]), file=sys.stderr)
            finally:
                server.stop()
                result[f"{mode}.said"] = [line for line in server.said.splitlines() if line.strip()][:3]
        if args.photo_db:
            photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:50]
            rounds = args.photo_rounds if args.photo_keras else 1
            for _ in range(rounds):  # alternate, so both see the machine's load alike
                result.setdefault("photo_runs", []).append(photo_latency(args.photo_db, photos, args.photo_queries))
                if args.photo_keras:
                    result.setdefault("photo_keras_runs", []).append(
                        photo_latency(args.photo_db, photos, args.photo_queries, {"CATALOG_RUNTIME": "keras"})
                    )
            result["photo"] = result["photo_runs"][-1]
    finally:
        if scratch is not None:
            scratch.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
