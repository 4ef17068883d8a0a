"""The image encoder on OpenVINO: the Keras model converted once, stored, and run without TensorFlow.

Keras builds ResNet50 and the head exactly as `catalog.models.encoder.ImageEncoder` always has;
`export` converts that model with `openvino.convert_model` (~4 s) into one file, which the database
keeps beside the head weights (`model_key`). Any later process, a query, `catalog serve` or an
incremental ingest, reads that file and compiles it in a fraction of a second without importing
TensorFlow (~3.5 s) or building ResNet50 (~4 s). Why OpenVINO and these settings: the measurements
in benchmarks/README.md ("Encoding on an inference runtime") and the README's dependency notes.

- **Precision.** `f32` gives the Keras encoder's vectors (cosine >= 0.9999, tests/test_runtime.py)
  and keeps its id. `bf16` (`INFERENCE_PRECISION_HINT`: bfloat16 multiplies on AVX512-BF16 or AMX,
  half the CPU per photo of f32 here) gives different vectors, so it is another encoder with its
  own id (`EncoderInfo.id` ends in `/openvino-bf16`). It is what a new database gets where the
  processor has it (`default_precision`), after `catalog eval` measured it beside f32
  (docs/quality.md, "bf16 beside f32").
- **One photo per request, one request per core.** Each photo is inferred alone (a static batch
  of 1), so its vector never depends on which photos shared its batch: a photo queried alone gets
  exactly the vector it got during ingest. Throughput comes from running one request per core at
  once (OpenVINO streams, one thread each), which measured faster than batches of 16 on two
  threads (benchmarks/README.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from queue import SimpleQueue

import numpy as np

from catalog.core.columns import IMAGE_DIM
from catalog.core.errors import CatalogError

# Names the file's layout and the conversion; part of every model file's key, so a change to
# either makes new files instead of reading old ones wrongly.
FORMAT = "catalog-openvino-ir-1"
MAGIC = b"CATALOG-OPENVINO\n"
ALIGN = 64  # the weights start on a 64-byte boundary inside the file
PRECISIONS = ("f32", "bf16")
# What a new database is encoded with where the processor multiplies in bf16 and OpenVINO encodes
# on the CPU (`default_precision`): bf16 runs ~2x the photos of f32 per CPU second, and `catalog
# eval` found no column that loses more than .01 with it on the 3,000-product demo and the held-out
# family (docs/quality.md, "bf16 beside f32"); f32 everywhere else.
DEFAULT_PRECISION = "bf16"
# The processor flags (Linux /proc/cpuinfo) of a bf16 multiply: AVX512-BF16 (Zen 4/5, Cooper Lake)
# or AMX (Sapphire Rapids and later); what OpenVINO reports as its "BF16" capability on x86.
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
HINTS = {"f32": "f32", "bf16": "bf16"}  # catalog's name -> OpenVINO's INFERENCE_PRECISION_HINT


def precision_suffix(precision: str) -> str:
    """What a precision adds to an encoder id: nothing for f32 (the Keras encoder's own vectors)."""
    return "" if precision == "f32" else f"/openvino-{precision}"


def default_precision(engine: str = "local") -> str:
    """The precision a new database is encoded in, decided on this machine without importing
    OpenVINO: bf16 where this processor multiplies in bf16 and the CPU encodes; f32 with a GPU
    (Keras encodes there, in f32), with CATALOG_RUNTIME=keras, on a processor without bf16, and for
    `--engine ray`, whose workers may be other machines (or GPUs) than this one."""
    from catalog.models.encoder import gpu_possible

    # keras_requested("f32"): whether CATALOG_RUNTIME=keras is set (it never refuses f32).
    if engine != "local" or gpu_possible() or keras_requested("f32"):
        return "f32"
    return DEFAULT_PRECISION if cpu_has_bf16() else "f32"


def cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in BF16_FLAGS)
    except OSError:
        pass  # not Linux: f32 (OpenVINO's bf16 on other systems is not measured here)
    return False


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise CatalogError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    return precision


def keras_requested(precision: str) -> bool:
    """CATALOG_RUNTIME=keras: encode with the Keras model as before OpenVINO (f32 only), for a
    side-by-side measurement or on a platform where OpenVINO fails."""
    if os.environ.get("CATALOG_RUNTIME", "openvino") != "keras":
        return False
    if precision != "f32":
        raise CatalogError(f"CATALOG_RUNTIME=keras encodes in f32; this database's encoder runs in {precision}")
    return True


def model_key(model_id: str) -> str:
    """Where a database keeps the runtime model of the encoder `model_id` (the f32 id: bf16 runs
    the same file). Named by a hash of the id, which holds the hashes of the backbone's and the
    head's weights: the same weights always name the same file, and a file is never rewritten."""
    digest = hashlib.sha256(f"{FORMAT}|{model_id}".encode()).hexdigest()[:16]
    return f"models/encoder-{digest}.ov"


def import_openvino():
    """Import OpenVINO without its telemetry.

    `import openvino` imports its model converter, which sends a usage event to Google Analytics
    from a forked process unless the user opted out (openvino-telemetry, a dependency of openvino).
    A library must not phone home, nor fork a process holding LanceDB's runtime, so the telemetry
    module is hidden during the import: the converter then falls back to its own no-op stub
    (openvino.tools.ovc.telemetry_stub). It is hidden only for that import; code that imports
    openvino_telemetry later gets it as usual.
    """
    if "openvino" not in sys.modules and "openvino_telemetry" not in sys.modules:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]  # import -> ImportError
        try:
            import openvino
        finally:
            del sys.modules["openvino_telemetry"]
    import openvino

    return openvino


def export(keras_model, image_size: int, model_id: str) -> bytes:
    """The Keras encoder model -> the bytes of a runtime model file (imports OpenVINO; TensorFlow is
    already imported by whoever built `keras_model`)."""
    ov = import_openvino()
    example = np.zeros((1, image_size, image_size, 3), np.uint8)
    with warnings.catch_warnings(), tempfile.TemporaryDirectory(prefix="catalog-ov-") as folder:
        # Keras warns that the traced call names its input differently from the model's; harmless.
        warnings.simplefilter("ignore")
        model = ov.convert_model(keras_model, example_input=example)
        model.reshape([1, image_size, image_size, 3])
        xml = Path(folder) / "encoder.xml"
        # Weights kept in f32: fp16 compression would change the vectors.
        ov.save_model(model, str(xml), compress_to_fp16=False)
        return pack(xml.read_bytes(), xml.with_suffix(".bin").read_bytes(), model_id, image_size, ov.get_version())


def pack(xml: bytes, weights: bytes, model_id: str, image_size: int, openvino_version: str) -> bytes:
    """MAGIC, one JSON line (what the file holds, and the sha256 of the rest), padding, the IR's
    XML, padding, its weights: one file, so it is written whole or not at all like the head file."""
    header_end = len(MAGIC)
    body = bytearray()
    xml_at = 0
    body += xml
    weights_at = -len(body) % ALIGN + len(body)
    body += b"\0" * (weights_at - len(body)) + weights
    header = {
        "format": FORMAT,
        "model_id": model_id,
        "image_size": image_size,
        "openvino": openvino_version,
        "xml": [xml_at, len(xml)],
        "weights": [weights_at, len(weights)],
        "sha256": hashlib.sha256(bytes(body)).hexdigest(),
    }
    line = json.dumps(header).encode() + b"\n"
    start = header_end + len(line)
    line += b" " * (-start % ALIGN)
    return MAGIC + line + bytes(body)


def _unpack(path: Path, model_id: str) -> tuple[dict, np.ndarray, int]:
    try:
        data = np.memmap(path, mode="c")  # copy-on-write: writeable for ov.Tensor, the file untouched
    except (OSError, ValueError) as exc:
        raise CatalogError(f"cannot read the encoder model file {path}: {exc}") from exc
    if bytes(data[: len(MAGIC)]) != MAGIC:
        raise CatalogError(f"{path} is not an encoder model file")
    end = bytes(data[len(MAGIC) : len(MAGIC) + 4096]).find(b"\n")
    try:
        header = json.loads(bytes(data[len(MAGIC) : len(MAGIC) + end]))
    except ValueError:
        raise CatalogError(f"encoder model file {path} is damaged (unreadable header)") from None
    start = len(MAGIC) + end + 1
    start += -start % ALIGN
    if header.get("format") != FORMAT or header.get("model_id") != model_id:
        raise CatalogError(f"encoder model file {path} holds {header.get('model_id')}, not {model_id}")
    return header, data, start


def _verify(path: Path, header: dict, data: np.ndarray, start: int) -> None:
    if hashlib.sha256(data[start:]).hexdigest() != header["sha256"]:
        raise CatalogError(f"encoder model file {path} is damaged (its contents do not match their hash)")


class _Check(threading.Thread):
    """Runs `check` in a thread; `result()` waits and raises what it raised."""

    def __init__(self, check: Callable[[], None]):
        super().__init__(daemon=True)
        self._check, self._error = check, None
        self.start()

    def run(self) -> None:
        try:
            self._check()
        except CatalogError as error:
            self._error = error

    def result(self) -> None:
        self.join()
        if self._error is not None:
            raise self._error


class RuntimeEncoder:
    """An `Encoder` (id, image_size, encode) running a stored model file on OpenVINO's CPU plugin."""

    def __init__(
        self,
        path: Path,
        encoder_id: str,
        model_id: str,
        image_size: int,
        precision: str = "f32",
        streams: int | None = None,
        latency: bool = False,
    ):
        """`encoder_id`: the id the vectors are recorded under (`model_id` + the precision's suffix).
        `streams`: photos inferred at once, each on one thread (default: one per core).
        `latency`: one photo at a time on every core instead (a query's lone photo: about half the
        wall time of one thread on two cores); OpenVINO's kernels split the work without changing
        its sums, so the vectors are the very same bits either way (tests/test_runtime.py)."""
        check_precision(precision)
        ov = import_openvino()
        header, data, start = _unpack(Path(path), model_id)
        if header["image_size"] != image_size:
            raise CatalogError(f"encoder model file {path} takes {header['image_size']} px photos, not {image_size}")
        xml_at, xml_len = header["xml"]
        weights_at, weights_len = header["weights"]
        xml = bytes(data[start + xml_at : start + xml_at + xml_len]).decode()
        # The weights are read in place from the mapped file (no copy of ~100 MB).
        weights = ov.Tensor(np.asarray(data[start + weights_at : start + weights_at + weights_len]), shared_memory=True)
        core = ov.Core()
        if precision == "bf16" and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            raise CatalogError(
                "this database's photos were encoded in bf16, which this processor does not run "
                "(it needs AVX512-BF16 or AMX); encode photos on a machine that does"
            )
        cores = max(1, os.cpu_count() or 1)
        self.streams = 1 if latency else streams or cores
        threads = cores if latency else self.streams
        # The file's hash (~0.13 s for 100 MB) is checked while OpenVINO compiles (~0.45 s): both
        # release the GIL, so the check costs no wall time on two cores.
        check = _Check(lambda: _verify(Path(path), header, data, start))
        model = core.read_model(xml, weights)
        self._compiled = core.compile_model(
            model,
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": HINTS[precision],
                "PERFORMANCE_HINT": "LATENCY" if latency else "THROUGHPUT",
                "NUM_STREAMS": str(self.streams),
                "INFERENCE_NUM_THREADS": str(threads),
            },
        )
        check.result()
        self._idle: SimpleQueue = SimpleQueue()
        for _ in range(self.streams):
            self._idle.put(self._compiled.create_infer_request())
        self._data = data  # keeps the mapped weights alive as long as the compiled model
        self._id = encoder_id
        self._image_size = image_size
        self.precision = precision

    @classmethod
    def from_bytes(cls, data: bytes, *args, **kwargs) -> RuntimeEncoder:
        """The encoder of a model file held in memory (a Ray worker's copy, a read-only database's
        conversion): written to a temporary file, which the encoder maps; the mapping outlives the
        name, so the file is gone from the folder as soon as the model is loaded."""
        with tempfile.NamedTemporaryFile(prefix="catalog-encoder-", suffix=".ov") as file:
            file.write(data)
            file.flush()
            return cls(Path(file.name), *args, **kwargs)

    @property
    def id(self) -> str:
        return self._id

    @property
    def image_size(self) -> int:
        return self._image_size

    def encode(self, pixels: np.ndarray) -> np.ndarray:
        """(N, size, size, 3) uint8 RGB -> (N, 128) float32."""
        pixels = np.asarray(pixels)
        size = self._image_size
        if pixels.dtype != np.uint8 or pixels.ndim != 4 or pixels.shape[1:] != (size, size, 3):
            raise ValueError(
                f"expected uint8 pixels of shape (N, {size}, {size}, 3), got {pixels.dtype} {pixels.shape}"
            )
        if len(pixels) == 1:  # a query photo: no threads to start
            return self._infer(pixels[0])[None]
        vectors = np.empty((len(pixels), IMAGE_DIM), np.float32)
        with ThreadPoolExecutor(min(self.streams, len(pixels))) as pool:
            for n, vector in enumerate(pool.map(self._infer, pixels)):
                vectors[n] = vector
        return vectors

    def encode_stream(
        self,
        items: Iterable[tuple[int, np.ndarray]],
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """(id, pixels) pairs -> (ids, vectors) in groups of `batch_size`, keeping every stream busy
        across groups: the next group's photos are already running while a group is handed out.
        OpenVINO infers without the GIL, so the decoding threads of ingest.images.load_images keep
        going meanwhile."""
        with ThreadPoolExecutor(self.streams) as pool:
            pending: list[tuple[int, Future]] = []
            for product_id, pixels in items:
                pending.append((product_id, pool.submit(self._infer, pixels)))
                if len(pending) == 2 * batch_size:
                    yield _collect(pending[:batch_size], progress)
                    pending = pending[batch_size:]
            for start in range(0, len(pending), batch_size):
                yield _collect(pending[start : start + batch_size], progress)

    def _infer(self, pixels: np.ndarray) -> np.ndarray:
        """One photo on one of the compiled model's requests (one per stream; each thread takes an
        idle one). Python threads and plain requests rather than OpenVINO's AsyncInferQueue: with the
        queue, the process aborted at exit in about half of the runs (OpenVINO 2026.4)."""
        request = self._idle.get()
        try:
            request.infer({0: pixels[None]})
            return request.get_output_tensor(0).data[0].copy()
        finally:
            self._idle.put(request)


def _collect(pending: list[tuple[int, Future]], progress: Callable[[int], None] | None):
    ids = [product_id for product_id, _ in pending]
    vectors = np.stack([future.result() for _, future in pending])
    if progress is not None:
        progress(len(ids))
    return ids, vectors
