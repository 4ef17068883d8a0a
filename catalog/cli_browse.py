"""Browsing commands: infer, show, attributes, info.

Only `infer --image` loads TensorFlow (to encode the photo); everything else reads the database.
"""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli_options import db_option, json_option, resolve_db
from catalog.cli_results import csv_option, html_option
from catalog.errors import CatalogError


@click.command()
@click.option("--image", "image_path", type=click.Path(path_type=Path), default=None, help="A photo (need not be in the catalog).")
@click.option("--id", "product_id", type=int, default=None, help="A catalog product (from its stored translated photo).")
@click.option("--top", type=click.IntRange(1, 50), default=3, show_default=True, help="Values per attribute column.")
@click.option("--weights", default=None, help="Backbone weights for --image (default: what the database was built with).")
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
    from catalog import search
    from catalog.cli_results import check_formats, emit_inference
    from catalog.columns import DISPLAY_COLUMNS
    from catalog.store import Store

    if (image_path is None) == (product_id is None):
        raise click.UsageError("give exactly one of --image FILE or --id ID")
    check_formats(as_json, as_csv)
    store = Store.open(resolve_db(db))
    if image_path is not None:
        from catalog.models import translate_photo

        vector, items = translate_photo(store, image_path, weights), []
    else:
        product = search.get_product(store, product_id, [*DISPLAY_COLUMNS, "has_image", "rec_vector"])
        if not product["has_image"]:
            raise CatalogError(f"product {product_id} has no photo to infer attributes from")
        vector, items = product["rec_vector"], [{c: product[c] for c in DISPLAY_COLUMNS}]
    inferred = search.infer_attributes(vector, search.load_attributes(store), top)
    query = search.Query(items=items, image=str(image_path) if image_path else None)
    emit_inference(store, query, inferred, f"attributes of {query.label()}", as_json=as_json, as_csv=as_csv,
                   html_path=html_path)


@click.command()
@click.argument("product_id", type=int)
@db_option
@json_option
def show(product_id, db, as_json):
    """One product: its row, whether it has a photo, where its graph vector came from.

    \b
    catalog show 19549
    """
    from catalog import render
    from catalog.browse import product_details
    from catalog.store import Store

    details = product_details(Store.open(resolve_db(db)), product_id)
    if as_json:
        render.emit_json(details)
    else:
        render.print_product(details)


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
    from catalog import render
    from catalog.browse import attribute_counts
    from catalog.search import resolve_column
    from catalog.store import Store

    rows = attribute_counts(Store.open(resolve_db(db)), resolve_column(column) if column else None)
    if as_json:
        render.emit_json(rows)
    else:
        render.print_attributes(rows)


@click.command()
@db_option
@json_option
def info(db, as_json):
    """What the database holds and how it was made: counts, models, parameters, versions, size.

    \b
    catalog info
    """
    from catalog import render
    from catalog.browse import catalog_info
    from catalog.store import Store

    details = catalog_info(Store.open(resolve_db(db)))
    if as_json:
        render.emit_json(details)
    else:
        render.print_info(details)


COMMANDS: list = [infer, show, attributes, info]
