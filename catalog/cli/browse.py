"""Browsing commands: infer, show, attributes, info.

Only `infer --image` loads TensorFlow (to encode the photo); everything else reads the database.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.options import db_option, json_option, open_catalog
from catalog.cli.output import csv_option, html_option


@click.command()
@click.option(
    "--image", "image_path", type=click.Path(path_type=Path), default=None, help="A photo (need not be in the catalog)."
)
@click.option(
    "--id", "product_id", type=int, default=None, help="A catalog product (from its stored translated photo)."
)
@click.option("--top", type=click.IntRange(1, 50), default=3, show_default=True, help="Values per attribute column.")
@click.option(
    "--weights", default=None, help="Backbone weights for --image (default: what the database was built with)."
)
@html_option
@db_option
@json_option
@csv_option
def infer(image_path, product_id, top, weights, html_path, db, as_json, as_csv):
    """The likely attributes of a photo: per column, the values nearest its translated vector.

    \b
    catalog infer --image shirt.jpg
    catalog infer --id 19549 --top 5 --html infer.html
    """
    from catalog.cli.output import check_formats, emit_inference

    if (image_path is None) == (product_id is None):
        raise click.UsageError("give exactly one of --image FILE or --id ID")
    check_formats(as_json, as_csv, html_path)
    catalog = open_catalog(db)
    inference = catalog.infer(image=image_path, id=product_id, top=top, weights=weights)
    emit_inference(catalog, inference, as_json=as_json, as_csv=as_csv, html_path=html_path)


@click.command()
@click.argument("product_id", type=int)
@db_option
@json_option
def show(product_id, db, as_json):
    """One product: its row, whether it has a photo, where its graph vector came from.

    \b
    catalog show 19549
    """
    from catalog.cli import render

    product = open_catalog(db).product(product_id)
    render.emit_json(product.to_dict()) if as_json else render.print_product(product.to_dict())


@click.command()
@click.argument("column", required=False)
@db_option
@json_option
def attributes(column, db, as_json):
    """Attribute values and how many products have each, most common first.

    \b
    catalog attributes
    catalog attributes baseColour
    """
    from catalog.cli import render

    counts = open_catalog(db).attributes(column)
    render.emit_json(counts.to_dict()) if as_json else render.print_attributes(counts.to_dict())


@click.command()
@db_option
@json_option
def info(db, as_json):
    """What the database holds and how it was made: counts, models, parameters, versions, size.

    \b
    catalog info
    """
    from catalog.cli import render

    details = open_catalog(db).info()
    render.emit_json(details.to_dict()) if as_json else render.print_info(details.to_dict())


COMMANDS: list = [infer, show, attributes, info]
