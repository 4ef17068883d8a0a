"""The `catalog` command line: parse, call one `Catalog` method, render. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from catalog.cli_options import (
    LINKER_CHOICES,
    SPACE_CHOICES,
    LocationParam,
    db_option,
    json_option,
    k_option,
    open_catalog,
)
from catalog.cli_results import csv_option, html_option, where_option
from catalog.errors import CatalogError


class CatalogGroup(click.Group):
    """Turns errors into one line on stderr: exit 1 for user/data errors, 130 for Ctrl-C."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CatalogError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; the database is unchanged.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as error:  # a bug or an unexpected environment problem
            if ctx.params.get("debug"):
                raise
            message = (str(error).strip().splitlines() or [""])[0][:300]
            click.echo(
                f"Error: unexpected {type(error).__name__}: {message} (run with --debug for the traceback)", err=True
            )
            ctx.exit(1)


@click.group(cls=CatalogGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@db_option
@click.version_option(package_name="catalog")
def cli(debug: bool, db: Path | None):
    """Fashion catalog recommendations from linked image and graph latent spaces.

    \b
    catalog ingest --csv styles.csv --images images/
    catalog similar 19549
    catalog query --image shirt.jpg --plus green,shoes --minus topwear
    """
    # LanceDB's Rust side logs warnings to stderr, e.g. one line per empty k-means cluster when an
    # index is trained on a column of repeated vectors (tied graph vectors at 1M products printed
    # 350): noise on a terminal where the CLI reports what matters. Errors still show; a user can
    # ask for more with LANCEDB_LOG=warn. Set before the first command imports lancedb.
    os.environ.setdefault("LANCEDB_LOG", "error")


def reporter(as_json: bool = False):
    """Progress bars on a terminal's stderr; nothing when stderr is not a terminal or --json is asked."""
    from catalog import render

    return render.RichReporter(enabled=not as_json and sys.stderr.isatty())


@cli.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), required=True, help="styles.csv to read.")
@click.option(
    "--images",
    "images_dir",
    type=LocationParam(),
    required=True,
    help="Folder of {id}.jpg photos, or an s3://, gs://, az:// prefix holding them.",
)
@click.option(
    "--weights",
    default=None,
    help="Backbone weights: imagenet (downloaded once by Keras), random (seeded, offline) or a local FILE "
    "[default: what the database records; imagenet for a new one].",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N rows of the CSV.")
@click.option(
    "--seed", type=int, default=None, help="Seed for the head, walks, word2vec and linker [default: recorded, or 0]."
)
@click.option(
    "--image-size",
    type=click.IntRange(32, 1024),
    default=None,
    help="Pixels per side fed to ResNet50 [default: recorded, or 256].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 256),
    default=None,
    help="Images per ResNet50 batch [default: 16 on CPU, 64 when TensorFlow sees a GPU].",
)
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@click.option("--walk-length", type=click.IntRange(2), default=None, help="node2vec walk length.")
@click.option("-p", "p", type=float, default=1.0, show_default=True, help="node2vec return parameter.")
@click.option("-q", "q", type=float, default=1.0, show_default=True, help="node2vec in-out parameter.")
@click.option(
    "--linker",
    "linker_kind",
    type=click.Choice(LINKER_CHOICES),
    default=None,
    help="attributes: per-column classifiers, photo placed among the catalog's combinations (measures best); "
    "cosine: the paper's network, standardised inputs + cosine loss; paper: the paper's MSE recipe "
    "[default: recorded, or attributes].",
)
@click.option(
    "--epochs", type=click.IntRange(1), default=None, help="Linker epochs at most [default: recorded, or 60]."
)
@click.option("--prune", is_flag=True, help="Remove products that are not in the CSV (default: keep them).")
@click.option("--rebuild", "full_rebuild", is_flag=True, help="Retrain graph space and linker on the whole catalog.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where photos are decoded and encoded: this process, or a Ray cluster (pip install 'catalog[ray]').",
)
@click.option("--ray-address", default=None, help="Ray cluster to join (default: this machine's, started if needed).")
@click.option(
    "--ray-workers",
    type=click.IntRange(1),
    default=None,
    help="Encoder actors on the Ray cluster (default: one per GPU, else one per 2 CPUs).",
)
@db_option
@json_option
def ingest(
    csv_path,
    images_dir,
    weights,
    limit,
    seed,
    image_size,
    batch_size,
    num_walks,
    walk_length,
    p,
    q,
    linker_kind,
    epochs,
    prune,
    full_rebuild,
    engine,
    ray_address,
    ray_workers,
    db,
    as_json,
):
    """Read styles.csv and photos into the database (one committed version).

    The first ingest trains everything. Later ones are incremental: unchanged products are
    skipped by content hash, new photos are encoded, new products are placed in the existing
    graph space; an ingest that changes nothing writes nothing. A later ingest uses the encoder
    the database records unless told otherwise.

    \b
    catalog ingest --csv styles.csv --images images/
    catalog ingest --csv styles.csv --images images/ --weights random --limit 2000
    catalog ingest --csv new-rows.csv --images images/          # add or change a few products
    catalog ingest --csv styles.csv --images images/ --prune    # also remove products not in the CSV
    catalog ingest --csv styles.csv --images /shared/images/ --db s3://bucket/catalog --engine ray --ray-address auto
    """
    from catalog import render

    report = open_catalog(db).ingest(
        csv_path,
        images_dir,
        weights=weights,
        seed=seed,
        limit=limit,
        image_size=image_size,
        batch_size=batch_size,
        walks=num_walks,
        walk_length=walk_length,
        p=p,
        q=q,
        linker=linker_kind,
        epochs=epochs,
        prune=prune,
        rebuild=full_rebuild,
        engine=engine,
        ray_address=ray_address,
        ray_workers=ray_workers,
        reporter=reporter(as_json),
    )
    render.emit_json(report.to_dict()) if as_json else render.print_ingest_report(report)


@cli.command()
@click.argument("product_id", type=int)
@k_option(6)
@click.option(
    "--space",
    type=click.Choice(SPACE_CHOICES),
    default="rec",
    show_default=True,
    help="rec: translated image vs graph; image; graph; all: the three side by side.",
)
@where_option
@html_option
@db_option
@json_option
@csv_option
def similar(product_id, k, space, where, html_path, db, as_json, as_csv):
    """Products most similar to a catalog product.

    \b
    catalog similar 19549
    catalog similar 19549 --space all -k 6 --html similar.html
    catalog similar 19549 --where "gender = 'Women' AND season = 'Summer'"
    """
    from catalog.cli_results import check_formats, emit_results

    check_formats(as_json, as_csv, html_path)
    catalog = open_catalog(db)
    found = catalog.similar(product_id, k=k, space=space, where=where)
    emit_results(catalog, found, as_json=as_json, as_csv=as_csv, html_path=html_path)


@cli.command()
@click.option(
    "--image", "image_path", type=click.Path(path_type=Path), default=None, help="A photo (need not be in the catalog)."
)
@click.option(
    "--id",
    "product_ids",
    type=int,
    multiple=True,
    help="A catalog product (its stored translated vector); repeat to average several.",
)
@click.option("--plus", multiple=True, help="Attributes to add, comma-separated, optional weight: green:2,shoes.")
@click.option("--minus", multiple=True, help="Attributes to subtract, comma-separated, optional weight.")
@click.option(
    "--add-only",
    is_flag=True,
    help="Only add --plus values (the paper's sum); by default each replaces the item's own value of its column.",
)
@click.option(
    "--query-order",
    is_flag=True,
    help="Order results by the query alone; by default those within .12 of the best go by closeness to the item.",
)
@click.option(
    "--weights", default=None, help="Backbone weights for --image (default: what the database was built with)."
)
@k_option(6)
@where_option
@html_option
@db_option
@json_option
@csv_option
def query(
    image_path, product_ids, plus, minus, add_only, query_order, weights, k, where, html_path, db, as_json, as_csv
):
    """Search the graph space from a photo or products, with weighted attribute arithmetic.

    Every vector is L2-normalised before it is weighted and summed, so the item counts as much
    as a weight-1 attribute (see README, "query").

    \b
    catalog query --image shirt.jpg --plus green,shoes --minus topwear
    catalog query --id 19549 --plus green:2 --where "gender = 'Men'"
    catalog query --id 19549 --id 1855 --html mix.html
    """
    from catalog.cli_results import check_formats, emit_results

    if (image_path is None) == (not product_ids):
        raise click.UsageError("give either --image FILE or one or more --id ID")
    check_formats(as_json, as_csv, html_path)
    catalog = open_catalog(db)
    found = catalog.query(
        image=image_path,
        ids=product_ids,
        plus=plus,
        minus=minus,
        where=where,
        k=k,
        weights=weights,
        replace=not add_only,
        band=not query_order,
    )
    emit_results(catalog, found, as_json=as_json, as_csv=as_csv, html_path=html_path)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where to write the demo styles.csv, images/ and the example files.",
)
@click.option("--count", type=click.IntRange(50, 5000), default=600, show_default=True, help="Products to generate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--image-size",
    type=click.IntRange(32, 1024),
    default=256,
    show_default=True,
    help="Pixels per side of the drawn photos and of the encoder input (smaller is faster).",
)
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@db_option
def demo(out_dir, count, seed, image_size, num_walks, db):
    """Generate a demo catalog, ingest it with --weights random, and show examples.

    Runs offline in a few minutes on 2 cores. The README's examples run as written in this folder afterwards.
    """
    from catalog import render
    from catalog.demo import run_demo

    run = run_demo(
        open_catalog(db),
        out_dir,
        count=count,
        seed=seed,
        image_size=image_size,
        walks=num_walks,
        reporter=reporter(),
        on_catalog=lambda made: render.console().print(
            f"demo catalog: {made.count} products in {made.csv_path} and {made.images_dir}/"
        ),
    )
    render.print_demo(run)


# Commands that live in their own modules; each module lists its click commands in COMMANDS.
from catalog import cli_browse, cli_eval, cli_serve, cli_updates  # noqa: E402  (they import only click at module level)

for _module in (cli_browse, cli_eval, cli_serve, cli_updates):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main():
    # Only the command line quiets TensorFlow's C++ start-up logging this early; the library sets it
    # when it first imports TensorFlow (catalog.encoder.import_keras), never on `import catalog`.
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cli(prog_name="catalog")


if __name__ == "__main__":
    main()
