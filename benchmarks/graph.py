"""Benchmark the graph space G_n2v: time, peak memory and neighbour quality.

    python -m benchmarks.graph --products 44446 --json          # default settings (collapsed graph)
    python -m benchmarks.graph --products 44446 --json --paper  # the paper's plain settings
    python -m benchmarks.graph --products 44446 --json --baselines   # default, then the baselines
    python -m benchmarks.graph --csv styles.csv --json --set window=5 --set negative=3

Prints one JSON line: seconds (graph build + collapse + walks + training: the whole graph space
from a styles table), walks_seconds, train_seconds, peak_rss_mb (of the graph space, before the
quality check), combinations, articleType_at_10 and baseColour_at_10 (the share of a product's 10
nearest products by cosine that share its articleType / baseColour, averaged over a sample of
products), and the parameters used. `--baselines` runs the default, the previous default
(the same walks and Word2Vec settings on the uncollapsed product graph, `--set collapse=false`)
and the paper's settings one after the other, each in its own process (so each peak RSS is its
own), and prints {"runs": [...], "ratios": ...} with every figure against the default.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd

from benchmarks.synthetic import synthetic_styles
from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.vectors import unit
from ingest.graph import build_graph
from ingest.graph_space import PAPER_PARAMS, Node2VecParams, embed_graph


def neighbour_agreement(
    vectors: np.ndarray, labels: np.ndarray, k: int = 10, sample: int = 2000, seed: int = 0
) -> float:
    """Mean share of each sampled item's k nearest others (cosine) that carry its label.

    Items with an empty label are not sampled as queries (they can still be neighbours).
    """
    unit_vectors = unit(vectors)
    candidates = np.flatnonzero(labels != "")
    rng = np.random.default_rng(seed)
    queries = rng.choice(candidates, size=min(sample, candidates.size), replace=False)
    shares = []
    step = max(1, min(500, 20_000_000 // max(len(vectors), 1)))  # ~80 MB of similarities at a time
    for begin in range(0, queries.size, step):
        batch = queries[begin : begin + step]
        sims = unit_vectors[batch] @ unit_vectors.T
        sims[np.arange(batch.size), batch] = -np.inf  # not its own neighbour
        nearest = np.argpartition(-sims, k, axis=1)[:, :k]
        shares.append((labels[nearest] == labels[batch][:, None]).mean(axis=1))
    return float(np.concatenate(shares).mean())


def _peak_rss_mb() -> float:
    """Peak resident memory of this process and any children, in MB (Linux reports KB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _read_csv(path: str) -> pd.DataFrame:
    from ingest.reader import read_styles

    return read_styles(path).rows


def _override(params: Node2VecParams, assignments: list[str]) -> Node2VecParams:
    types = {f.name: f.type for f in dataclasses.fields(Node2VecParams)}
    changes = {}
    for assignment in assignments:
        name, _, value = assignment.partition("=")
        if name not in types:
            raise SystemExit(f"unknown parameter {name!r}; known: {', '.join(types)}")
        convert = {"int": int, "float": float, "bool": lambda v: v.lower() in ("1", "true", "yes")}
        changes[name] = convert.get(str(types[name]), str)(value)
    return dataclasses.replace(params, **changes)


# The same-run baselines of --baselines: (label, extra arguments).
BASELINES = (
    ("default", []),
    ("product graph (previous default)", ["--set", "collapse=false"]),
    ("paper", ["--paper"]),
)


def _run_baselines(argv: list[str]) -> dict:
    import subprocess

    runs = []
    for label, extra in BASELINES:
        command = [sys.executable, "-m", "benchmarks.graph", *argv, *extra, "--json"]
        print(f"{label}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        finished = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
        runs.append({"label": label, **json.loads(finished.stdout.strip().splitlines()[-1])})
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    base = runs[0]
    ratios = {
        run["label"]: {
            key: round(run[key] / base[key], 3) if base[key] else None
            for key in ("seconds", "cpu_seconds", "peak_rss_mb", "articleType_at_10", "baseColour_at_10")
        }
        for run in runs[1:]
    }
    return {"runs": runs, "ratios_to_default": ratios}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--products", type=int, default=44446, help="synthetic catalog size (default 44446)")
    source.add_argument("--csv", help="a real styles.csv instead of the synthetic catalog")
    parser.add_argument("--paper", action="store_true", help="the paper's plain settings instead of the defaults")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    parser.add_argument("--quality-sample", type=int, default=2000, help="products whose neighbours are checked")
    parser.add_argument(
        "--pitman-yor",
        metavar="DISCOUNT,CONCENTRATION",
        help="synthetic combination parameters other than the calibrated ones (a stress case)",
    )
    parser.add_argument(
        "--baselines",
        action="store_true",
        help="run the default, the product graph and the paper's settings, each in its own process",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    if args.baselines:
        own = [a for a in (argv if argv is not None else sys.argv[1:]) if a not in ("--baselines", "--json")]
        print(json.dumps(_run_baselines(own)))
        return

    if args.csv:
        rows = _read_csv(args.csv)
    elif args.pitman_yor:
        discount, concentration = (float(v) for v in args.pitman_yor.split(","))
        rows = synthetic_styles(args.products, discount=discount, concentration=concentration)
    else:
        rows = synthetic_styles(args.products)
    params = _override(PAPER_PARAMS if args.paper else Node2VecParams(), args.set)
    started = time.perf_counter()
    cpu_before = _cpu_seconds()
    graph = build_graph(rows)
    build_seconds = time.perf_counter() - started
    space = embed_graph(graph, params)
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu_seconds() - cpu_before
    peak_rss_mb = _peak_rss_mb()  # before the quality check, which holds similarity blocks
    # Graph rows follow the table's row order, so labels line up with product_vectors.
    quality = {
        f"{column}_at_10": round(
            neighbour_agreement(space.product_vectors, rows[column].to_numpy(dtype=object), sample=args.quality_sample),
            4,
        )
        for column in ("articleType", "baseColour")
    }
    result = {
        "products": graph.num_products,
        "nodes": graph.num_nodes,
        "combinations": int(rows[list(ATTRIBUTE_COLUMNS)].astype(str).groupby(list(ATTRIBUTE_COLUMNS)).ngroups),
        "nodes_embedded": space.nodes_embedded,
        "seconds": round(seconds, 1),
        "walks_seconds": round(space.walks_seconds, 1),
        "train_seconds": round(space.train_seconds, 1),
        "build_seconds": round(build_seconds, 2),
        "tokens_trained": space.tokens_trained,
        # CPU time of the whole graph space (all threads): comparable across runs even when other
        # work shares the machine and stretches the wall-clock figures.
        "cpu_seconds": round(cpu_seconds, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(peak_rss_mb),
        **quality,
        "settings": "paper" if args.paper else ("default" if not args.set else "custom"),
        "params": params.to_dict(),
    }
    line = json.dumps(result)
    if not args.json:
        print(
            f"graph space for {graph.num_products} products: {result['seconds']} s, {result['peak_rss_mb']} MB peak",
            file=sys.stderr,
        )
    print(line)


if __name__ == "__main__":
    main()
