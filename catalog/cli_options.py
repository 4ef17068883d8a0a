"""Options shared by every command module of the CLI, and how a command opens its `Catalog`."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import click

SPACE_CHOICES = ("rec", "image", "graph", "all")
LINKER_CHOICES = ("cosine", "paper")  # catalog.linker.LINKER_KINDS, without importing it for --help
# `module:factory`: the CLI's way to plug in another image encoder (the library's is `Catalog(encoder=...)`).
ENCODER_VARIABLE = "CATALOG_ENCODER"


def db_option(command):
    """`--db` on a command; `catalog --db X COMMAND` (on the group) is accepted too."""
    return click.option(
        "--db", "db", type=click.Path(path_type=Path), default=None, envvar="CATALOG_DB", show_envvar=True,
        help="Database folder (default ./db).",
    )(command)


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout, nothing else.")(command)


def k_option(default: int):
    return click.option("-k", "k", type=click.IntRange(1, 1000), default=default, show_default=True, help="How many results.")


def resolve_db(db: Path | None) -> Path:
    """The command's --db, else the group's (`catalog --db X ...`), else $CATALOG_DB or ./db."""
    from catalog.store import default_db_path

    if db is None:
        context = click.get_current_context(silent=True)
        root = context.find_root() if context else None
        db = root.params.get("db") if root else None
    return db or default_db_path()


def open_catalog(db: Path | None):
    """The `Catalog` a command works on: its database folder and the encoder of $CATALOG_ENCODER, if set."""
    from catalog.api import Catalog

    return Catalog(resolve_db(db), encoder=encoder_from_environment())


def encoder_from_environment():
    """`CATALOG_ENCODER=package.module:factory`: `factory()` returns the encoder to use (see
    `catalog.encoder.Encoder`). Unset: the Keras encoder the database records."""
    from catalog.errors import CatalogError

    spec = os.environ.get(ENCODER_VARIABLE, "").strip()
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute or "encoder")
    except (ImportError, AttributeError) as error:
        raise CatalogError(f"{ENCODER_VARIABLE}={spec}: cannot load it ({error})") from None
    return factory()
