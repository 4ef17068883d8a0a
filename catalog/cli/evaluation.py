"""Measuring commands: eval and plot."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.options import LINKER_CHOICES, db_option, json_option, k_option, open_catalog, ranking_option
from catalog.core.columns import ATTRIBUTE_COLUMNS


@click.command("eval")
@click.option(
    "--holdout",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.1,
    show_default=True,
    help="Share of the products with photos held out of graph and linker training and queried as new photos.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the held-out choice and the samples.")
@k_option(10)
@click.option(
    "--linker",
    "linker_kind",
    type=click.Choice(LINKER_CHOICES),
    default=None,
    help="Linker to retrain (default: the one the database was built with).",
)
@click.option(
    "--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node (default: as recorded)."
)
@click.option(
    "--walk-length", type=click.IntRange(2), default=None, help="node2vec walk length (default: as recorded)."
)
@click.option("-p", "p", type=float, default=None, help="node2vec return parameter (default: as recorded).")
@click.option("-q", "q", type=float, default=None, help="node2vec in-out parameter (default: as recorded).")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Linker epochs at most (default: as recorded).")
@click.option("--trials", type=click.IntRange(0), default=200, show_default=True, help="Arithmetic queries to sample.")
@click.option(
    "--add-only",
    is_flag=True,
    help="Arithmetic only adds values, as `query --add-only` (default: an added value replaces the photo's own).",
)
@click.option(
    "--query-order",
    is_flag=True,
    help="Arithmetic results ordered by the query alone, as `query --query-order` (default: the band by the item).",
)
@click.option(
    "--cosine-order",
    is_flag=True,
    help="Rec results in plain cosine order (default: the nearest 100 ordered by the linker's classifiers).",
)
@click.option(
    "--no-photo-features",
    is_flag=True,
    help="The attributes linker reads the image vectors alone (default: colour and silhouette features too).",
)
@click.option(
    "--calibration/--no-calibration",
    "calibrate",
    default=None,
    help="The attributes linker's classifiers with / without a temperature per column fitted on its validation "
    "split (docs/quality.md) [default: as recorded, or the linker's default].",
)
@ranking_option
@db_option
@json_option
def eval_command(
    holdout,
    seed,
    k,
    linker_kind,
    num_walks,
    walk_length,
    p,
    q,
    epochs,
    trials,
    add_only,
    query_order,
    cosine_order,
    no_photo_features,
    calibrate,
    ranking,
    db,
    as_json,
):
    """Measure recommendation quality on held-out photos, without leaks.

    Holds out a share of the products with photos, rebuilds the graph space and the linker on the
    rest (stored image vectors, no photo is encoded) and queries the held-out photos as new ones.
    The result is also saved as eval.json in the database folder for `catalog plot eval`.

    \b
    catalog eval
    catalog eval --linker paper --json
    catalog eval --holdout 0.2 -k 6 --walks 50
    catalog eval --ranking arithmetic_band=0.1 --ranking rec_weights.baseColour=1.5
    """
    from catalog.cli import render
    from catalog.cli.options import reporter

    catalog = open_catalog(db)
    result = catalog.evaluate(
        holdout=holdout,
        seed=seed,
        k=k,
        linker=linker_kind,
        walks=num_walks,
        walk_length=walk_length,
        p=p,
        q=q,
        epochs=epochs,
        trials=trials,
        replace=not add_only,
        band=not query_order,
        rec_order=not cosine_order,
        photo_features=False if no_photo_features else None,
        calibrate=calibrate,
        ranking=ranking,
        reporter=reporter(as_json),
    )
    if result.save_error:  # a read-only database still gets its numbers printed
        render.console(stderr=True).print(
            f"warning: could not save the eval run in {catalog.path}: {result.save_error}"
        )
    render.emit_json(result.to_dict()) if as_json else render.print_evaluation(result.to_dict())


@click.group()
def plot():
    """Draw pictures (PNG, no display needed): the latent spaces and an eval run.

    \b
    catalog plot tsne --out spaces.png
    catalog plot tsne --color articleType --sample 1000
    catalog plot eval --out eval.png
    """


@plot.command("tsne")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("spaces.png"), show_default=True, help="PNG to write."
)
@click.option(
    "--color",
    type=click.Choice(ATTRIBUTE_COLUMNS),
    default="masterCategory",
    show_default=True,
    help="Attribute column that colours the points.",
)
@click.option(
    "--sample",
    type=click.IntRange(10),
    default=3000,
    show_default=True,
    help="At most this many products with photos (t-SNE time grows with the points).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the sample and t-SNE.")
@db_option
def plot_tsne(out, color, sample, seed, db):
    """The paper's Figure 4: t-SNE of the image space and the graph space side by side.

    2 components, 300 iterations, perplexity 40 (scikit-learn), one colour per --color value.
    """
    from catalog.cli import render
    from catalog.cli.options import reporter

    written = open_catalog(db).plot_spaces(out, color=color, sample=sample, seed=seed, reporter=reporter())
    render.console().print(f"wrote {written}")


@plot.command("eval")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("eval.png"), show_default=True, help="PNG to write."
)
@db_option
def plot_eval_command(out, db):
    """Precision per attribute column and space, and nDCG, from the last `catalog eval` run."""
    from catalog.cli import render

    written = open_catalog(db).plot_evaluation(out)
    render.console().print(f"wrote {written}")


COMMANDS: list = [eval_command, plot]
