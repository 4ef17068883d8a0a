"""Photo encoding on OpenVINO against today's Keras path, side by side in one run (issue 23).

    python -m benchmarks.runtime --json                      # photos/s, CPU per photo, cold start, peak
    python -m benchmarks.runtime --json --sweep              # + streams and batch settings of OpenVINO
    python -m benchmarks.runtime --json --onnxruntime        # + ONNX Runtime (pip install tf2onnx onnx)
    python -m benchmarks.runtime --gpu --json                # on a GPU machine: Keras on the GPU, batch 16 / 64
    python -m benchmarks.runtime --compare demo/images --json   # f32 vectors against Keras's, 1,000 photos

What it measures, all on random 256x256 uint8 photos with `--weights random`:

- `rates`: photos/s (wall) and CPU seconds per photo of each encoder over `--photos` photos,
  the encoders taking turns for `--rounds` rounds so that a change in the machine's load hits
  all of them alike; `ratio` is each one's rate over Keras's in the same round (median).
  Keras: `ImageEncoder.encode` in batches of 16 (what ingest ran before). OpenVINO:
  `RuntimeEncoder.encode_stream` (what ingest runs now), f32 and bf16.
- `pipeline`: photos/s from synthetic 600x800 JPEGs to vectors, decoding threads overlapping the
  encoder (ingest's `load_images` + the encoder's stream), Keras and OpenVINO f32/bf16.
- `cold`: a fresh Python that loads the encoder and encodes one photo: the stored OpenVINO file
  (no TensorFlow) against TensorFlow's import and the Keras model's build (median of 3).
- `peak`: what the encoder achieves against what the cores can do at that precision, per CPU
  second (so a shared machine's load does not enter; x the cores for an idle machine): the model's
  multiply-adds per photo (counted from the Keras layers) / CPU seconds per photo, against a
  2048^3 MatMul on OpenVINO at the same precision (the practical peak of a core), and against the
  nominal peak of a core (clock x 32 f32 or 64 bf16 multiply-adds a cycle: two 512-bit FMA pipes;
  the clock read from /proc/cpuinfo, the base clock under KVM, so boost can exceed it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from catalog.models.encoder import ImageEncoder
from catalog.models.runtime import RuntimeEncoder, import_openvino

SIZE = 256
ROOT = Path(__file__).resolve().parent.parent


def multiply_adds(encoder: ImageEncoder) -> int:
    """Multiply-adds of one photo through the Keras model's Conv2D and Dense layers."""
    keras = sys.modules["keras"]
    total = 0

    def walk(layer) -> None:
        nonlocal total
        if hasattr(layer, "layers"):
            for inner in layer.layers:
                walk(inner)
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            k_h, k_w, c_in, _ = layer.kernel.shape
            total += h * w * c_out * k_h * k_w * c_in
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))

    walk(encoder._model)
    return total


def photos(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)


def keras_run(encoder: ImageEncoder, pixels: np.ndarray) -> None:
    for start in range(0, len(pixels), 16):
        encoder.encode(pixels[start : start + 16])


def stream_run(encoder, pixels: np.ndarray) -> None:
    for _ in encoder.encode_stream(((n, pixels[n]) for n in range(len(pixels))), batch_size=16):
        pass


def timed(run) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def rates(runs: dict, pixels: np.ndarray, rounds: int) -> dict:
    for run in runs.values():
        run(pixels[:4])  # warm-up (Keras traces its graph on the first call)
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            measured[name].append(timed(lambda run=run: run(pixels)))
    n = len(pixels)
    out = {}
    for name, times in measured.items():
        out[name] = {
            "photos_per_s": round(statistics.median(n / wall for wall, _ in times), 2),
            "photos_per_s_each_round": [round(n / wall, 2) for wall, _ in times],
            "cpu_s_per_photo": round(statistics.median(cpu / n for _, cpu in times), 4),
        }
        if "keras" in measured and name != "keras":
            ratios = [k_wall / wall for (wall, _), (k_wall, _) in zip(times, measured["keras"])]
            out[name]["ratio_to_keras"] = round(statistics.median(ratios), 2)
            out[name]["cpu_ratio_to_keras"] = round(
                statistics.median(k_cpu / cpu for (_, cpu), (_, k_cpu) in zip(times, measured["keras"])), 2
            )
    return out


def pipeline(encoders: dict, count: int) -> dict:
    from benchmarks.encode import synthetic_photos
    from ingest.images import load_images

    out = {}
    with tempfile.TemporaryDirectory() as folder:
        ids = synthetic_photos(Path(folder), count)
        for name, encoder in encoders.items():
            loaded = load_images(Path(folder), ids, size=SIZE)
            items = ((i, image.pixels) for i, image, _ in loaded if image is not None)
            wall, cpu = timed(lambda encoder=encoder, items=items: stream_run_items(encoder, items))
            out[name] = {"photos_per_s": round(count / wall, 2), "cpu_s_per_photo": round(cpu / count, 4)}
    return out


def stream_run_items(encoder, items) -> None:
    for _ in encoder.encode_stream(items, batch_size=16):
        pass


COLD_RUNTIME = """
import sys, time
started = time.perf_counter()
import numpy as np
from catalog.models.runtime import RuntimeEncoder
encoder = RuntimeEncoder(sys.argv[1], sys.argv[2], sys.argv[2], 256, sys.argv[3])
loaded = time.perf_counter()
encoder.encode(np.zeros((1, 256, 256, 3), np.uint8))
print(loaded - started, time.perf_counter() - started, "tensorflow" in sys.modules)
"""
COLD_KERAS = """
import time
started = time.perf_counter()
import numpy as np
from catalog.models.encoder import ImageEncoder
encoder = ImageEncoder(weights="random", seed=0, image_size=256)
loaded = time.perf_counter()
encoder.encode(np.zeros((1, 256, 256, 3), np.uint8))
print(loaded - started, time.perf_counter() - started, True)
"""


def cold(model: Path, model_id: str, precisions: list[str], runs: int = 3) -> dict:
    commands = {f"openvino-{p}": [COLD_RUNTIME, str(model), model_id, p] for p in precisions}
    commands["keras"] = [COLD_KERAS]
    times: dict[str, list[tuple[float, float, bool]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, args in commands.items():
            done = subprocess.run([sys.executable, "-c", *args], cwd=ROOT, capture_output=True, text=True, check=True)
            load, total, tensorflow = done.stdout.split()
            times[name].append((float(load), float(total), tensorflow == "True"))
    return {
        name: {
            "load_s": round(statistics.median(t[0] for t in values), 3),
            "load_and_first_photo_s": round(statistics.median(t[1] for t in values), 3),
            "imports_tensorflow": values[0][2],
        }
        for name, values in times.items()
    }


def matmul_peak(precision: str, n: int = 2048, repeats: int = 20) -> tuple[float, float]:
    """Multiply-adds per wall second and per CPU second of an n x n x n MatMul on OpenVINO's CPU
    plugin, on all cores."""
    ov = import_openvino()
    import openvino.opset13 as ops

    a = ops.parameter([n, n], np.float32)
    b = ops.constant(np.random.default_rng(0).normal(size=(n, n)).astype(np.float32))
    model = ov.Model([ops.matmul(a, b, False, False)], [a])
    compiled = ov.Core().compile_model(
        model, "CPU", {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
    )
    request = compiled.create_infer_request()
    x = np.random.default_rng(1).normal(size=(n, n)).astype(np.float32)
    request.infer({0: x})
    wall, cpu = timed(lambda: [request.infer({0: x}) for _ in range(repeats)])
    return repeats * n**3 / wall, repeats * n**3 / cpu


def clock_mhz() -> float:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("cpu MHz"):
            return float(line.split(":")[1])
    return float("nan")


def sweep(model: Path, model_id: str, pixels: np.ndarray, rounds: int) -> dict:
    """OpenVINO f32 settings: streams (photos at once, one thread each, batch 1) and one request of
    batch 16 on all threads (the Keras path's shape), taking turns."""
    ov = import_openvino()
    runs = {}
    for streams in (1, 2, 4):
        encoder = RuntimeEncoder(model, model_id, model_id, SIZE, "f32", streams=streams)
        runs[f"streams-{streams}"] = lambda p, encoder=encoder: stream_run(encoder, p)
    core = ov.Core()
    header_model = RuntimeEncoder(model, model_id, model_id, SIZE, "f32", streams=1)  # reads and checks the file
    del header_model
    from catalog.models.runtime import _unpack

    header, data, start = _unpack(model, model_id)
    xml = bytes(data[start + header["xml"][0] : start + sum(header["xml"])]).decode()
    weights = ov.Tensor(
        np.asarray(data[start + header["weights"][0] : start + sum(header["weights"])]), shared_memory=True
    )
    batch_model = core.read_model(xml, weights)
    batch_model.reshape([16, SIZE, SIZE, 3])
    compiled = core.compile_model(
        batch_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    )
    request = compiled.create_infer_request()

    def batch16(p: np.ndarray) -> None:
        for s in range(0, len(p) - len(p) % 16, 16):
            request.infer({0: p[s : s + 16]})

    runs["batch-16-one-request"] = batch16
    whole = pixels[: len(pixels) - len(pixels) % 16]
    return rates(runs, whole, rounds)


def onnxruntime_runner(keras: ImageEncoder, folder: Path):
    """ONNX Runtime f32 on the model exported by tf2onnx (not a dependency of catalog)."""
    import onnxruntime as ort
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec((None, SIZE, SIZE, 3), tf.uint8),)
    path = folder / "encoder.onnx"
    started = time.perf_counter()
    tf2onnx.convert.from_function(
        tf.function(lambda p: keras._model(p, training=False)), input_signature=spec, opset=17, output_path=str(path)
    )
    convert_s = time.perf_counter() - started
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    # tf2onnx leaves preprocess_input's mean as a second input: feed it what Keras adds.
    extra = {i.name: -np.array([103.939, 116.779, 123.68], np.float32).reshape(1, 1, 1, 3) for i in inputs[1:]}

    def run(pixels: np.ndarray) -> None:
        for start in range(0, len(pixels), 16):
            session.run(None, {inputs[0].name: pixels[start : start + 16], **extra})

    return run, convert_s, path.stat().st_size


def compare_main(args) -> None:
    """Cosine of OpenVINO f32's vectors with the Keras encoder's for `--count` photos: the folder's
    (decoded as ingest decodes them), topped up with synthetic 600x800 JPEGs."""
    from benchmarks.encode import synthetic_photos
    from ingest.images import load_images

    ids = sorted(int(p.stem) for p in args.compare.glob("*.jpg") if p.stem.isdigit())[: args.count]
    pixels = [image.pixels for _, image, _ in load_images(args.compare, ids, size=SIZE) if image is not None]
    with tempfile.TemporaryDirectory() as folder:
        extra = synthetic_photos(Path(folder), args.count - len(pixels))
        pixels += [image.pixels for _, image, _ in load_images(Path(folder), extra, size=SIZE) if image is not None]
        keras_encoder = ImageEncoder(weights="random", seed=0, image_size=SIZE)
        model = Path(folder) / "encoder.ov"
        model.write_bytes(keras_encoder.export_runtime())
        info = keras_encoder.info
        batch = np.stack(pixels)
        expected = keras_encoder.encode(batch)
        got = RuntimeEncoder(model, info.id, info.model_id, SIZE).encode(batch)
    cosine = (expected * got).sum(1) / np.linalg.norm(expected, axis=1) / np.linalg.norm(got, axis=1)
    print(
        json.dumps(
            {
                "photos": len(batch),
                "from_folder": len(ids),
                "cosine_min": float(cosine.min()),
                "cosine_median": float(np.median(cosine)),
                "max_abs_difference": float(np.abs(expected - got).max()),
            }
        )
    )


def gpu_main(args) -> None:
    """Keras on a GPU (the `catalog[gpu]` install), batch 16 and the GPU default 64."""
    keras_encoder = ImageEncoder(weights="random", seed=0, image_size=SIZE)
    tf = sys.modules["tensorflow"]
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    if not gpus:
        raise SystemExit("TensorFlow sees no GPU here: run this on a GPU machine with the catalog[gpu] install")
    pixels = photos(args.photos)
    runs = {
        f"keras-batch-{b}": (lambda p, b=b: [keras_encoder._run(p[s : s + b]) for s in range(0, len(p), b)])
        for b in (16, 64)
    }
    print(json.dumps({"gpus": gpus, "rates": rates(runs, pixels, args.rounds), "photos": args.photos}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runtime", description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=96, help="photos per encoder per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipeline-images", type=int, default=200, help="synthetic JPEGs for the pipeline rates")
    parser.add_argument("--sweep", action="store_true", help="also OpenVINO's streams and batch settings")
    parser.add_argument("--onnxruntime", action="store_true", help="also ONNX Runtime (needs tf2onnx and onnx)")
    parser.add_argument("--gpu", action="store_true", help="Keras on the GPU, batch 16 and 64 (a GPU machine)")
    parser.add_argument("--compare", type=Path, metavar="PHOTOS", help="f32 vectors against Keras's on these photos")
    parser.add_argument("--count", type=int, default=1000, help="with --compare: photos (topped up with synthetic)")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    if args.gpu:
        return gpu_main(args)
    if args.compare:
        return compare_main(args)

    started = time.perf_counter()
    keras_encoder = ImageEncoder(weights="random", seed=0, image_size=SIZE)
    build_s = time.perf_counter() - started
    model_id = keras_encoder.info.model_id
    ov = import_openvino()
    bf16 = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    precisions = ["f32", "bf16"] if bf16 else ["f32"]
    result: dict = {"load_avg_before": os.getloadavg(), "keras_build_s": round(build_s, 2)}
    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "encoder.ov"
        started = time.perf_counter()
        model.write_bytes(keras_encoder.export_runtime())
        result["export_s"] = round(time.perf_counter() - started, 2)
        result["model_file_mb"] = round(model.stat().st_size / 1e6, 1)
        encoders = {f"openvino-{p}": RuntimeEncoder(model, model_id, model_id, SIZE, p) for p in precisions}
        pixels = photos(args.photos)
        runs = {"keras": lambda p: keras_run(keras_encoder, p)}
        runs.update({name: (lambda p, e=e: stream_run(e, p)) for name, e in encoders.items()})
        if args.onnxruntime:
            run, convert_s, size = onnxruntime_runner(keras_encoder, Path(folder))
            runs["onnxruntime-f32"] = run
            result["onnxruntime"] = {"export_s": round(convert_s, 2), "model_file_mb": round(size / 1e6, 1)}
        result["rates"] = rates(runs, pixels, args.rounds)
        if args.sweep:
            result["sweep_openvino_f32"] = sweep(model, model_id, pixels, args.rounds)
        result["pipeline"] = pipeline({"keras": keras_encoder, **encoders}, args.pipeline_images)
        del encoders
        result["cold"] = cold(model, model_id, precisions)
    macs = multiply_adds(keras_encoder)
    cores = os.cpu_count() or 1
    clock = clock_mhz() * 1e6
    lanes = {"f32": 32, "bf16": 64}  # multiply-adds per cycle per core: two 512-bit FMA pipes
    result["peak"] = {"multiply_adds_per_photo": macs, "cores": cores, "clock_mhz": round(clock / 1e6)}
    for p in precisions:
        achieved = macs / result["rates"][f"openvino-{p}"]["cpu_s_per_photo"]
        practical_wall, practical = matmul_peak(p)
        nominal = clock * lanes[p]
        result["peak"][p] = {
            "encoder_gmacs_per_cpu_s": round(achieved / 1e9, 1),
            "encoder_gmacs_wall": round(result["rates"][f"openvino-{p}"]["photos_per_s"] * macs / 1e9, 1),
            "matmul_gmacs_per_cpu_s": round(practical / 1e9, 1),
            "matmul_gmacs_wall": round(practical_wall / 1e9, 1),
            "nominal_gmacs_per_core": round(nominal / 1e9, 1),
            "share_of_matmul": round(achieved / practical, 2),
            "share_of_nominal": round(achieved / nominal, 2),
        }
    result["peak"]["keras_f32_gmacs_per_cpu_s"] = round(macs / result["rates"]["keras"]["cpu_s_per_photo"] / 1e9, 1)
    result["photos"], result["rounds"], result["load_avg_after"] = args.photos, args.rounds, os.getloadavg()
    if not args.json:
        for name, rate in result["rates"].items():
            print(f"{name:18s} {rate}", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
