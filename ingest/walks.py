"""node2vec random walks sampled on the graph's CSR arrays with numpy.

All walks of a batch advance together, one vectorised step at a time, so the cost is about
`walk_length` numpy passes per batch whatever the number of nodes. The reference `node2vec`
package instead precomputes second-order transition tables quadratic in node degree, which is
~100 GB on the full catalog (attribute nodes have degree ~34k).

With p = q = 1 a walk is first-order: each step picks a neighbour uniformly. Otherwise the
step from `cur` (having come from `prev`) picks neighbour x with weight 1/p if x is prev,
1 if x is also a neighbour of prev, 1/q otherwise (Grover & Leskovec 2016). It is sampled
exactly by rejection: propose a neighbour uniformly, accept with probability weight / bound.
A large 1/p would make that bound, and so the rejection rate, large; the return move alone
is therefore given its own slice of the proposal (KnightKing's "outlier folding"), so the
bound is max(1, 1/q) and the acceptance rate stays >= min(1, q) whatever p is.

On a collapsed graph (ingest.graph.collapse) a node of multiplicity m stands for m equivalent
product nodes and edges weigh m(u) * m(v). A step picks a neighbour in proportion to the edge
weight (a binary search in the cumulative weights), and the node2vec bias is the one the
uncollapsed walk would apply: going back to a combination of m products means going back to the
product just left (1/p) or to one of its m - 1 twins, which are not adjacent to the previous
node (1/q each), so the return weighs 1/p + (m - 1)/q per unit of edge weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from catalog.core.errors import CatalogError
from ingest.graph import ProductGraph

END = -1  # fills the rest of a walk that cannot move (it started on an isolated node)
# Walks advanced together: bounds the sampler's temporaries and the caller's batch (the walks
# themselves, 120 bytes each at length 30, and their token count) to ~50 MB at any catalog size.
BATCH_WALKS = 1 << 17


def sample_walks(graph: ProductGraph, *args, **kwargs) -> np.ndarray:
    """Every walk `WalkBatches(graph, ...)` makes, in one int32 array (num_walks * starts,
    walk_length)."""
    batches = WalkBatches(graph, *args, **kwargs)
    walks = np.empty((batches.total, batches.walk_length), dtype=np.int32)
    begin = 0
    for batch in batches:
        walks[begin : begin + len(batch)] = batch
        begin += len(batch)
    return walks


class WalkBatches:
    """`num_walks` walks from each start node (default: every node), a batch of at most
    BATCH_WALKS at a time, so a caller that spools them never holds them all.

    Walks are int32 rows of `walk_length` node indices. Row `r * len(start_nodes) + i` (counting
    across batches) is the r-th walk from `start_nodes[i]`, so each block of len(start_nodes) rows
    visits every start node once. A walk from an isolated node is that node followed by END (-1).
    The same seed gives the same walks. `progress` is called with the number of walks just
    finished. Checks its arguments when made; `total` is the number of walks it yields.
    """

    def __init__(
        self,
        graph: ProductGraph,
        num_walks: int = 200,
        walk_length: int = 30,
        p: float = 1.0,
        q: float = 1.0,
        seed: int = 0,
        start_nodes: np.ndarray | None = None,
        progress: Callable[[int], None] | None = None,
    ):
        if num_walks < 1 or walk_length < 1:
            raise CatalogError("num_walks and walk_length must be at least 1")
        if p <= 0 or q <= 0:
            raise CatalogError("node2vec p and q must be positive")
        starts = np.arange(graph.num_nodes) if start_nodes is None else np.asarray(start_nodes, dtype=np.int64)
        if starts.size and (starts.min() < 0 or starts.max() >= graph.num_nodes):
            raise CatalogError("start node out of range")
        self._sampler = _WalkSampler(graph, p, q, np.random.default_rng(seed))
        self._starts = np.tile(starts, num_walks)
        self.walk_length = walk_length
        self._progress = progress
        self.total = self._starts.size

    def __iter__(self) -> Iterator[np.ndarray]:
        for begin in range(0, self.total, BATCH_WALKS):
            batch = self._sampler.walk(self._starts[begin : begin + BATCH_WALKS], self.walk_length)
            if self._progress is not None:
                self._progress(len(batch))
            yield batch


class _WalkSampler:
    """Advances a batch of walks on one graph with one random generator."""

    def __init__(self, graph: ProductGraph, p: float, q: float, rng: np.random.Generator):
        self.indptr = graph.indptr
        self.indices = graph.indices.astype(np.int64)
        self.degree = graph.degree()
        self.rng = rng
        self.weighted = graph.weights is not None
        if self.weighted:
            if graph.multiplicity is None:
                raise CatalogError("a weighted graph needs node multiplicities")
            self.multiplicity = graph.multiplicity.astype(np.int64)
            self.cumulative = np.cumsum(graph.weights, dtype=np.int64)  # inclusive, over all edges
            before = np.concatenate([[0], self.cumulative])
            self.row_start = before[self.indptr[:-1]]  # weight before each node's first edge
            self.row_weight = before[self.indptr[1:]] - self.row_start
        self.second_order = not (p == 1.0 and q == 1.0)
        self.return_weight = 1.0 / p
        self.far_weight = 1.0 / q
        # Envelope for every non-return move; the part of the return weight above it is folded out.
        self.bound = max(1.0, self.far_weight)
        self.return_extra = max(0.0, self.return_weight - self.bound)
        if self.second_order:
            # CSR with sorted neighbours makes these (source, target) keys globally sorted,
            # so "is x a neighbour of prev" is one searchsorted for a whole batch.
            sources = np.repeat(np.arange(graph.num_nodes, dtype=np.int64), self.degree)
            self.num_nodes = graph.num_nodes
            self.edge_keys = sources * graph.num_nodes + self.indices
            # prev and a candidate are both neighbours of cur, so in a product–attribute graph
            # they are on the same side and never adjacent: the lookup is needed only when
            # some edge joins two products or two attributes.
            is_product = np.arange(graph.num_nodes) < graph.num_products
            self.same_side_edges = bool((is_product[sources] == is_product[self.indices]).any())

    def walk(self, starts: np.ndarray, walk_length: int) -> np.ndarray:
        walks = np.full((starts.size, walk_length), END, dtype=np.int32)
        walks[:, 0] = starts
        if walk_length == 1:
            return walks
        cur = starts.astype(np.int64)
        moving = np.flatnonzero(self.degree[cur] > 0)
        walks[moving, 1] = self._uniform_step(cur[moving])
        for step in range(2, walk_length):
            cur = walks[moving, step - 1].astype(np.int64)
            if self.second_order:
                walks[moving, step] = self._biased_step(walks[moving, step - 2].astype(np.int64), cur)
            else:
                walks[moving, step] = self._uniform_step(cur)
        return walks

    def _uniform_step(self, cur: np.ndarray) -> np.ndarray:
        """A neighbour of each node in `cur` (all have degree >= 1), uniform or by edge weight."""
        offset = (self.rng.random(cur.size) * self._row_weight(cur)).astype(np.int64)
        return self._neighbour_at(cur, offset)

    def _row_weight(self, cur: np.ndarray) -> np.ndarray:
        return self.row_weight[cur] if self.weighted else self.degree[cur]

    def _neighbour_at(self, cur: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """The neighbour of `cur` whose slice of the row's total weight holds `offset`."""
        if not self.weighted:
            return self.indices[self.indptr[cur] + offset]
        return self.indices[np.searchsorted(self.cumulative, self.row_start[cur] + offset, side="right")]

    def _biased_step(self, prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """The node2vec move from `cur` having come from `prev`, by vectorised rejection."""
        chosen = np.empty(cur.size, dtype=np.int64)
        pending = np.arange(cur.size)
        while pending.size:
            p_prev, p_cur = prev[pending], cur[pending]
            total = self._row_weight(p_cur)
            # Unit multiplicities on an unweighted graph; then m_cur = m_prev = 1 below.
            m_cur = self.multiplicity[p_cur] if self.weighted else 1
            m_prev = self.multiplicity[p_prev] if self.weighted else 1
            # Proposal: each neighbour a slice of height `bound` per unit of edge weight, plus the
            # folded-out return slice (m_cur units of `return_extra`).
            extra = m_cur * self.return_extra
            u = self.rng.random(pending.size) * (total * self.bound + extra)
            slot = np.minimum((u / self.bound).astype(np.int64), total)  # == total: the return slice
            folded = slot == total
            candidate = np.where(folded, p_prev, self._neighbour_at(p_cur, np.minimum(slot, total - 1)))
            if self.same_side_edges:
                weight = np.where(self._adjacent(p_prev, candidate), 1.0, self.far_weight)
            else:
                weight = np.full(pending.size, self.far_weight)
            # The return's target weight, in units of edge weight m_cur * m_prev, is split between
            # its ordinary slice (up to `bound` per unit) and the folded slice.
            returning = m_cur * (self.return_weight + (m_prev - 1) * self.far_weight)
            ordinary = np.minimum(returning, m_cur * m_prev * self.bound)
            is_return = candidate == p_prev
            weight = np.where(is_return, ordinary / (m_cur * m_prev), weight)
            folded_accept = np.divide(
                returning - ordinary,
                extra,
                out=np.ones(pending.size),
                where=np.broadcast_to(extra, (pending.size,)) > 0,
            )
            accept = np.where(
                folded,
                self.rng.random(pending.size) < folded_accept,
                self.rng.random(pending.size) * self.bound < weight,
            )
            chosen[pending[accept]] = candidate[accept]
            pending = pending[~accept]
        return chosen

    def _adjacent(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        keys = a * self.num_nodes + b
        pos = np.minimum(np.searchsorted(self.edge_keys, keys), self.edge_keys.size - 1)
        return self.edge_keys[pos] == keys
