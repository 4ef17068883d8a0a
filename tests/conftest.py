"""Shared fixtures: a tiny demo catalog on disk and a fast fake image encoder for CLI tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from catalog.core.columns import IMAGE_DIM


def product_rows(db) -> dict[int, dict]:
    """The committed products rows by id (a folder or s3:// database), each with its `thumbnail`
    from the photos table (None without a photo), as a user of `Catalog.thumbnails` sees it."""
    from catalog.query.search import thumbnails
    from catalog.store.database import Store

    store = Store.open(db)
    rows = store.table("products").to_arrow().to_pylist()
    assert len(rows) == len({r["id"] for r in rows})  # never a duplicate id
    found = thumbnails(store, [r["id"] for r in rows])
    return {r["id"]: {**r, "thumbnail": found.get(r["id"])} for r in rows}


@dataclass(frozen=True)
class FakeEncoderInfo:
    weights: str
    seed: int
    image_size: int
    head_sha256: str

    @property
    def id(self) -> str:
        return f"fake/{self.weights}/seed{self.seed}/{self.image_size}px"


class FakeEncoder:
    """Colour layout -> fixed random projection: cheap, deterministic, and photos that look alike stay alike.

    Plugged in through the encoder seam (`CATALOG_ENCODER=tests.conftest:FakeEncoder`, what
    `Catalog(encoder=...)` is for the library). It also saves a "head", like the Keras encoder, so
    the database records it the way it records a real one.
    """

    calls = 0  # images encoded, across instances: tests assert what was (not) re-encoded

    def __init__(self, weights="random", seed=0, image_size=64, head_path=None):
        self.info = FakeEncoderInfo(weights, seed, image_size, hashlib.sha256(f"head{seed}".encode()).hexdigest())
        self.projection = np.random.default_rng(seed).normal(size=(4 * 4 * 3, IMAGE_DIM)).astype(np.float32)

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def image_size(self) -> int:
        return self.info.image_size

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        FakeEncoder.calls += len(pixels)
        n, h, w, _ = pixels.shape
        blocks = pixels.reshape(n, 4, h // 4, 4, w // 4, 3).mean(axis=(2, 4)).reshape(n, -1) / 255.0
        return np.maximum(blocks @ self.projection, 0).astype(np.float32)

    def save_head(self, path: Path) -> None:
        Path(path).write_bytes(self.info.head_sha256.encode())


FAKE_ENCODER = "tests.conftest:FakeEncoder"  # the CLI's encoder seam: CATALOG_ENCODER=module:factory


@pytest.fixture
def fake_encoder(monkeypatch):
    """Every CLI command of the test encodes with FakeEncoder, plugged in through $CATALOG_ENCODER."""
    FakeEncoder.calls = 0
    monkeypatch.setenv("CATALOG_ENCODER", FAKE_ENCODER)
    return FakeEncoder


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory):
    """A 120-product demo catalog with 64-px photos (with the real file's quirks)."""
    from catalog.demo import make_demo_catalog

    return make_demo_catalog(tmp_path_factory.mktemp("demo"), count=120, seed=1, image_size=64)


FAST_INGEST = ["--weights", "random", "--image-size", "64", "--walks", "10", "--walk-length", "10"]


def run_cli(*args, ok=True, env=None):
    """Run `catalog ARGS...` in-process; with ok=True, fail the test on a non-zero exit."""
    from click.testing import CliRunner

    from catalog.cli.main import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on a free loopback port, for the whole session (tests/s3_server.py)."""
    from tests.s3_server import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A fresh bucket; the standard AWS variables point this process and its children at the server."""
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return s3_server.new_bucket()


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster (2 CPUs) for the session: starting Ray takes seconds, so tests share it."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


# Headless Chromium as the tests run it (tests/test_html.py, tests/test_browser.py): no sandbox (tests
# run as root in CI), and nothing that reaches the network on its own (updates, sync, first-run pages).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
