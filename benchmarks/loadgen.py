"""A bounded HTTP load generator for loopback benchmarks: N keep-alive clients, closed loop.

Each client sends one GET, waits for the whole response, records its latency and sends the next,
until the duration is up (or a request cap is reached). Plain asyncio streams with a minimal
HTTP/1.1 reader, so the generator costs little CPU beside the server on a 2-core machine (an
httpx client would spend more CPU than the server it measures).

Only loopback addresses are accepted: this is for measuring a server started on this machine.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import numpy as np


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, of successful requests
    seconds: float = 0.0

    def summary(self) -> dict:
        lat = np.asarray(self.latencies) * 1000
        pct = (lambda q: round(float(np.percentile(lat, q)), 1)) if len(lat) else (lambda q: None)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "seconds": round(self.seconds, 2),
            "throughput_rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(50),
            "p90_ms": pct(90),
            "p99_ms": pct(99),
            "max_ms": round(float(lat.max()), 1) if len(lat) else None,
        }


def check_loopback(host: str) -> None:
    address = ipaddress.ip_address(socket.gethostbyname(host))
    if not address.is_loopback:
        raise SystemExit(f"refusing to load {host}: this benchmark only targets loopback addresses")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _client(
    host: str, port: int, paths, deadline: float, cap: list[int], result: LoadResult, seed: int, extra: str = ""
):
    rng = np.random.default_rng(seed)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline and cap[0] > 0:
            cap[0] -= 1
            path = paths(rng)
            request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n{extra}\r\n".encode()
            started = time.perf_counter()
            try:
                writer.write(request)
                status = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 400:
                result.latencies.append(time.perf_counter() - started)
            else:
                result.errors += 1
    finally:
        writer.close()


async def _run(
    url: str, groups: list[tuple[object, int]], seconds: float, max_requests: int, headers: dict[str, str]
) -> list[LoadResult]:
    parts = urlsplit(url)
    check_loopback(parts.hostname)
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    results = [LoadResult() for _ in groups]
    cap = [max_requests]
    started = time.perf_counter()
    deadline = started + seconds
    clients = []
    for (paths, count), result in zip(groups, results):
        seed = len(clients)
        clients += [
            _client(parts.hostname, parts.port, paths, deadline, cap, result, seed + i, extra) for i in range(count)
        ]
    await asyncio.gather(*clients)
    for result in results:
        result.seconds = time.perf_counter() - started
    return results


def run_load(
    url: str,
    paths,
    clients: int = 50,
    seconds: float = 30.0,
    max_requests: int = 1_000_000,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """`paths(rng) -> "/api/…"` picks each request's path; at most `max_requests` in `seconds`;
    `headers` go with every request (an `Authorization`, say)."""
    return asyncio.run(_run(url, [(paths, clients)], seconds, max_requests, headers or {}))[0]


def run_mixed(
    url: str, groups: list[tuple[object, int]], seconds: float = 30.0, headers: dict[str, str] | None = None
) -> list[LoadResult]:
    """Several groups of clients at once, `(paths, clients)` each, measured apart: one result per group."""
    return asyncio.run(_run(url, groups, seconds, 1_000_000, headers or {}))
