"""The graph latent space G_n2v: node2vec walks embedded with gensim Word2Vec (skip-gram).

The walks run on the collapsed graph (ingest.graph.collapse): one node per distinct combination
of attribute values, weighted by its product count, with walks started in proportion to that
count, so the walks see attribute values exactly as on the product graph, while Word2Vec learns
7,247 combination vectors instead of 44,446 product vectors on the real file. Every product takes
its combination's vector: products with the same values are equal in this space (docs/graph-space.md
says how search orders such ties). `collapse=False` walks the product graph as before.

At catalog scale the paper's settings (44.7k nodes x 200 walks x 30 steps = 268M tokens,
window 10) cost ~1,840 CPU-seconds, about 920 s on 2 idle cores: over a 600 s budget. What
makes it fast, measured with benchmarks/graph.py (see the numbers in Node2VecParams):

- Walks are sampled with numpy (ingest.walks) and written straight into a corpus file of
  fixed-width integer tokens, which gensim's `corpus_file` mode reads in C++ with no Python
  per token. The vocabulary comes from a bincount of the walks, so gensim never scans the
  file in Python either.
- Word2Vec's frequent-word downsampling (`sample`) is applied while writing the file, with
  gensim's own formula, instead of inside gensim: for one epoch the same random thinning,
  but dropped tokens are never written, read or looked up. Attribute nodes are half of all
  tokens and each occurs up to millions of times; a smaller `sample` (1e-4 instead of
  gensim's 1e-3) drops most of them, while product tokens are never thinned (the threshold
  never goes below the most frequent product's count, which matters in small catalogs).
- The cost left is about (tokens kept) x (window) x (negative + 1): window 5 and 100 walks
  per node instead of 10 and 200 cut it further. Fewer negatives (2) were cheaper still but
  lost ~5 points of articleType agreement, so negative stays 5.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from catalog.core.columns import NODE_DIM
from catalog.core.errors import CatalogError
from ingest.graph import CombinationGraph, ProductGraph, build_graph, collapse, combinations
from ingest.walks import END, WalkBatches

# Walks turned into text at a time: ~55 MB of temporaries (~850 bytes a walk of 30: the random
# draws, the gathered keep probabilities and the text), the same at every catalog size. 1 << 19
# before issue 24: ~440 MB, the graph stage's peak from ~5,000 combinations on.
WRITE_BATCH_WALKS = 1 << 16


@dataclass(frozen=True)
class Node2VecParams:
    """node2vec walk and Word2Vec settings; stored with the database so a run can be repeated.

    The defaults are the fast settings. On the 44,446-product synthetic catalog
    (`python -m benchmarks.graph`), walks + training took 487 CPU-seconds against 1,837 for
    PAPER_PARAMS (peak RSS 1.1 GB vs 1.6 GB), and a product's 10 nearest products shared its
    articleType / baseColour more often: .877 / .858 against .847 / .839. With 200 walks
    (window 5, sample 1e-4) it was 937 CPU-seconds for .859 / .860. Quality held within a
    point at 300 and 3,000 products too.
    """

    dimensions: int = NODE_DIM
    num_walks: int = 100  # walks per node (paper: 200)
    walk_length: int = 30  # nodes per walk (paper)
    p: float = 1.0  # return parameter
    q: float = 1.0  # in-out parameter
    window: int = 5  # paper run: 10
    epochs: int = 1
    negative: int = 5
    # Word2Vec downsampling threshold as a share of all tokens (gensim's meaning; its default is
    # 1e-3), applied once while writing the corpus, so all epochs see the same thinned walks.
    sample: float = 1e-4
    seed: int = 0
    workers: int = 2
    # Walk the graph of distinct attribute combinations. num_walks then counts walks per node of
    # that graph (combinations + attribute values), started in proportion to how many products
    # each node stands for.
    collapse: bool = True

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Node2VecParams:
        """Rebuild from `to_dict()` output; unknown keys (from a newer version) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


# The paper's G_n2v (32-d, 200 walks of 30 per node) with gensim's window and sample defaults.
PAPER_PARAMS = Node2VecParams(num_walks=200, window=10, sample=1e-3, collapse=False)
# The defaults before the collapsed graph: walks on the product graph (the same-run baseline).
PRODUCT_GRAPH_PARAMS = Node2VecParams(collapse=False)


@dataclass
class GraphSpace:
    """Vectors of every graph node, in the graph's node order."""

    product_vectors: np.ndarray  # float32 (P, dimensions), graph.product_ids order
    attribute_vectors: np.ndarray  # float32 (A, dimensions), graph.attribute_keys order
    walks_seconds: float  # sampling the walks and writing the corpus
    train_seconds: float  # Word2Vec
    tokens_trained: int = 0  # corpus tokens after downsampling, per epoch
    nodes_embedded: int = 0  # nodes Word2Vec learned (combinations + attributes when collapsed)


def catalog_graph(rows: pd.DataFrame, params: Node2VecParams) -> ProductGraph | CombinationGraph:
    """The graph `embed_graph` walks for these settings: the combinations (built straight from the
    value codes) when collapsing, else the product graph."""
    return combinations(rows) if params.collapse else build_graph(rows)


def progress_total(graph: ProductGraph | CombinationGraph, params: Node2VecParams) -> int:
    """The number of units `embed_graph` reports: walks sampled, then walks trained per epoch."""
    if isinstance(graph, CombinationGraph):
        nodes = graph.graph.num_nodes
    else:
        nodes = collapse(graph).graph.num_nodes if params.collapse else graph.num_nodes
    return params.num_walks * nodes * (1 + params.epochs)


def walk_starts(walked: ProductGraph, num_walks: int, rng: np.random.Generator) -> np.ndarray:
    """num_walks x nodes walk starts, spread over the nodes in proportion to their multiplicity.

    On the product graph every node starts num_walks walks, so a uniformly chosen walk starts at
    a uniform node; here a combination of m products starts m times as many walks as a single
    product would, and an attribute value as many as one product: the same start distribution,
    scaled to the number of nodes walked. Fractions are rounded by systematic sampling (one random
    offset), so every node gets its share within one walk, exactly in expectation, and the total
    is exactly num_walks x nodes.
    """
    multiplicity = walked.multiplicity if walked.multiplicity is not None else np.ones(walked.num_nodes, np.int64)
    total = num_walks * walked.num_nodes
    cumulative = np.cumsum(multiplicity) * (total / multiplicity.sum())
    cumulative[-1] = total  # no floating-point shortfall at the end
    boundaries = np.floor(cumulative + rng.random()).astype(np.int64)  # the first boundary, floor(offset), is 0
    per_node = np.diff(boundaries, prepend=0)
    starts = np.repeat(np.arange(walked.num_nodes), per_node)
    return starts[rng.permutation(starts.size)]  # walks of one node spread over the corpus, as when tiled


def embed_graph(
    graph: ProductGraph | CombinationGraph,
    params: Node2VecParams = Node2VecParams(),
    progress: Callable[[int], None] | None = None,
) -> GraphSpace:
    """Sample node2vec walks over every node and train Word2Vec on them.

    Every node gets a trained vector: each node starts its own walks, so it is in the
    vocabulary (min_count=1). An isolated product's walks are just itself, so its vector stays
    at its random initialisation: non-zero, and similar to nothing.
    """
    if (graph.graph if isinstance(graph, CombinationGraph) else graph).num_nodes == 0:
        raise CatalogError("the graph has no nodes to embed")
    started = time.perf_counter()
    if params.collapse:
        combined = graph if isinstance(graph, CombinationGraph) else collapse(graph)
        walked, product_node = combined.graph, combined.combination_of
        # One walk per start: num_walks x nodes starts, shared by the nodes in proportion to the
        # products each stands for (walk_starts).
        num_walks, starts = 1, walk_starts(walked, params.num_walks, np.random.default_rng(params.seed + 2))
    else:
        if isinstance(graph, CombinationGraph):
            raise ValueError("walking the product graph (collapse=False) needs build_graph's ProductGraph")
        walked, product_node = graph, np.arange(graph.num_products)
        num_walks, starts = params.num_walks, None
    walks = WalkBatches(
        walked,
        num_walks=num_walks,
        walk_length=params.walk_length,
        p=params.p,
        q=params.q,
        seed=params.seed,
        start_nodes=starts,
        progress=progress,
    )
    num_nodes, num_products = walked.num_nodes, walked.num_products
    with tempfile.TemporaryDirectory(prefix="catalog-walks-") as tmp:
        # The walks wait on disk, not in memory (120 bytes a walk: 180 MB at 1.5M walks): the
        # downsampling below needs every node's count before the first line of text is written.
        spool = os.path.join(tmp, "walks.int32")
        counts = _spool_walks(walks, spool, num_nodes)
        # Product tokens are never thinned: the threshold never goes below the count of the most
        # frequent product (a combination's count is shared by its products), and combinations keep
        # all their tokens, as the products they stand for would.
        multiplicity = walked.multiplicity[:num_products] if walked.multiplicity is not None else 1
        per_product = counts[:num_products] / multiplicity
        keep = _keep_probability(counts, params.sample, floor=int(np.ceil(per_product.max(initial=0))))
        keep[:num_products] = 1.0
        width = len(str(num_nodes - 1))
        corpus = os.path.join(tmp, "walks.txt")
        rng = np.random.default_rng(params.seed + 1)
        tokens = _write_corpus(_read_walks(spool, params.walk_length, WRITE_BATCH_WALKS), keep, width, corpus, rng)
        os.remove(spool)
        walks_seconds = time.perf_counter() - started

        started = time.perf_counter()
        vectors = _train_word2vec(corpus, counts, tokens, width, params, num_nodes, progress)
        train_seconds = time.perf_counter() - started
    return GraphSpace(
        product_vectors=vectors[:num_products][product_node],
        attribute_vectors=vectors[num_products:],
        walks_seconds=walks_seconds,
        train_seconds=train_seconds,
        tokens_trained=tokens,
        nodes_embedded=num_nodes,
    )


def _spool_walks(walks: Iterable[np.ndarray], path: str, num_nodes: int) -> np.ndarray:
    """Append each batch of walks to `path` (int32, row after row) and return every node's number
    of occurrences in them, counted a batch at a time."""
    counts = np.zeros(num_nodes, dtype=np.int64)
    with open(path, "wb") as out:
        for batch in walks:
            counts += np.bincount(batch[batch != END], minlength=num_nodes)
            batch.tofile(out)
    return counts


def _read_walks(path: str, walk_length: int, rows: int) -> Iterator[np.ndarray]:
    """The spooled walks back, `rows` at a time."""
    with open(path, "rb") as source:
        while (batch := np.fromfile(source, np.int32, count=rows * walk_length)).size:
            yield batch.reshape(-1, walk_length)


def _keep_probability(counts: np.ndarray, sample: float, floor: int = 0) -> np.ndarray:
    """gensim's per-word downsampling probability (Word2Vec.prepare_vocab), as an array.

    The threshold count never goes below `floor`, so no word occurring at most `floor` times
    is thinned.
    """
    if not sample:
        return np.ones(counts.size)
    threshold = sample * counts.sum() if sample < 1.0 else int(sample * (3 + math.sqrt(5)) / 2)
    threshold = max(threshold, floor)
    safe = np.maximum(counts, 1).astype(float)
    return np.minimum(1.0, (np.sqrt(safe / threshold) + 1) * (threshold / safe))


def _token_table(num_nodes: int, width: int) -> np.ndarray:
    """uint8 (num_nodes, width + 1): node i as zero-padded decimal digits, then a space."""
    digits = np.arange(num_nodes)[:, None] // (10 ** np.arange(width - 1, -1, -1)) % 10
    table = np.full((num_nodes, width + 1), ord(" "), dtype=np.uint8)
    table[:, :width] = ord("0") + digits
    return table


def _write_corpus(
    batches: Iterable[np.ndarray], keep: np.ndarray, width: int, path: str, rng: np.random.Generator
) -> int:
    """Write one walk per line, dropping each token with its downsampling probability.

    Every token is `width` digits and a space, so a batch of walks becomes text with a few
    numpy gathers (`batches`: the walks, WRITE_BATCH_WALKS at a time, which bounds those
    temporaries). Returns the number of tokens written.
    """
    table = _token_table(keep.size, width)
    written = 0
    with open(path, "wb") as out:
        for batch in batches:
            real = batch != END
            nodes = np.where(real, batch, 0)
            kept = real & (rng.random(batch.shape) < keep[nodes])
            text = table[nodes]  # (walks, length, width + 1)
            # The last kept token of a walk ends its line; walks with nothing kept are skipped.
            has_any = kept.any(axis=1)
            last = batch.shape[1] - 1 - np.argmax(kept[:, ::-1], axis=1)
            rows = np.flatnonzero(has_any)
            text[rows, last[rows], width] = ord("\n")
            out.write(text[kept].tobytes())
            written += int(kept.sum())
    return written


def _train_word2vec(
    corpus: str,
    counts: np.ndarray,
    tokens: int,
    width: int,
    params: Node2VecParams,
    num_nodes: int,
    progress: Callable[[int], None] | None,
) -> np.ndarray:
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    class _EpochProgress(CallbackAny2Vec):
        def on_epoch_end(self, model):
            if progress is not None:
                progress(params.num_walks * num_nodes)  # one epoch of the walks counted by progress_total

    model = Word2Vec(
        vector_size=params.dimensions,
        window=params.window,
        min_count=1,
        sg=1,
        negative=params.negative,
        sample=0,  # already applied while writing the corpus
        seed=params.seed,
        workers=params.workers,
    )
    keys = [f"{i:0{width}d}" for i in range(num_nodes)]
    model.build_vocab_from_freq(dict(zip(keys, np.maximum(counts, 1).tolist())))
    model.train(
        corpus_file=corpus,
        total_words=tokens,
        epochs=params.epochs,
        callbacks=[_EpochProgress()],
    )
    order = [model.wv.key_to_index[k] for k in keys]
    return np.ascontiguousarray(model.wv.vectors[order], dtype=np.float32)
