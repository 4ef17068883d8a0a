"""`catalog serve` run for a team, under load: 1 and 2 workers, with and without a token, and the
p99 of /api/similar while other clients keep sending new --where filters (this code and, with
--before, an older checkout of it). Loopback only, bounded in time (benchmarks/loadgen.py).

    python -m benchmarks.serve_team --db /tmp/serve-44k --seconds 20 --json
    python -m benchmarks.serve_team --db /tmp/serve-44k --before /tmp/catalog-before --json

The database is `benchmarks.serve`'s 44,446-product synthetic catalog (built once into --db and
reused). Every run starts its own server, warms it for 3 s, then measures: throughput and latency
percentiles per group of clients, the server's CPU time per request (all its processes), and each
worker's memory (RSS, and USS: the pages only that process holds; PSS splits shared ones).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import psutil

from benchmarks.loadgen import run_mixed
from benchmarks.search import open_or_build
from benchmarks.serve import ROOT, free_port, machine
from catalog.store.index import ROWS_THRESHOLD

TOKEN = "benchmark-token-0123456789abcdef"


class TeamServer:
    """`catalog serve` from a checkout (`root`), with `extra` options, until stopped."""

    def __init__(self, db: Path, *extra: str, token: str | None = None, root: Path = ROOT):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        env = {k: v for k, v in os.environ.items() if k not in ("CATALOG_TOKEN", "PYTHONPATH")}
        env["PYTHONPATH"] = str(root)
        if token:
            env["CATALOG_TOKEN"] = token
        command = [sys.executable, "-m", "catalog", "serve", "--db", str(db), "--port", str(self.port), *extra]
        self.process = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.ps = psutil.Process(self.process.pid)
        self.workers = int(extra[extra.index("--workers") + 1]) if "--workers" in extra else 1
        deadline = time.monotonic() + 300
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"catalog serve exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                request = urllib.request.Request(self.url + "/api/info", headers=self.headers)
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200 and len(self.worker_processes()) >= self.workers:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("catalog serve did not start within 300 s")
            time.sleep(0.5)
        time.sleep(2)  # the other workers finish loading too

    def worker_processes(self) -> list[psutil.Process]:
        """The processes that answer requests: the server itself, or its spawned workers."""
        children = [c for c in self.ps.children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]
        return children or [self.ps]

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in [self.ps, *self.ps.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def memory(self) -> list[dict]:
        """Per worker, in MB: RSS, PSS, USS."""
        found = []
        for process in self.worker_processes():
            info = process.memory_full_info()
            found.append({k: round(getattr(info, k) / 2**20, 1) for k in ("rss", "pss", "uss")})
        return found

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def measure(server: TeamServer, groups: dict[str, tuple[object, int]], seconds: float) -> dict:
    names = list(groups)
    run_mixed(server.url, list(groups.values()), seconds=min(3.0, seconds), headers=server.headers)  # warm-up
    cpu = server.cpu_seconds()
    results = run_mixed(server.url, list(groups.values()), seconds=seconds, headers=server.headers)
    requests = sum(r.requests for r in results)
    found = {name: result.summary() for name, result in zip(names, results)}
    found["server_cpu_ms_per_request"] = round((server.cpu_seconds() - cpu) * 1000 / max(1, requests), 2)
    found["memory_mb_per_worker"] = server.memory()
    found["load_average_after"] = round(os.getloadavg()[0], 2)
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="the synthetic database's folder (built if missing)")
    parser.add_argument("--rows", type=int, default=44446)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--filter-clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measured run (default 20)")
    parser.add_argument(
        "--before", type=Path, help="a checkout of the code before this change: its filter-churn run too"
    )
    parser.add_argument("--only", help="comma-separated run names (default: all)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    db, vectors, _ = open_or_build(args.db, args.rows, ROWS_THRESHOLD)
    with_photo = np.flatnonzero(vectors["has_image"]) + 1  # row i holds id i + 1

    def similar(rng) -> str:
        return f"/api/similar/{with_photo[rng.integers(len(with_photo))]}?k=6"

    def new_filter(rng) -> str:
        # A filter not seen before (almost surely: 22k choices, 64 kept), matching about half the products.
        where = urllib.parse.quote(f"id > {int(rng.integers(1, args.rows // 2))}")
        return f"/api/similar/{with_photo[rng.integers(len(with_photo))]}?k=6&where={where}"

    plain = {"api_similar": (similar, args.clients)}
    churn = {"api_similar": (similar, args.clients), "new_filters": (new_filter, args.filter_clients)}
    runs = {
        "workers_1": ((), None, plain, ROOT),
        "workers_2": (("--workers", "2"), None, plain, ROOT),
        "workers_1_token": ((), TOKEN, plain, ROOT),
        "workers_2_token": (("--workers", "2"), TOKEN, plain, ROOT),
        "filters_workers_1": ((), None, churn, ROOT),
    }
    if args.before:
        runs["filters_workers_1_before"] = ((), None, churn, args.before.resolve())
    if args.only:
        runs = {name: runs[name] for name in args.only.split(",")}
    result = {
        "rows": args.rows,
        "seconds": args.seconds,
        "machine": machine(),
        "load_average_before": round(os.getloadavg()[0], 2),
    }
    for name, (extra, token, groups, root) in runs.items():
        server = TeamServer(db, *extra, token=token, root=root)
        try:
            result[name] = measure(server, groups, args.seconds)
        finally:
            server.stop()
        if not args.json:
            print(name, json.dumps(result[name]), file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
