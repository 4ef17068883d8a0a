"""The `catalog` command line: parse, call the library, render. Nothing else lives here."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from catalog.errors import CatalogError
from catalog.cli_options import SPACE_CHOICES, resolve_db, db_option, json_option, k_option
from catalog.cli_results import csv_option, html_option, where_option

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
            click.echo(f"Error: unexpected {type(error).__name__}: {message} (run with --debug for the traceback)", err=True)
            ctx.exit(1)


@click.group(cls=CatalogGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.version_option(package_name="catalog")
def cli(debug: bool):
    """Fashion catalog recommendations from linked image and graph latent spaces.

    \b
    catalog ingest --csv styles.csv --images images/
    catalog similar 19549
    catalog query --image shirt.jpg --plus green,shoes --minus topwear
    """


@cli.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), required=True, help="styles.csv to read.")
@click.option("--images", "images_dir", type=click.Path(path_type=Path), required=True, help="Folder of {id}.jpg photos.")
@click.option("--weights", default="imagenet", show_default=True,
              help="Backbone weights: imagenet (downloaded once by Keras), random (seeded, offline) or a local FILE.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N rows of the CSV.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the head, walks, word2vec and linker.")
@click.option("--image-size", type=click.IntRange(32, 1024), default=256, show_default=True, help="Pixels per side fed to ResNet50.")
@click.option("--batch-size", type=click.IntRange(1, 256), default=16, show_default=True, help="Images per ResNet50 batch.")
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@click.option("--walk-length", type=click.IntRange(2), default=None, help="node2vec walk length.")
@click.option("-p", "p", type=float, default=1.0, show_default=True, help="node2vec return parameter.")
@click.option("-q", "q", type=float, default=1.0, show_default=True, help="node2vec in-out parameter.")
@click.option("--linker", "linker_kind", type=click.Choice(["cosine", "paper"]), default="cosine", show_default=True,
              help="cosine: standardised inputs + cosine loss (measures best); paper: the paper's MSE recipe.")
@click.option("--prune", is_flag=True, help="Remove products that are not in the CSV (default: keep them).")
@click.option("--rebuild", "full_rebuild", is_flag=True, help="Retrain graph space and linker on the whole catalog.")
@db_option
@json_option
def ingest(csv_path, images_dir, weights, limit, seed, image_size, batch_size, num_walks, walk_length, p, q, linker_kind,
           prune, full_rebuild, db, as_json):
    """Read styles.csv and photos into the database (one committed version).

    The first ingest trains everything. Later ones are incremental: unchanged products are
    skipped by content hash, new photos are encoded, new products are placed in the existing
    graph space; an ingest that changes nothing writes nothing.

    \b
    catalog ingest --csv styles.csv --images images/
    catalog ingest --csv styles.csv --images images/ --weights random --limit 2000
    catalog ingest --csv new-rows.csv --images images/          # add or change a few products
    catalog ingest --csv styles.csv --images images/ --prune    # also remove products not in the CSV
    """
    from dataclasses import replace

    from catalog import render
    from catalog.linker import LinkerParams
    from ingest.graph_space import Node2VecParams
    from ingest.pipeline import IngestOptions, ingest as run_ingest

    node2vec = replace(Node2VecParams(), p=p, q=q, seed=seed)
    if num_walks:
        node2vec = replace(node2vec, num_walks=num_walks)
    if walk_length:
        node2vec = replace(node2vec, walk_length=walk_length)
    options = IngestOptions(
        weights=weights, seed=seed, limit=limit, image_size=image_size, batch_size=batch_size,
        node2vec=node2vec, linker=LinkerParams(kind=linker_kind, seed=seed), prune=prune, rebuild=full_rebuild,
    )
    reporter = render.RichReporter(enabled=not as_json and sys.stderr.isatty())
    report = run_ingest(resolve_db(db), csv_path, images_dir, options, reporter)
    if as_json:
        render.emit_json(render.ingest_document(report))
    else:
        render.print_ingest_report(report)


@cli.command()
@click.argument("product_id", type=int)
@k_option(6)
@click.option("--space", type=click.Choice(SPACE_CHOICES), default="rec", show_default=True,
              help="rec: translated image vs graph; image; graph; all: the three side by side.")
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
    from catalog import search
    from catalog.cli_results import check_formats, emit_results
    from catalog.store import Store

    check_formats(as_json, as_csv)
    store = Store.open(resolve_db(db))
    spaces = ("image", "graph", "rec") if space == "all" else (space,)
    item, results = search.similar(store, product_id, k, spaces, where=where)
    query = search.Query(items=[item], where=where)
    emit_results(store, query, results, f"product {product_id}", as_json=as_json, as_csv=as_csv, html_path=html_path)


@cli.command()
@click.option("--image", "image_path", type=click.Path(path_type=Path), default=None, help="A photo (need not be in the catalog).")
@click.option("--id", "product_ids", type=int, multiple=True,
              help="A catalog product (its stored translated vector); repeat to average several.")
@click.option("--plus", multiple=True, help="Attributes to add, comma-separated, optional weight: green:2,shoes.")
@click.option("--minus", multiple=True, help="Attributes to subtract, comma-separated, optional weight.")
@click.option("--weights", default=None, help="Backbone weights for --image (default: what the database was built with).")
@k_option(6)
@where_option
@html_option
@db_option
@json_option
@csv_option
def query(image_path, product_ids, plus, minus, weights, k, where, html_path, db, as_json, as_csv):
    """Search the graph space from a photo or products, with weighted attribute arithmetic.

    Every vector is L2-normalised before it is weighted and summed, so the item counts as much
    as a weight-1 attribute (see README, "query").

    \b
    catalog query --image shirt.jpg --plus green,shoes --minus topwear
    catalog query --id 19549 --plus green:2 --where "gender = 'Men'"
    catalog query --id 19549 --id 1855 --html mix.html
    """
    from catalog import search
    from catalog.cli_results import check_formats, emit_results
    from catalog.store import Store

    if (image_path is None) == (not product_ids):
        raise click.UsageError("give either --image FILE or one or more --id ID")
    check_formats(as_json, as_csv)
    store = Store.open(resolve_db(db))
    terms = search.parse_terms(list(plus), list(minus), search.load_attributes(store))
    if where is not None:
        where = search.check_where(store, where)
    if image_path is not None:
        from catalog.models import translate_photo

        base, items = translate_photo(store, image_path, weights), []
    else:
        base, items = search.base_vector(store, list(product_ids))
    results = {"rec": search.nearest(store, search.compose(base, terms), "node_vector", k, exclude=product_ids, where=where)}
    query = search.Query(items=items, image=str(image_path) if image_path else None, terms=terms, where=where)
    emit_results(store, query, results, query.label(), as_json=as_json, as_csv=as_csv, html_path=html_path)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("demo"), show_default=True,
              help="Where to write the demo styles.csv and images/.")
@click.option("--count", type=click.IntRange(50, 5000), default=600, show_default=True, help="Products to generate.")
@click.option("--seed", type=int, default=0, show_default=True)
@db_option
def demo(out_dir, count, seed, db):
    """Generate a demo catalog, ingest it with --weights random, and show examples.

    Runs offline in a few minutes on 2 cores.
    """
    from catalog import render, search
    from catalog.demo import make_demo_catalog
    from catalog.store import Store
    from ingest.pipeline import IngestOptions, ingest as run_ingest

    out = render.console()
    made = make_demo_catalog(out_dir, count=count, seed=seed)
    out.print(f"demo catalog: {made.count} products in {made.csv_path} and {made.images_dir}/")
    reporter = render.RichReporter(enabled=sys.stderr.isatty())
    report = run_ingest(resolve_db(db), made.csv_path, made.images_dir, IngestOptions(weights="random", seed=seed), reporter)
    render.print_ingest_report(report)
    store = Store.open(resolve_db(db))
    example = _demo_example(store)
    db_flag = f" --db {db}" if db else ""
    out.print(f"\n$ catalog similar {example}{db_flag} --space all")
    item, results = search.similar(store, example, 6, ("image", "graph", "rec"))
    render.print_similar(item, results, f"product {example}")
    out.print(f"\n$ catalog query --id {example}{db_flag} --plus green,shoes --minus topwear")
    terms = search.parse_terms(["green,shoes"], ["topwear"], search.load_attributes(store))
    base = search.get_product(store, example, ["rec_vector"])["rec_vector"]
    results = {"rec": search.nearest(store, search.compose(base, terms), "node_vector", 6, exclude=(example,))}
    render.print_similar(item, results, f"product {example} +baseColour=Green +subCategory=Shoes −subCategory=Topwear")


def _demo_example(store) -> int:
    """A topwear product with a photo, like the paper's 19549 sweatshirt."""
    rows = store.table("products").search().where("subCategory = 'Topwear' AND has_image = true").select(["id"]).limit(1).to_list()
    if not rows:
        rows = store.table("products").search().where("has_image = true").select(["id"]).limit(1).to_list()
    return int(rows[0]["id"])


# Commands that live in their own modules; each module lists its click commands in COMMANDS.
from catalog import cli_browse, cli_eval, cli_updates  # noqa: E402  (they import only click at module level)

for _module in (cli_browse, cli_eval, cli_updates):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main():
    cli(prog_name="catalog")


if __name__ == "__main__":
    main()
