"""Options shared by every command module of the CLI."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.store import default_db_path

SPACE_CHOICES = ("rec", "image", "graph", "all")


def db_option(command):
    return click.option(
        "--db", "db", type=click.Path(path_type=Path), default=None, envvar="CATALOG_DB", show_envvar=True,
        help="Database folder (default ./db).",
    )(command)


def json_option(command):
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout, nothing else.")(command)


def k_option(default: int):
    return click.option("-k", "k", type=click.IntRange(1, 1000), default=default, show_default=True, help="How many results.")


def resolve_db(db: Path | None) -> Path:
    return db or default_db_path()
