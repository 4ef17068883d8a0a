"""Benchmark incremental ingest against the first ingest and a full rebuild, side by side in one run.

    python -m benchmarks.incremental --products 2500 --add 500 --json
    python -m benchmarks.incremental --products 2500 --add 500 --shares 0.1,0.2,0.4 --json

Generates one demo catalog of products + add rows (catalog.demo, `--image-size` pixel photos),
splits its rows into a base CSV and a CSV holding only the new rows, then, with the real pipeline
(real Keras ResNet50, `--weights random` by default, default node2vec and linker settings):

1. first ingest of the base catalog (full training);
2. re-ingest of the same base CSV (nothing changed: target <= 10% of 1);
3. ingest of the new rows only (encode + placement + linker: target <= 30% of 1);
4. quality: attribute precision@10 of the added products' rec neighbours (rec_vector against
   every node_vector) and graph neighbours (node_vector against node_vectors), after the
   incremental add and after `rebuild` of the same catalog (a copy of the database): target
   within 5 points on the mean over the 8 attribute columns;
5. stability: Jaccard@10 of the existing products' graph and rec neighbour sets before and after
   the add, raw and ignoring the new products; the same for the rebuild, and for a rebuild of
   the unchanged base catalog (how much retraining alone moves neighbours: the noise floor);
6. with `--shares`, the quality gap against a full training for other shares of inferred
   products: a copy of the rebuilt database loses that share of its products, is rebuilt on the
   rest, and gets them back as an incremental ingest whose photos come from encode checkpoints
   seeded with their stored vectors (so no photo is encoded twice). This is what the rebuild
   suggestion threshold (ingest.pipeline.REBUILD_SUGGESTION_SHARE) is checked against.

A rebuild trains its linker on the new products' photos too, so its rec figures include a
training-set advantage no future product gets. The rec precision of the added products in the
rebuilt graph space with a linker trained WITHOUT them is reported next to it, to tell that
advantage apart from the cost of placing products instead of training them.

Neighbours are exact cosine in numpy, the query product itself excluded. Precision of a column is
the share of a query's 10 neighbours with the query's (non-empty) value in that column, in percent.
TensorFlow is imported before the first timing (its import time is reported separately), so each
ingest pays for building its encoder but not for loading the library.

Prints a human-readable table on stderr and, with --json, one JSON line with every figure on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from catalog.core.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS
from catalog.core.metrics import codes_of, precision_at_k
from catalog.core.photo_features import COLUMN as FEATURES
from catalog.core.photo_features import unpack
from catalog.core.vectors import unit
from catalog.demo import make_demo_catalog
from catalog.store.database import Store
from ingest.checkpoints import EncodeCheckpoints
from ingest.pipeline import REBUILD_SUGGESTION_SHARE, IngestOptions, IngestReport, ingest, rebuild
from ingest.reader import read_styles
from ingest.updates import remove_products

K = 10
TARGETS = {"unchanged_vs_first": 0.10, "add_vs_first": 0.30, "precision_gap_points": 5.0}
PACKAGES = (
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "lancedb",
    "pylance",
    "gensim",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "pillow",
)


# -- the database as arrays ------------------------------------------------------------------------


@dataclass
class Snapshot:
    """One committed catalog state: ids (sorted), attribute values and the vectors compared."""

    ids: np.ndarray
    attributes: np.ndarray  # (n, 8) str
    node: np.ndarray
    rec: np.ndarray
    image: np.ndarray
    has_image: np.ndarray
    inferred: np.ndarray

    @classmethod
    def read(cls, db: Path) -> "Snapshot":
        table = Store.open(db).table("products").to_arrow()
        frame = table.select(["id", *ATTRIBUTE_COLUMNS, "has_image", "node_source"]).to_pandas()
        order = np.argsort(frame["id"].to_numpy(), kind="stable")
        node, rec, image = (_matrix(table, name)[order] for name in ("node_vector", "rec_vector", "image_vector"))
        frame = frame.iloc[order].reset_index(drop=True)
        return cls(
            ids=frame["id"].to_numpy(np.int64),
            attributes=frame[list(ATTRIBUTE_COLUMNS)].fillna("").astype(str).to_numpy(),
            node=node,
            rec=rec,
            image=image,
            has_image=frame["has_image"].to_numpy(bool),
            inferred=(frame["node_source"] == "inferred").to_numpy(),
        )

    def rows(self, ids) -> np.ndarray:
        """Positions of `ids` in this snapshot."""
        return np.searchsorted(self.ids, np.asarray(ids, np.int64))


def _matrix(table, name: str) -> np.ndarray:
    column = table.column(name).combine_chunks()
    return np.asarray(column.flatten().to_numpy(zero_copy_only=False), np.float32).reshape(len(column), -1)


def top_k(
    queries: np.ndarray, candidates: np.ndarray, exclude: np.ndarray, allowed: np.ndarray | None = None
) -> np.ndarray:
    """Candidate positions of each query's K nearest by cosine (exact); `exclude[i]` is query i's own row."""
    similarity = unit(queries) @ unit(candidates).T
    similarity[np.arange(len(queries)), exclude] = -np.inf
    if allowed is not None:
        similarity[:, ~allowed] = -np.inf
    return np.argpartition(-similarity, K, axis=1)[:, :K]


def precision(snapshot: Snapshot, ids, space: str) -> dict:
    """Attribute precision@10 (percent) per column and their mean for the products `ids`."""
    rows = snapshot.rows(ids)
    if space == "rec":
        rows = rows[snapshot.has_image[rows]]  # no photo, no rec vector
    queries = snapshot.rec[rows] if space == "rec" else snapshot.node[rows]
    neighbours = top_k(queries, snapshot.node, rows)
    codes = codes_of(snapshot.attributes)  # "" (an empty cell) is never a match, nor scored as a query
    hits = precision_at_k(codes[rows], codes[neighbours]) * 100
    result = {column: round(float(v), 2) for column, v in zip(ATTRIBUTE_COLUMNS, hits)}
    result["mean"] = round(float(hits.mean()), 2)
    result["queries"] = int(len(rows))
    return result


def jaccard(before: Snapshot, after: Snapshot, space: str) -> dict:
    """Mean Jaccard@10 of the neighbour id sets of `before`'s products, before vs after.

    raw: after's neighbours among all its products; ignoring_new: among those `before` had too.
    """
    rows_before = np.arange(len(before.ids))
    rows_before = rows_before[np.isin(before.ids, after.ids)]
    if space == "rec":
        rows_before = rows_before[before.has_image[rows_before]]
    rows_after = after.rows(before.ids[rows_before])
    vectors = (lambda s, r: s.rec[r]) if space == "rec" else (lambda s, r: s.node[r])
    old_sets = before.ids[top_k(vectors(before, rows_before), before.node, rows_before)]
    result = {"products": int(len(rows_before))}
    for name, allowed in (("raw", None), ("ignoring_new", np.isin(after.ids, before.ids))):
        new_sets = after.ids[top_k(vectors(after, rows_after), after.node, rows_after, allowed)]
        scores = [len(set(a) & set(b)) / len(set(a) | set(b)) for a, b in zip(old_sets, new_sets)]
        result[name] = round(float(np.mean(scores)), 4)
    return result


def heldout_rec_precision(snapshot: Snapshot, ids) -> dict:
    """Rec precision of `ids` in this graph space, from a linker trained without them.

    A rebuild trains its linker on every photo, the new products' included, so part of its edge
    over an incremental add is the linker's training-set advantage on those photos. This figure
    keeps the rebuilt graph space but holds the products out of the linker, like any future product.
    """
    from catalog.models.linker import LinkerParams, train_linker

    held_out = np.isin(snapshot.ids, np.asarray(ids, np.int64))
    train = ~held_out & snapshot.has_image
    fit = train_linker(snapshot.image[train], snapshot.node[train], LinkerParams())
    translate = held_out & snapshot.has_image
    rec = snapshot.rec.copy()
    rec[translate] = fit.linker.translate(snapshot.image[translate])
    return precision(replace(snapshot, rec=rec), ids, "rec")


def quality(snapshot: Snapshot, ids) -> dict:
    return {space: precision(snapshot, ids, space) for space in ("rec", "graph")}


def stability(before: Snapshot, after: Snapshot) -> dict:
    return {space: jaccard(before, after, space) for space in ("graph", "rec")}


def gap(reference: dict, measured: dict) -> dict:
    """Points by which `measured` precision falls short of `reference` (negative: better)."""
    return {
        space: {key: round(reference[space][key] - measured[space][key], 2) for key in (*ATTRIBUTE_COLUMNS, "mean")}
        for space in reference
    }


# -- running the pipeline ---------------------------------------------------------------------------


def timed(call, *args) -> tuple[IngestReport, float]:
    started = time.perf_counter()
    report = call(*args)
    return report, time.perf_counter() - started


def stages(report: IngestReport) -> dict:
    return {name: round(seconds, 2) for name, seconds in report.seconds.items()}


def write_rows(rows: pd.DataFrame, path: Path) -> Path:
    rows[list(DISPLAY_COLUMNS)].to_csv(path, index=False)
    return path


def seed_checkpoints(db: Path, source: Path, ids) -> int:
    """Put the stored photo vectors of `ids` (from the database `source`) where an ingest of `db` finds them."""
    table = (
        Store.open(source)
        .table("products")
        .to_arrow()
        .select(["id", "has_image", "image_hash", "image_vector", FEATURES])
    )
    wanted = np.isin(table.column("id").to_numpy(), np.asarray(ids, np.int64)) & table.column("has_image").to_numpy(
        zero_copy_only=False
    )
    vectors = _matrix(table, "image_vector")
    # Their thumbnails are in `db`'s photos table already: `db` is a copy of `source`.
    checkpoints = EncodeCheckpoints(Store.open(db).storage, Store.open(db).run.encoder["id"])
    hashes, features = table.column("image_hash").to_pylist(), unpack(table.column(FEATURES).to_pylist())
    for n in np.flatnonzero(wanted):
        checkpoints.add(hashes[n], vectors[n], features[n])
    checkpoints.flush()
    return int(wanted.sum())


def sweep_point(
    share: float, reference_db: Path, rows: pd.DataFrame, images: Path, options: IngestOptions, folder: Path, seed: int
) -> dict:
    """Quality gap against a full training when `share` of the catalog's products are placed, not trained."""
    reference = Snapshot.read(reference_db)
    chosen = np.sort(
        np.random.default_rng((seed, round(share * 1000))).choice(
            reference.ids, size=round(share * len(reference.ids)), replace=False
        )
    )
    db = folder / f"sweep-{share:g}"
    shutil.copytree(reference_db, db)
    remove_products(db, chosen.tolist())
    _, train_seconds = timed(rebuild, db, options)
    seeded = seed_checkpoints(db, reference_db, chosen)
    csv_path = write_rows(rows[rows["id"].isin(chosen)], folder / f"sweep-{share:g}.csv")
    report, add_seconds = timed(ingest, db, csv_path, images, options)
    placed = Snapshot.read(db)
    shutil.rmtree(db, ignore_errors=True)
    incremental, full = quality(placed, chosen), quality(reference, chosen)
    heldout = heldout_rec_precision(reference, chosen)
    return {
        "share": share,
        "added": int(len(chosen)),
        "base": int(len(reference.ids) - len(chosen)),
        "photos_from_checkpoints": seeded,
        "encoded": report.summary.get("encoded"),
        "inferred_share": report.summary.get("inferred_share"),
        "suggest_rebuild": report.summary.get("suggest_rebuild"),
        "base_training_seconds": round(train_seconds, 1),
        "add_seconds": round(add_seconds, 1),
        "precision": {"incremental": incremental, "rebuild": full, "rebuild_linker_heldout_rec": heldout},
        "gap_points": gap(full, incremental),
        "rec_gap_vs_heldout_linker_points": round(heldout["mean"] - incremental["rec"]["mean"], 2),
    }


# -- the machine ----------------------------------------------------------------------------------


def machine() -> dict:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), ""
        )
    except (OSError, subprocess.CalledProcessError):
        model = platform.processor()
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gb": round(total_kb / 2**20, 1),
        "python": platform.python_version(),
        "packages": versions,
    }


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


# -- the benchmark --------------------------------------------------------------------------------


def run(args: argparse.Namespace, log) -> dict:
    folder = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="catalog-incremental-"))
    folder.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "benchmark": "incremental",
        "params": {
            "products": args.products,
            "add": args.add,
            "image_size": args.image_size,
            "weights": args.weights,
            "seed": args.seed,
            "shares": args.shares,
            "k": K,
            "node2vec": "defaults",
            "linker": "defaults",
        },
        "machine": machine(),
        "load_average_start": load_average(),
    }
    try:
        started = time.perf_counter()
        demo = make_demo_catalog(folder / "demo", args.products + args.add, seed=args.seed, image_size=args.image_size)
        rows = read_styles(demo.csv_path).rows
        base_rows, add_rows = rows.iloc[: args.products], rows.iloc[args.products :]
        base_csv = write_rows(base_rows, folder / "base.csv")
        add_csv = write_rows(add_rows, folder / "add.csv")
        result["catalog"] = {
            "base": len(base_rows),
            "added": len(add_rows),
            "without_photo": len(demo.missing_image_ids),
            "generate_seconds": round(time.perf_counter() - started, 1),
        }
        log(f"demo catalog: {len(base_rows)} + {len(add_rows)} products in {result['catalog']['generate_seconds']} s")

        started = time.perf_counter()
        import tensorflow  # noqa: F401  (loaded once, outside every timing)

        result["tensorflow_import_seconds"] = round(time.perf_counter() - started, 1)

        options = IngestOptions(weights=args.weights, seed=args.seed, image_size=args.image_size)
        db = folder / "db"
        first, first_s = timed(ingest, db, base_csv, demo.images_dir, options)
        log(f"first ingest: {first_s:.1f} s {stages(first)}")
        again, again_s = timed(ingest, db, base_csv, demo.images_dir, options)
        log(f"unchanged re-ingest: {again_s:.1f} s {again.summary}")
        before = Snapshot.read(db)
        shutil.copytree(db, folder / "db-retrained")
        added, added_s = timed(ingest, db, add_csv, demo.images_dir, options)
        log(f"add: {added_s:.1f} s {stages(added)}")
        after = Snapshot.read(db)
        shutil.copytree(db, folder / "db-rebuilt")
        rebuilt_report, rebuilt_s = timed(rebuild, folder / "db-rebuilt", options)
        log(f"rebuild: {rebuilt_s:.1f} s")
        rebuilt = Snapshot.read(folder / "db-rebuilt")
        _, retrained_s = timed(rebuild, folder / "db-retrained", options)
        retrained = Snapshot.read(folder / "db-retrained")
        log(f"retrain of the unchanged base catalog: {retrained_s:.1f} s")

        new_ids = add_rows["id"].to_numpy(np.int64)
        result["seconds"] = {
            "first_ingest": round(first_s, 1),
            "unchanged_reingest": round(again_s, 1),
            "add": round(added_s, 1),
            "rebuild": round(rebuilt_s, 1),
            "retrain_unchanged_base": round(retrained_s, 1),
        }
        result["stages"] = {
            "first_ingest": stages(first),
            "unchanged_reingest": stages(again),
            "add": stages(added),
            "rebuild": stages(rebuilt_report),
        }
        result["ratios"] = {
            "unchanged_vs_first": round(again_s / first_s, 4),
            "add_vs_first": round(added_s / first_s, 4),
            "rebuild_vs_first": round(rebuilt_s / first_s, 4),
        }
        result["summaries"] = {"unchanged_reingest": again.summary, "add": added.summary}
        incremental, full = quality(after, new_ids), quality(rebuilt, new_ids)
        old_ids = base_rows["id"].to_numpy(np.int64)
        heldout = heldout_rec_precision(rebuilt, new_ids)
        result["precision"] = {
            "added_incremental": incremental,
            "added_rebuild": full,
            "gap_points": gap(full, incremental),
            "added_rebuild_linker_heldout_rec": heldout,
            "rec_gap_vs_heldout_linker_points": {
                key: round(heldout[key] - incremental["rec"][key], 2) for key in (*ATTRIBUTE_COLUMNS, "mean")
            },
            "existing_before": quality(before, old_ids),
        }
        result["jaccard"] = {
            "incremental": stability(before, after),
            "rebuild": stability(before, rebuilt),
            "retrain_unchanged_base": stability(before, retrained),
        }

        result["sweep"] = []
        for share in args.shares:
            point = sweep_point(share, folder / "db-rebuilt", rows, demo.images_dir, options, folder, args.seed)
            log(
                f"share {share:g}: gap {point['gap_points']['rec']['mean']} (rec) "
                f"{point['gap_points']['graph']['mean']} (graph) points"
            )
            result["sweep"].append(point)
        result["rebuild_suggestion_share"] = REBUILD_SUGGESTION_SHARE
        result["targets"] = verdicts(result)
    finally:
        result["load_average_end"] = load_average()
        if not args.workdir:
            shutil.rmtree(folder, ignore_errors=True)
    return result


def verdicts(result: dict) -> dict:
    gaps = result["precision"]["gap_points"]
    return {
        "unchanged_vs_first": {
            "target": TARGETS["unchanged_vs_first"],
            "measured": result["ratios"]["unchanged_vs_first"],
            "pass": result["ratios"]["unchanged_vs_first"] <= TARGETS["unchanged_vs_first"],
        },
        "add_vs_first": {
            "target": TARGETS["add_vs_first"],
            "measured": result["ratios"]["add_vs_first"],
            "pass": result["ratios"]["add_vs_first"] <= TARGETS["add_vs_first"],
        },
        **{
            f"precision_gap_{space}": {
                "target": TARGETS["precision_gap_points"],
                "measured": gaps[space]["mean"],
                "pass": gaps[space]["mean"] <= TARGETS["precision_gap_points"],
            }
            for space in ("rec", "graph")
        },
    }


def table(result: dict) -> str:
    """The figures as aligned text for a terminal."""
    s, r, p, j = result["seconds"], result["ratios"], result["precision"], result["jaccard"]
    lines = [
        f"machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, {result['machine']['ram_gb']} GB; "
        f"load {result['load_average_start']} -> {result['load_average_end']}",
        f"catalog: {result['catalog']['base']} + {result['catalog']['added']} demo products, "
        f"{result['params']['image_size']} px, weights={result['params']['weights']}",
        "",
        f"{'figure':54} {'target':>8} {'measured':>10} {'ratio':>7}  ok",
    ]
    first = s["first_ingest"]
    lines.append(f"{'first ingest (s)':54} {'':>8} {first:>10} {1:>7.2f}")
    for name, key, ratio in (
        ("unchanged re-ingest (s)", "unchanged_reingest", "unchanged_vs_first"),
        ("add new products (s)", "add", "add_vs_first"),
    ):
        t = result["targets"][ratio]
        lines.append(
            f"{name:54} {'<=' + format(t['target'], '.0%'):>8} {s[key]:>10} {r[ratio]:>7.3f}  {'PASS' if t['pass'] else 'FAIL'}"
        )
    lines.append(f"{'rebuild, whole catalog (s)':54} {'':>8} {s['rebuild']:>10} {r['rebuild_vs_first']:>7.3f}")
    for space in ("rec", "graph"):
        inc, full, g = p["added_incremental"][space], p["added_rebuild"][space], p["gap_points"][space]
        for key in ("mean", "articleType", "baseColour"):
            label = f"added {space} P@10 {key}: incremental / rebuild"
            ok = "PASS" if g[key] <= TARGETS["precision_gap_points"] else "FAIL"
            lines.append(
                f"{label:54} {'gap<=5':>8} {inc[key]:>5.1f}/{full[key]:<5.1f} {g[key]:>+7.1f}  {ok if key == 'mean' else ''}"
            )
    heldout = p["added_rebuild_linker_heldout_rec"]
    lines.append(
        f"{'added rec P@10 mean: rebuild, linker held out':54} {'':>8} {heldout['mean']:>10.1f} "
        f"{p['rec_gap_vs_heldout_linker_points']['mean']:>+7.1f}"
    )
    for space in ("graph", "rec"):
        for name in ("incremental", "rebuild", "retrain_unchanged_base"):
            figure = j[name][space]
            lines.append(
                f"{'Jaccard@10 ' + space + ' ' + name + ' raw / ign.new':54} {'':>8} "
                f"{figure['raw']:>5.3f}/{figure['ignoring_new']:<5.3f}"
            )
    for point in result["sweep"]:
        g = point["gap_points"]
        lines.append(
            f"{'share ' + format(point['share'], '.0%') + ' inferred: gap rec / graph / rec-heldout':54} {'':>8} "
            f"{g['rec']['mean']:>+5.1f}/{g['graph']['mean']:<+5.1f}/{point['rec_gap_vs_heldout_linker_points']:<+5.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=2500, help="products in the base catalog (default 2500)")
    parser.add_argument("--add", type=int, default=500, help="products added incrementally (default 500)")
    parser.add_argument("--image-size", type=int, default=128, help="photo and encoder size in pixels (default 128)")
    parser.add_argument("--weights", default="random", help="encoder backbone weights (default random)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--shares",
        type=lambda text: [float(v) for v in text.split(",") if v],
        default=[],
        help="inferred shares for the rebuild-threshold sweep, e.g. 0.1,0.2,0.4 (default none)",
    )
    parser.add_argument("--workdir", help="keep the catalog and databases in this folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="also print one JSON line on stdout")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    result = run(args, log)
    print(table(result), file=sys.stderr)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
