"""The real `catalog serve` in a subprocess on a free loopback port, for the API and browser tests.

The server encodes photos with the tests' FakeEncoder, plugged in the way a user plugs in another
encoder ($CATALOG_ENCODER), so a photo query costs milliseconds instead of loading TensorFlow.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import FAKE_ENCODER
from tests.query_fixture import query_db  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, url: str, db: Path):
        self.process, self.url, self.db = process, url, db

    def get(self, path: str, **kwargs):
        return fetch(self.url + path, **kwargs)


def fetch(
    url: str, data: bytes | None = None, headers: dict | None = None, method: str | None = None, timeout: float = 30
):
    """(status, headers, body) of one request; 4xx/5xx are answers too, not exceptions."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str):
    status, _, body = fetch(url)
    return status, json.loads(body)


@contextmanager
def serving(db: Path, *extra: str, encoder: str | None = FAKE_ENCODER):
    """`catalog serve --db DB` on a free port until the block ends (its output goes to the test log)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("CATALOG_ENCODER", None)
    if encoder:
        env["CATALOG_ENCODER"] = encoder
    process = subprocess.Popen(
        [sys.executable, "-m", "catalog", "serve", "--db", str(db), "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"catalog serve exited {process.returncode}: {process.stdout.read()}")
            try:
                if fetch(url + "/api/info", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("catalog serve did not answer within 60 s")
            time.sleep(0.2)
        yield Server(process, url, db)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        sys.stdout.write(output or "")


@pytest.fixture(scope="session")
def server(query_db):  # noqa: F811
    """One server over the shared read-only query database, for every test that only reads."""
    with serving(query_db.path, "--max-upload-mb", "1") as running:
        yield running
