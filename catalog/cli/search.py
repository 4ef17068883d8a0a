"""Commands that search: similar and query."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.options import SPACE_CHOICES, db_option, json_option, k_option, open_catalog
from catalog.cli.output import csv_option, html_option, where_option


@click.command()
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
    from catalog.cli.output import check_formats, emit_results

    check_formats(as_json, as_csv, html_path)
    catalog = open_catalog(db)
    found = catalog.similar(product_id, k=k, space=space, where=where)
    emit_results(catalog, found, as_json=as_json, as_csv=as_csv, html_path=html_path)


@click.command()
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
    help="Order results by the query alone. By default the query's first 100 go by the added values they carry, "
    "then by the item's other values they keep (with the ranking setting arithmetic_order=band, those within .12 "
    "of the best go by closeness to the item).",
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
    from catalog.cli.output import check_formats, emit_results

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


COMMANDS: list = [similar, query]
