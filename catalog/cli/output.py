"""Options and output shared by the commands that print results (similar, query, infer).

`--where` filters inside the search; `--json` / `--csv` choose what goes to stdout; `--html FILE`
also writes a self-contained page with the pictures. One function per kind of result writes
all of them, so the commands agree on formats.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from catalog.core.errors import CatalogError


def where_option(command):
    return click.option(
        "--where",
        default=None,
        metavar="SQL",
        help="Only products matching this filter on catalog columns, e.g. \"gender = 'Women' AND season = 'Summer'\".",
    )(command)


def csv_option(command):
    return click.option("--csv", "as_csv", is_flag=True, help="Print CSV on stdout: one row per result.")(command)


def html_option(command):
    return click.option(
        "--html",
        "html_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Also write a self-contained HTML page with the pictures to FILE.",
    )(command)


def check_formats(as_json: bool, as_csv: bool, html_path: Path | None = None) -> None:
    """Bad output options fail before any work: two stdout formats, or an --html FILE that cannot be written."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if html_path is not None:
        folder = html_path.parent
        if not folder.is_dir():
            raise CatalogError(f"cannot write {html_path}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise CatalogError(f"cannot write {html_path}: folder {folder} is not writable")


def emit_results(catalog, found, *, as_json: bool, as_csv: bool, html_path: Path | None) -> None:
    """Results of similar/query (`SearchResults`): JSON, CSV or tables on stdout, and optionally the HTML page."""
    from catalog.cli import render

    query, results, heading = found.query, found.results, found.heading
    if as_json:
        render.emit_json(found.to_dict())
    elif as_csv:
        render.write_results_csv(results)
    else:
        render.print_results(query, results, heading)
        render.print_left_out(found.left_out, query)
    if html_path is not None:
        from catalog.cli import html

        ids = [item["id"] for item in query.items] + [r.id for rows in results.values() for r in rows]
        page = html.results_page(heading, _subtitle(catalog), query, results, catalog.thumbnails(ids), _photo(query))
        _write(html_path, page)


def emit_inference(catalog, inference, *, as_json: bool, as_csv: bool, html_path: Path | None) -> None:
    """Inferred attributes (`Inference`): JSON, CSV or a table on stdout, and optionally the HTML page."""
    from catalog.cli import render

    query, inferred, heading = inference.query, inference.attributes, inference.heading
    if as_json:
        render.emit_json(inference.to_dict())
    elif as_csv:
        render.write_inference_csv(query, inferred)
    else:
        render.print_inference(query, inferred, heading)
    if html_path is not None:
        from catalog.cli import html

        thumbnails = catalog.thumbnails(item["id"] for item in query.items)
        _write(html_path, html.inference_page(heading, _subtitle(catalog), query, inferred, thumbnails, _photo(query)))


def _subtitle(catalog) -> str:
    run = catalog.last_run
    return f"database {catalog.path} · run {run.run} of {run.created_at:%Y-%m-%d %H:%M} UTC · encoder {run.encoder.get('id', 'none')}"


def _photo(query) -> bytes | None:
    from catalog.cli.html import photo_jpeg

    return photo_jpeg(Path(query.image)) if query.image else None


def _write(path: Path, page: str) -> None:
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"cannot write {path}: {error.strerror}") from None
    click.echo(f"wrote {path}", err=True)
