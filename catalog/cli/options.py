"""Options shared by every command module of the CLI, and how a command opens its `Catalog`."""

from __future__ import annotations

import functools
import importlib
import os
import sys
from pathlib import Path

import click

from catalog.core.spaces import SPACES
from catalog.models.linker import LINKER_KINDS as LINKER_CHOICES  # noqa: F401  (the commands import it from here)
from catalog.store.storage import DbLocation, db_location, parse_storage_options

SPACE_CHOICES = ("rec", *(space for space in SPACES if space != "rec"), "all")  # rec first: the default
# `module:factory`: the CLI's way to plug in another image encoder (the library's is `Catalog(encoder=...)`).
ENCODER_VARIABLE = "CATALOG_ENCODER"


class LocationParam(click.ParamType):
    """A folder, or an object-store URI kept as written (click.Path would fold `s3://` into `s3:/`)."""

    name = "PATH|URI"

    def convert(self, value, param, ctx):
        return value if isinstance(value, (Path, DbLocation)) else db_location(value)


DB_HELP = "Database folder, or s3://bucket/prefix, gs://..., az://... (default ./db)."


def db_option(command):
    """`--db` and `--storage-option key=value` on a command, handed to it as one `db` value;
    `catalog --db X COMMAND` (on the group) is accepted too."""

    @functools.wraps(command)
    def with_location(*args, db=None, storage_options=(), **kwargs):
        if storage_options:
            try:
                options = parse_storage_options(storage_options)
            except Exception as error:  # CatalogError: a malformed pair is a usage error
                raise click.BadParameter(str(error), param_hint="--storage-option") from None
            db = DbLocation(resolve_db(db), options)
        return command(*args, db=db, **kwargs)

    with_location = click.option(
        "--storage-option",
        "storage_options",
        multiple=True,
        metavar="KEY=VALUE",
        help="Object-store setting for an s3://, gs:// or az:// --db (LanceDB's storage_options keys, e.g. "
        "aws_endpoint=http://host:9000, allow_http=true); the standard AWS_/GOOGLE_/AZURE_ variables also work.",
    )(with_location)
    return click.option(
        "--db",
        "db",
        type=LocationParam(),
        default=None,
        envvar="CATALOG_DB",
        show_envvar=True,
        help=DB_HELP,
    )(with_location)


RANKING_HELP = (
    "Change a ranking setting (repeatable): arithmetic_band=0.1, rec_weights.baseColour=1.5, "
    "linker_weights.gender=1, ... (catalog info lists them; defaults: docs/quality.md)."
)


def ranking_option(command):
    """`--ranking KEY=VALUE` (repeatable): changes to the recorded ranking settings, handed to the
    command as one `ranking` dict (`catalog.core.ranking.RankingSettings.changed` checks them)."""

    @functools.wraps(command)
    def with_ranking(*args, ranking=(), **kwargs):
        changes = {}
        for pair in ranking:
            key, equals, value = pair.partition("=")
            if not equals or not key.strip():
                raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--ranking")
            changes[key.strip()] = value.strip()
        return command(*args, ranking=changes, **kwargs)

    return click.option("--ranking", "ranking", multiple=True, metavar="KEY=VALUE", help=RANKING_HELP)(with_ranking)


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout, nothing else.")(
        command
    )


def k_option(default: int):
    return click.option(
        "-k", "k", type=click.IntRange(1, 1000), default=default, show_default=True, help="How many results."
    )


def resolve_db(db):
    """The command's --db, else the group's (`catalog --db X ...`), else $CATALOG_DB or ./db:
    a Path, an object-store URI, or a DbLocation (with --storage-option)."""
    from catalog.store.database import default_db_path

    if db is None:
        context = click.get_current_context(silent=True)
        root = context.find_root() if context else None
        db = root.params.get("db") if root else None
        group_options = root.params.get("storage_options") if root else None
        if db is not None and group_options:  # `catalog --db s3://... --storage-option k=v COMMAND`
            db = DbLocation(db, parse_storage_options(group_options))
    return db or default_db_path()


def open_catalog(db):
    """The `Catalog` a command works on: its database and the encoder of $CATALOG_ENCODER, if set."""
    from catalog.api import Catalog

    return Catalog(resolve_db(db), encoder=encoder_from_environment())


def encoder_from_environment():
    """`CATALOG_ENCODER=package.module:factory`: `factory()` returns the encoder to use (see
    `catalog.models.encoder.Encoder`). Unset: the Keras encoder the database records."""
    from catalog.core.errors import CatalogError

    spec = os.environ.get(ENCODER_VARIABLE, "").strip()
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute or "encoder")
    except (ImportError, AttributeError) as error:
        raise CatalogError(f"{ENCODER_VARIABLE}={spec}: cannot load it ({error})") from None
    return factory()


def reporter(as_json: bool = False):
    """Progress bars on a terminal's stderr; nothing when stderr is not a terminal or --json is asked."""
    from catalog.cli import render

    return render.RichReporter(enabled=not as_json and sys.stderr.isatty())
