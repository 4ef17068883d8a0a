"""Benchmark the graph space G_n2v: time, peak memory and neighbour quality.

    python -m benchmarks.graph --products 44446 --json          # default (fast) settings
    python -m benchmarks.graph --products 44446 --json --paper  # the paper's plain settings
    python -m benchmarks.graph --csv styles.csv --json --set window=5 --set negative=3

Prints one JSON line: seconds (walks + training), walks_seconds, train_seconds, peak_rss_mb,
articleType_at_10 and baseColour_at_10 (the share of a product's 10 nearest products by
cosine that share its articleType / baseColour, averaged over a sample of products), and
the parameters used.
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
from ingest.graph import build_graph
from ingest.graph_space import PAPER_PARAMS, Node2VecParams, embed_graph


def neighbour_agreement(
    vectors: np.ndarray, labels: np.ndarray, k: int = 10, sample: int = 2000, seed: int = 0
) -> float:
    """Mean share of each sampled item's k nearest others (cosine) that carry its label.

    Items with an empty label are not sampled as queries (they can still be neighbours).
    """
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    candidates = np.flatnonzero(labels != "")
    rng = np.random.default_rng(seed)
    queries = rng.choice(candidates, size=min(sample, candidates.size), replace=False)
    shares = []
    for begin in range(0, queries.size, 500):
        batch = queries[begin : begin + 500]
        sims = unit[batch] @ unit.T
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
        changes[name] = {"int": int, "float": float}.get(str(types[name]), str)(value)
    return dataclasses.replace(params, **changes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--products", type=int, default=44446, help="synthetic catalog size (default 44446)")
    source.add_argument("--csv", help="a real styles.csv instead of the synthetic catalog")
    parser.add_argument("--paper", action="store_true", help="the paper's plain settings instead of the defaults")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    parser.add_argument("--quality-sample", type=int, default=2000, help="products whose neighbours are checked")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    rows = _read_csv(args.csv) if args.csv else synthetic_styles(args.products)
    params = _override(PAPER_PARAMS if args.paper else Node2VecParams(), args.set)
    started = time.perf_counter()
    graph = build_graph(rows)
    build_seconds = time.perf_counter() - started
    cpu_before = _cpu_seconds()
    space = embed_graph(graph, params)
    cpu_seconds = _cpu_seconds() - cpu_before
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
        "seconds": round(space.walks_seconds + space.train_seconds, 1),
        "walks_seconds": round(space.walks_seconds, 1),
        "train_seconds": round(space.train_seconds, 1),
        "build_seconds": round(build_seconds, 2),
        "tokens_trained": space.tokens_trained,
        # CPU time of walks + training (all threads): comparable across runs even when other
        # work shares the machine and stretches the wall-clock figures.
        "cpu_seconds": round(cpu_seconds, 1),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(_peak_rss_mb()),
        **quality,
        "settings": "paper" if args.paper else "default",
        "params": params.to_dict(),
    }
    line = json.dumps(result)
    if not args.json:
        print(f"graph space for {graph.num_products} products: {result['seconds']} s, "
              f"{result['peak_rss_mb']} MB peak", file=sys.stderr)
    print(line)


if __name__ == "__main__":
    main()
