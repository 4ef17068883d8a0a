"""The `catalog` command line: the group, its error handling and the entry point. The commands live
in modules named after what they do; each parses, calls one `Catalog` method and renders."""

from __future__ import annotations

import os
from pathlib import Path

import click

from catalog.cli import browse, evaluation, ingest, search, serve, updates
from catalog.cli.options import db_option
from catalog.core.errors import CatalogError


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


for _module in (ingest, search, browse, evaluation, serve, updates):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main():
    # Only the command line quiets TensorFlow's C++ start-up logging this early; the library sets it
    # when it first imports TensorFlow (catalog.models.encoder.import_keras), never on `import catalog`.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # pylance logs warnings to stderr from the image index built in segments (catalog/store/index.py):
    # a line per empty partition of each segment, hundreds at a million photos, and k-means clusters
    # left empty. They say nothing a user can act on; errors still show. (LanceDB's own builds log
    # through LANCEDB_LOG, left as it is.)
    # Read when Lance is first imported, which the commands do later; LANCE_LOG set by the user wins.
    os.environ.setdefault("LANCE_LOG", "error")
    cli(prog_name="catalog")


if __name__ == "__main__":
    main()
