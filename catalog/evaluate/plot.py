"""Pictures: the paper's Figure 4 (t-SNE of the image and graph spaces) and the eval bars.

Figures are drawn with matplotlib's object API on an Agg canvas, never through pyplot, so nothing
needs a display and no global backend state is touched (the CLI runs headless and in tests).
"""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from catalog.core.columns import ATTRIBUTE_COLUMNS
from catalog.core.errors import CatalogError
from catalog.core.spaces import EVAL_SPACES, PLOT_LABELS
from catalog.store.database import Store

# The paper's Figure 4 settings.
TSNE_COMPONENTS = 2
TSNE_ITERATIONS = 300
TSNE_PERPLEXITY = 40.0
MAX_LEGEND = 10  # colours beyond the 10 commonest values are drawn grey as "other"
SPACE_COLOURS = {"rec": "#1f77b4", "image": "#ff7f0e", "graph": "#2ca02c", "random": "#9a9a9a"}
SPACE_LABELS = PLOT_LABELS
DPI = 100
TSNE_SIZE = (13.0, 6.0)  # inches: 1300 x 600 pixels at DPI
EVAL_SIZE = (13.0, 5.0)


@dataclass
class SpacesSample:
    """Products with photos, their two vectors and the label each is coloured by."""

    ids: np.ndarray
    labels: list[str]
    image_vectors: np.ndarray  # (N, 128)
    node_vectors: np.ndarray  # (N, 32)


def load_spaces(store: Store, color: str = "masterCategory", sample: int = 3000, seed: int = 0) -> SpacesSample:
    """A seeded sample of at most `sample` products with photos (both spaces need the same points)."""
    if color not in ATTRIBUTE_COLUMNS:
        raise CatalogError(f"cannot colour by {color!r}; choose one of {', '.join(ATTRIBUTE_COLUMNS)}")
    table = store.table("products").to_arrow().select(["id", color, "has_image", "image_vector", "node_vector"])
    table = table.filter(table.column("has_image")).sort_by("id")
    if table.num_rows < 5:
        raise CatalogError(f"t-SNE needs at least 5 products with photos; the database has {table.num_rows}")
    rows = np.arange(table.num_rows)
    if table.num_rows > sample:
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=sample, replace=False))
    table = table.take(rows)
    return SpacesSample(
        ids=table.column("id").to_numpy(),
        labels=[value or "(empty)" for value in table.column(color).to_pylist()],
        image_vectors=np.stack(table.column("image_vector").to_numpy(zero_copy_only=False)).astype(np.float32),
        node_vectors=np.stack(table.column("node_vector").to_numpy(zero_copy_only=False)).astype(np.float32),
    )


def tsne_2d(
    vectors: np.ndarray, seed: int = 0, perplexity: float = TSNE_PERPLEXITY, iterations: int = TSNE_ITERATIONS
) -> np.ndarray:
    """2-d t-SNE. Perplexity must stay below the number of points, so small samples lower it."""
    from sklearn.manifold import TSNE

    perplexity = min(perplexity, max(1.0, (len(vectors) - 1) / 3))
    # scikit-learn renamed n_iter to max_iter in 1.5 and removed n_iter in 1.7.
    iteration_name = "max_iter" if "max_iter" in inspect.signature(TSNE).parameters else "n_iter"
    tsne = TSNE(
        n_components=TSNE_COMPONENTS,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        random_state=seed,
        **{iteration_name: iterations},
    )
    return tsne.fit_transform(np.asarray(vectors, dtype=np.float64)).astype(np.float32)


def plot_spaces(
    store: Store,
    out: Path,
    color: str = "masterCategory",
    sample: int = 3000,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Figure 4: t-SNE of the image space (left) and graph space (right), one colour per value."""
    points = load_spaces(store, color, sample, seed)
    layouts = []
    for vectors in (points.image_vectors, points.node_vectors):
        layouts.append(tsne_2d(vectors, seed))
        if progress is not None:
            progress(1)
    return draw_spaces(points, layouts[0], layouts[1], color, out)


def draw_spaces(points: SpacesSample, image_xy: np.ndarray, graph_xy: np.ndarray, color: str, out: Path) -> Path:
    from matplotlib.figure import Figure

    colours = _label_colours(points.labels)
    figure = Figure(figsize=TSNE_SIZE, dpi=DPI)
    axes = figure.subplots(1, 2)
    titles = ("image space $I_{ResNet}$ (128-d)", "graph space $G_{n2v}$ (32-d)")
    labels = np.array([label if label in colours else "other" for label in points.labels], dtype=object)
    size = float(np.clip(8000 / len(labels), 3, 16))  # dots shrink as the sample grows
    for ax, xy, title in zip(axes, (image_xy, graph_xy), titles):
        for label, colour in colours.items():
            here = labels == label
            if here.any():
                ax.scatter(
                    xy[here, 0],
                    xy[here, 1],
                    s=size,
                    color=colour,
                    label=f"{label} ({int(here.sum())})",
                    alpha=0.75,
                    linewidths=0,
                )
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="center right", title=color, markerscale=3, frameon=False)
    figure.suptitle(f"t-SNE of {len(points.ids)} products with photos, coloured by {color}")
    figure.subplots_adjust(left=0.02, right=0.8, top=0.88, bottom=0.03, wspace=0.05)
    return _save(figure, out)


def _label_colours(labels: list[str]) -> dict[str, str]:
    """The commonest values get tab10 colours (commonest first); the rest share grey as "other"."""
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    counts = Counter(labels).most_common()
    colours = {label: palette[n] for n, (label, _) in enumerate(counts[:MAX_LEGEND])}
    if len(counts) > MAX_LEGEND:
        colours["other"] = "#c8c8c8"
    return colours


def plot_eval(document: dict, out: Path) -> Path:
    """Precision@k per attribute column, one bar per space, and nDCG@k per space beside it."""
    return _save(eval_figure(document), out)


def eval_png(document: dict) -> bytes:
    """The `plot_eval` figure as PNG bytes (the Catalog page of `catalog serve` shows it)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = eval_figure(document)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI, format="png")
    return buffer.getvalue()


def eval_figure(document: dict):
    from matplotlib.figure import Figure

    precision = document["precision"]
    spaces = [space for space in EVAL_SPACES if space in precision]
    columns = [c for c in ATTRIBUTE_COLUMNS if any(precision[s].get(c) is not None for s in spaces)]
    figure = Figure(figsize=EVAL_SIZE, dpi=DPI)
    bars, ndcg = figure.subplots(1, 2, width_ratios=[4, 1])
    width = 0.8 / len(spaces)
    x = np.arange(len(columns))
    for n, space in enumerate(spaces):
        values = [precision[space].get(c) or 0.0 for c in columns]
        bars.bar(
            x + (n - (len(spaces) - 1) / 2) * width,
            values,
            width,
            label=SPACE_LABELS.get(space, space),
            color=SPACE_COLOURS.get(space),
        )
    bars.set_xticks(x, columns, rotation=20)
    bars.set_ylim(0, 1)
    bars.set_ylabel(f"precision@{document['k']}")
    bars.legend(loc="upper right", fontsize="small", ncols=2)
    bars.grid(axis="y", alpha=0.3)
    kind = document.get("linker", {}).get("kind", "?")
    bars.set_title(
        f"{document['holdout']} held-out photos queried against {document.get('in_sample', '?')} "
        f"products (linker: {kind})",
        fontsize="medium",
    )
    scores = [document.get("ndcg", {}).get(space) or 0.0 for space in spaces]
    ndcg.bar(np.arange(len(spaces)), scores, color=[SPACE_COLOURS.get(s) for s in spaces])
    ndcg.set_xticks(np.arange(len(spaces)), spaces, rotation=20)
    ndcg.set_ylim(0, 1)
    ndcg.set_title(f"nDCG@{document['k']}", fontsize="medium")
    ndcg.grid(axis="y", alpha=0.3)
    figure.subplots_adjust(left=0.06, right=0.98, top=0.9, bottom=0.17, wspace=0.15)
    return figure


def _save(figure, out: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise CatalogError(f"--out {out}: only .png files are written")
    if not out.parent.is_dir():
        raise CatalogError(f"--out {out}: folder {out.parent} does not exist")
    FigureCanvasAgg(figure)
    try:
        figure.savefig(out, dpi=DPI, format="png")
    except OSError as error:
        raise CatalogError(f"cannot write {out}: {error.strerror or error}") from None
    return out
