"""What an orchestrator and a dashboard read: `/healthz`, `/metrics` (Prometheus text format, with
`prometheus-client`) and one access-log line per request (JSON lines, on stderr).

Several workers (`catalog serve --workers N`) are N processes, each with its own counters: the
CLI points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder before they start, each worker writes its
values there (prometheus-client's multiprocess mode, memory-mapped files), and whichever worker
answers a scrape sums them, so `/metrics` is the server's, not one worker's. One worker keeps its
values in memory as usual. Gauges say how they combine across workers (`multiprocess_mode`):
photo encodes in flight add up; the run served and when it was loaded take the oldest worker's, so
a worker that has not moved to a new run yet shows.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from urllib.parse import parse_qsl, urlencode

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily

# No `_created` series beside every counter and histogram: a sample per series that no dashboard reads.
disable_created_metrics()

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter(
    "catalog_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "catalog_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template.",
    ["route"],
    # From a memory lookup (~1 ms) to a cold photo encode (seconds).
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ENCODING = Gauge("catalog_photo_encodes_in_flight", "Photos being encoded now.", multiprocess_mode="livesum")
WAITING = Gauge("catalog_photo_encodes_waiting", "Photo requests waiting for the encoder.", multiprocess_mode="livesum")
REFUSED = Counter("catalog_photo_encodes_refused", "Photo requests refused with 503: the queue was full.")
_RUN_GAUGES: dict[str, Gauge] = {}


def _run_gauges() -> dict[str, Gauge]:
    """The gauges about the run served, made on a worker's first look at its run: a gauge exists
    (at 0) from when it is made, and a worker still loading would pull the oldest-worker values to 0."""
    if not _RUN_GAUGES:
        _RUN_GAUGES.update(
            run=Gauge(
                "catalog_run",
                "The committed run being served (the oldest any worker serves).",
                multiprocess_mode="livemin",
            ),
            created=Gauge(
                "catalog_run_created_timestamp_seconds",
                "When the run being served was committed, Unix time.",
                multiprocess_mode="livemin",
            ),
            loaded=Gauge(
                "catalog_snapshot_loaded_timestamp_seconds",
                "When the run being served was opened and copied into memory, Unix time (the oldest worker's).",
                multiprocess_mode="livemin",
            ),
            products=Gauge("catalog_products", "Products in the run being served.", multiprocess_mode="livemin"),
        )
    return _RUN_GAUGES


ACCESS = logging.getLogger("catalog.access")


def observe_run(catalog) -> None:
    """Set the run gauges from what `catalog` serves now (a thread: it may look at the commit log)."""
    run, products = catalog.last_run, catalog.info().products  # info: measured once per run
    gauges = _run_gauges()
    gauges["run"].set(run.run)
    if hasattr(run.created_at, "timestamp"):
        gauges["created"].set(run.created_at.timestamp())
    gauges["loaded"].set(catalog.loaded_at)
    gauges["products"].set(products)


class _WithAge:
    """The collected metrics, plus `catalog_snapshot_age_seconds` computed at scrape time from the
    (oldest) load time: an age that only a scrape can know, in every worker mode."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        loaded = []
        for family in self.source.collect():
            if family.name == "catalog_snapshot_loaded_timestamp_seconds":
                loaded += [sample.value for sample in family.samples if sample.value > 0]
            yield family
        if loaded:
            yield GaugeMetricFamily(
                "catalog_snapshot_age_seconds",
                "Seconds since the run being served was copied into memory (the oldest worker's).",
                value=round(time.time() - min(loaded), 3),
            )


def metrics_text() -> tuple[bytes, str]:
    """The Prometheus text exposition of this server (every worker's, summed, in multiprocess mode)."""
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_WithAge(registry))
    return generate_latest(scrape), CONTENT_TYPE_LATEST


def forget_dead_workers() -> None:
    """Drop the live gauges of worker processes that are gone (a restarted worker has a new pid):
    prometheus-client keeps a dead pid's files until told."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    from prometheus_client import multiprocess

    pids = set()
    for name in os.listdir(folder):
        if name.startswith("gauge_live") and name.endswith(".db"):
            pid = name.rsplit("_", 1)[-1].removesuffix(".db")
            if pid.isdigit():
                pids.add(int(pid))
    for pid in pids:
        if not _alive(pid):
            multiprocess.mark_process_dead(pid, folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Observe:
    """ASGI middleware (outermost): counts and times every request by its route template, and
    writes its access-log line when asked for (`catalog serve --access-log`)."""

    def __init__(self, app, access_log: bool = False):
        self.app, self.access_log = app, access_log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status, size, recorded = 500, 0, False

        def record() -> None:
            nonlocal recorded
            recorded = True
            seconds = time.perf_counter() - started
            route = _route(scope)
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            LATENCY.labels(route).observe(seconds)
            if self.access_log:
                _log(scope, route, status, size, seconds)

        async def sending(message):
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                # Counted before the last bytes leave: a client that has its answer and then
                # scrapes /metrics (from any worker) finds the request counted.
                if not message.get("more_body", False) and not recorded:
                    record()
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if not recorded:  # no complete answer (an error before one, a client gone)
                record()


def _route(scope) -> str:
    """The route template (`/api/similar/{id}`), never the raw path: one time series per route,
    however many ids are asked for. Requests no route took (404s, 401s before routing) share one."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "(none)"


def _log(scope, route: str, status: int, size: int, seconds: float) -> None:
    client = scope.get("client") or ("", 0)
    now = time.time()
    line = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z",
        "method": scope["method"],
        "path": scope.get("root_path", "") + scope["path"],
        "query": redact_query(scope.get("query_string", b"")),
        "route": route,
        "status": status,
        "bytes": size,
        "ms": round(seconds * 1000, 2),
        "client": client[0],
        "pid": os.getpid(),
    }
    ACCESS.info(json.dumps(line, ensure_ascii=False))


def redact_query(query_string: bytes) -> str:
    """The query string with any `token` parameter's value replaced: a `?token=` link is how a
    person enters, and an access log is read by more people than the token is for."""
    if not query_string:
        return ""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return urlencode([(name, "REDACTED" if name.lower() == "token" else value) for name, value in pairs])


def configure_access_log() -> None:
    """Access-log lines go to stderr as they are (each already one JSON document)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS.handlers[:] = [handler]
    ACCESS.setLevel(logging.INFO)
    ACCESS.propagate = False
