"""Benchmark a full ingest (`ingest.pipeline.ingest`): time and resident memory per stage.

    python -m benchmarks.ingest --products 44446 --images 1000,3000 --json
    python -m benchmarks.ingest --products 3000 --images 3000 --json      # every product with a photo
    python -m benchmarks.ingest --products 100000 --images 100000 --photo-size 64x80 --encoder stand-in --json
    python -m benchmarks.ingest --products 20000 --images 20000 --photo-size 64x80 --image-size 64 --engine ray --json

Writes a synthetic catalog (benchmarks.synthetic styles, `--products` rows, as styles.csv) and
synthetic JPEG photos for the first N products, then ingests it into a fresh database with
`--weights random` at the default 256-pixel image size, each N in its own process (peak RSS is
per process). Products without a photo go through every stage but the encoder, so a run with
the full 44,446 rows measures the graph, linker and write stages at full scale while encoding
only N photos. Encoding all 44k photos on 2 cores takes over an hour, so the memory of a full
ingest with every photo is extrapolated: the runs with different N give the memory each
additional photo costs (thumbnail, vector, bookkeeping), and the fit is evaluated at N = 44,446.

Prints one JSON line: runs (per N: seconds and peak RSS per stage, peak_rss_mb of the process,
baseline_rss_mb after generating the catalog), and, from two or more runs, each stage's peak
RSS fitted linearly in N (extrapolated_by_stage: MB per photo, and the value at 44,446) with the
largest as extrapolated_peak_rss_mb.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil

from benchmarks.encode import synthetic_photos
from benchmarks.synthetic import synthetic_styles
from catalog.core.columns import DISPLAY_COLUMNS

FULL_CATALOG = 44446


class StandInEncoder:
    """A fast stand-in for ResNet50, plugged in through the encoder seam (`ingest(..., encoder=)`), so
    a run with 100k photos measures the pipeline (decoding, thumbnails, features, photos table, linker,
    write), not the model: 64-pixel photos -> 4x4 mean colours -> a fixed random projection to 128-d."""

    id = "benchmark-stand-in-4x4-v1"
    image_size = 64

    def __init__(self):
        self._projection = np.random.default_rng(0).standard_normal((48, 128)).astype(np.float32)

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        cells = np.asarray(pixels, np.float32).reshape(len(pixels), 4, 16, 4, 16, 3).mean(axis=(2, 4))
        return np.maximum(cells.reshape(len(pixels), 48) / 255 @ self._projection, 0).astype(np.float32)


class MemoryReporter:
    """An ingest Reporter that times each stage and samples this process's RSS while it runs."""

    def __init__(self, interval: float = 0.05, log_every: float | None = None):
        self.log_every = log_every  # seconds between progress lines on stderr (None: silent)
        self.stage_name = "between stages"  # the pipeline's own work outside a reported stage (e.g. writing)
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}  # process CPU time (all threads) per stage
        self.peak_mb: dict[str, float] = {}
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._sampler.start()

    def _sample(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._record()

    def _record(self) -> None:
        mb = self._process.memory_info().rss / 2**20
        self.peak_mb[self.stage_name] = max(self.peak_mb.get(self.stage_name, 0.0), mb)

    def _log(self, text: str) -> None:
        if self.log_every is not None:
            mb = self._process.memory_info().rss / 2**20
            print(
                f"{time.strftime('%H:%M:%S')} {text} (rss {mb:.0f} MB, load {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
                flush=True,
            )

    @contextmanager
    def stage(self, name: str, total: int | None):
        self._record()
        previous, self.stage_name = self.stage_name, name
        started = time.perf_counter()
        cpu_started = _cpu_seconds()
        done = 0
        last_log = started
        self._log(f"{name}: started, total {total}")

        def progress(n: int = 1) -> None:
            # A long run (the full catalog with every photo) must show how far it got if it is stopped.
            nonlocal done, last_log
            done += n
            now = time.perf_counter()
            if self.log_every is not None and now - last_log >= self.log_every:
                last_log = now
                self._log(f"{name}: {done}/{total} after {now - started:.0f} s ({done / (now - started):.2f}/s)")

        try:
            yield progress
        finally:
            self._record()
            elapsed = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + elapsed
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + _cpu_seconds() - cpu_started
            self._log(f"{name}: done, {done} units in {elapsed:.1f} s")
            self.stage_name = previous  # back to the pipeline's own work between stages

    def close(self) -> None:
        self._stop.set()
        self._sampler.join()
        self._record()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def write_catalog(folder: Path, products: int, photos: int, photo_size: tuple[int, int]) -> tuple[Path, Path]:
    """styles.csv for `products` synthetic rows and JPEGs for the first `photos` of them."""
    styles = synthetic_styles(products)
    images = folder / "images"
    images.mkdir(parents=True)
    ids = synthetic_photos(images, photos, width=photo_size[0], height=photo_size[1])
    # synthetic_photos numbers its files from 10,000; give the first rows those ids.
    styles["id"] = np.arange(ids[0] if ids else 10_000, (ids[0] if ids else 10_000) + products)
    csv_path = folder / "styles.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(DISPLAY_COLUMNS)
        writer.writerows(styles[list(DISPLAY_COLUMNS)].itertuples(index=False))
    return csv_path, images


def kept_catalog(folder: Path, products: int, photos: int, photo_size: tuple[int, int]) -> tuple[Path, Path]:
    """The catalog in `folder` (styles.csv, images/), written by a separate process unless the same
    recipe is already there: at 10M rows, generating it costs more memory than the ingest measured."""
    recipe = json.dumps({"products": products, "photos": photos, "photo_size": list(photo_size)})
    marker = folder / "recipe.json"
    if not (marker.exists() and marker.read_text() == recipe):
        shutil.rmtree(folder, ignore_errors=True)
        code = (
            "import sys; from pathlib import Path; from benchmarks.ingest import write_catalog; "
            f"write_catalog(Path(sys.argv[1]), {products}, {photos}, {tuple(photo_size)!r})"
        )
        subprocess.run([sys.executable, "-c", code, str(folder)], check=True)
        marker.write_text(recipe)
    shutil.rmtree(folder / "db", ignore_errors=True)
    return folder / "styles.csv", folder / "images"


def run_once(
    products: int,
    photos: int,
    photo_size: tuple[int, int],
    log_every: float | None = None,
    rebuild_after: bool = False,
    encoder: str = "keras",
    keep: Path | None = None,
    engine: str = "local",
    image_size: int | None = None,
) -> dict:
    """One ingest in this process (then, with `rebuild_after`, one `catalog rebuild`); the figures for one N.

    With `keep`, the catalog is written there by another process (or reused) and the database is
    left at `keep`/db for the searches and the server to be measured on it."""
    from ingest.pipeline import IngestOptions, ingest, rebuild

    with tempfile.TemporaryDirectory(prefix="catalog-ingest-") as scratch:
        folder = Path(scratch) if keep is None else keep
        started = time.perf_counter()
        if keep is None:
            csv_path, images = write_catalog(folder, products, photos, photo_size)
        else:
            csv_path, images = kept_catalog(folder, products, photos, photo_size)
        generate_seconds = time.perf_counter() - started
        baseline_mb = psutil.Process().memory_info().rss / 2**20
        reporter = MemoryReporter(log_every=log_every)
        reporter._log(f"catalog written in {generate_seconds:.0f} s: {products} rows, {photos} photos")
        started = time.perf_counter()
        cpu_started = _cpu_seconds()
        try:
            stand_in = StandInEncoder() if encoder == "stand-in" else None
            options = IngestOptions(weights="random", engine=engine, image_size=image_size)
            report = ingest(folder / "db", csv_path, images, options, reporter, stand_in)
        finally:
            reporter.close()
        total_seconds = time.perf_counter() - started
        total_cpu_seconds = _cpu_seconds() - cpu_started
        rebuilt = {}
        if rebuild_after:
            # What a user runs after a large import: graph space and linker retrained on the
            # stored vectors, no photo encoded.
            reporter = MemoryReporter(log_every=log_every)
            started = time.perf_counter()
            cpu_started = _cpu_seconds()
            try:
                again = rebuild(folder / "db", IngestOptions(weights="random"), reporter)
            finally:
                reporter.close()
            rebuilt = {
                "rebuild_seconds": round(time.perf_counter() - started, 1),
                "rebuild_cpu_seconds": round(_cpu_seconds() - cpu_started, 1),
                "rebuild_pipeline_seconds": {k: round(v, 1) for k, v in again.seconds.items()},
                "rebuild_stage_peak_rss_mb": {k: round(v) for k, v in reporter.peak_mb.items()},
            }
    return {
        "products": report.products,
        "photos": photos,
        "seconds": round(total_seconds, 1),
        "pipeline_seconds": {k: round(v, 1) for k, v in report.seconds.items()},
        # CPU time (all threads) beside wall time: on a shared machine the wall figures stretch.
        "cpu_seconds": round(total_cpu_seconds, 1),
        "stage_seconds": {k: round(v, 1) for k, v in reporter.seconds.items()},
        "stage_cpu_seconds": {k: round(v, 1) for k, v in reporter.cpu_seconds.items()},
        "stage_peak_rss_mb": {k: round(v) for k, v in reporter.peak_mb.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "baseline_rss_mb": round(baseline_mb),
        "generate_seconds": round(generate_seconds, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "encoder": encoder,
        "engine": engine,  # ray: this process is the driver (its RSS is the driver's; the workers' are not in it)
        "image_size": image_size,
        "linker_sample": (report.run.linker.get("sample") if report.run else None),
        **rebuilt,
    }


def extrapolate(runs: list[dict], photos: int) -> dict:
    """Fit each stage's peak RSS linearly in the number of photos and evaluate it at `photos`.

    Per stage, because the stages peak for different reasons: the encoder holds the model (fixed)
    plus the thumbnails and vectors so far (per photo); the graph stage holds walks (per product,
    the same in every run) plus everything encoded before it.
    """
    counts = np.array([r["photos"] for r in runs], float)
    stages = set.intersection(*(set(r["stage_peak_rss_mb"]) for r in runs))
    fits = {}
    for stage in sorted(stages):
        peaks = np.array([r["stage_peak_rss_mb"][stage] for r in runs], float)
        slope, intercept = np.polyfit(counts, peaks, 1)
        if slope < 0:  # more photos cannot need less memory: noise, so the stage is taken as flat
            slope, intercept = 0.0, peaks.max()
        fits[stage] = {
            "mb_per_photo": round(float(slope), 4),
            "at_full_catalog_mb": round(float(intercept + slope * photos)),
        }
    worst = max(fits, key=lambda stage: fits[stage]["at_full_catalog_mb"])
    return {
        "extrapolated_to_photos": photos,
        "extrapolated_by_stage": fits,
        "extrapolated_peak_rss_mb": fits[worst]["at_full_catalog_mb"],
        "extrapolated_peak_stage": worst,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--products", type=int, default=FULL_CATALOG, help=f"rows in styles.csv (default {FULL_CATALOG})"
    )
    parser.add_argument(
        "--images",
        default="1000,3000",
        help="photos per run, comma-separated; each run is a separate process (default 1000,3000)",
    )
    parser.add_argument("--photo-size", default="300x400", help="synthetic photo WxH before resizing (default 300x400)")
    parser.add_argument(
        "--log-every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="print stage progress with RSS to stderr this often (for long runs)",
    )
    parser.add_argument("--rebuild", action="store_true", help="also time `catalog rebuild` on each database")
    parser.add_argument(
        "--encoder",
        choices=["keras", "stand-in"],
        default="keras",
        help="keras: ResNet50 + head, --weights random; stand-in: a fast encoder through the seam (the pipeline's cost)",
    )
    parser.add_argument(
        "--engine", choices=["local", "ray"], default="local", help="ingest --engine (ray: a local cluster)"
    )
    parser.add_argument("--image-size", type=int, help="ingest --image-size (default the encoder's 256)")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="FOLDER",
        help="write the catalog here in a separate process (reused if it is the same) and keep the database "
        "at FOLDER/db (one --images count only)",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child process: one run
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    photo_size = tuple(int(v) for v in args.photo_size.lower().split("x"))
    counts = [int(v) for v in args.images.split(",")]

    if args.one:
        figures = run_once(
            args.products,
            counts[0],
            photo_size,
            args.log_every,
            args.rebuild,
            args.encoder,
            args.keep,
            args.engine,
            args.image_size,
        )
        print(json.dumps(figures))
        return
    if args.keep is not None and len(counts) > 1:
        parser.error("--keep keeps one database: give one --images count")

    runs = []
    for count in counts:
        command = [
            sys.executable,
            "-m",
            "benchmarks.ingest",
            "--one",
            "--products",
            str(args.products),
            "--images",
            str(count),
            "--photo-size",
            args.photo_size,
        ]
        if args.log_every is not None:
            command += ["--log-every", str(args.log_every)]
        if args.rebuild:
            command.append("--rebuild")
        command += ["--encoder", args.encoder, "--engine", args.engine]
        if args.image_size:
            command += ["--image-size", str(args.image_size)]
        if args.keep is not None:
            command += ["--keep", str(args.keep.resolve())]
        finished = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        runs.append(json.loads(finished.stdout.strip().splitlines()[-1]))
        if not args.json:
            print(f"{count} photos: {runs[-1]['seconds']} s, peak {runs[-1]['peak_rss_mb']} MB", file=sys.stderr)

    result: dict = {"runs": runs}
    if len(runs) >= 2:
        result.update(extrapolate(runs, FULL_CATALOG))
    result["target_peak_rss_mb"] = 8192
    print(json.dumps(result))


if __name__ == "__main__":
    main()
