"""The real `catalog serve` in a subprocess on a free loopback port, for the API and browser tests.

The server encodes photos with the tests' FakeEncoder, plugged in the way a user plugs in another
encoder ($CATALOG_ENCODER), so a photo query costs milliseconds instead of loading TensorFlow
(`SlowEncoder`: the same vectors, a second and a half per photo, to fill the photo queue).
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

from tests.conftest import FAKE_ENCODER, FakeEncoder
from tests.query_fixture import query_db  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SlowEncoder(FakeEncoder):
    """FakeEncoder's vectors (so it fits a database FakeEncoder made), 1.5 s per photo."""

    def encode(self, pixels):
        time.sleep(1.5)
        return super().encode(pixels)


SLOW_ENCODER = "tests.server_fixture:SlowEncoder"


class Server:
    def __init__(self, process: subprocess.Popen, url: str, db: Path, token: str | None = None):
        self.process, self.url, self.db, self.token = process, url, db, token
        self.output = ""  # what the server printed, once it has stopped

    def get(self, path: str, headers: dict | None = None, auth: bool = True, **kwargs):
        """A request; with the server's token unless `auth=False` or the headers say otherwise."""
        headers = dict(headers or {})
        if self.token and auth:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return fetch(self.url + path, headers=headers, **kwargs)


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
def serving(db: Path, *extra: str, encoder: str | None = FAKE_ENCODER, token: str | None = None):
    """`catalog serve --db DB` on a free port until the block ends (its output goes to the test log,
    and to `Server.output` after the block). `token`: given as $CATALOG_TOKEN, as a team would."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("CATALOG_ENCODER", None)
    env.pop("CATALOG_TOKEN", None)
    if encoder:
        env["CATALOG_ENCODER"] = encoder
    if token:
        env["CATALOG_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "-m", "catalog", "serve", "--db", str(db), "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    server = Server(process, url, db, token)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise AssertionError(f"catalog serve exited {process.returncode}: {process.stdout.read()}")
            try:
                if fetch(url + "/healthz", timeout=5)[0] == 200:  # no token needed: what a probe asks
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("catalog serve did not answer within 90 s")
            time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        server.output = output or ""
        sys.stdout.write(server.output)


@pytest.fixture(scope="session")
def server(query_db):  # noqa: F811
    """One server over the shared read-only query database, for every test that only reads."""
    with serving(query_db.path, "--max-upload-mb", "1") as running:
        yield running
