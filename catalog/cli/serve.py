"""`catalog serve`: the web app and JSON API (catalog/web/) on uvicorn."""

from __future__ import annotations

import click

from catalog.cli.options import db_option, encoder_from_environment, resolve_db


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The default answers this machine only; 0.0.0.0 opens it to the network.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port.")
@click.option(
    "--max-upload-mb",
    type=click.IntRange(1, 200),
    default=20,
    show_default=True,
    help="Largest photo upload accepted, in MB (larger: HTTP 413).",
)
@click.option(
    "--memory/--no-memory",
    default=True,
    show_default=True,
    help="Answer similar/query/browse from an in-memory copy of the committed run (~40 MB at 44k "
    "products, ~10x the requests/s); --no-memory makes a LanceDB query per request (for catalogs "
    "too large to copy).",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log every request (off by default: a log line per request costs CPU under load).",
)
@db_option
def serve(host, port, max_upload_mb, memory, access_log, db):
    """Serve the catalog in a browser and as a JSON API (read-only).

    Pages: Browse, Product, Arithmetic, Photo, Catalog. API under /api/… (OpenAPI at
    /api/openapi.json, interactive docs at /api/docs), answering what `--json` prints.
    A `catalog ingest` into the same database is picked up when it commits, without a restart.

    \b
    catalog serve
    catalog serve --db /data/catalog --port 8080
    """
    import gc

    import uvicorn
    from threadpoolctl import threadpool_limits

    from catalog import Catalog
    from catalog.web.app import create_app

    _check_free(host, port)
    # memory: similar/query/browse from an in-memory copy of the committed run (LanceDB stays the
    # store of record); follow: look at the commit log at most once a second and move to a new run.
    catalog = Catalog(resolve_db(db), encoder=encoder_from_environment(), memory=memory, follow=1.0)
    catalog.info()  # open now: a missing or unreadable database is a one-line error before we listen
    # What is loaded now lives as long as the server: keep the collector from re-scanning it on
    # every full collection (a pause that would land on some request).
    gc.freeze()
    # Requests run in parallel threads: one BLAS thread each, or a 44k x 32 product would be split
    # across threads that then wait for each other (measured: 5 vs 700 requests/s, benchmarks/README.md).
    threadpool_limits(1)
    app = create_app(catalog, max_upload_bytes=max_upload_mb * 1024 * 1024)
    click.echo(f"serving {catalog.path} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        http="httptools",
        access_log=access_log,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


def _check_free(host: str, port: int) -> None:
    """A port in use (or an address this machine does not have) is a one-line error, not uvicorn's log."""
    import socket

    from catalog.core.errors import CatalogError

    try:
        with socket.create_server((host, port), reuse_port=False):
            pass
    except OSError as error:
        reason = (error.strerror or str(error)).split(" (")[0]
        raise CatalogError(f"cannot listen on {host}:{port}: {reason}; choose another --port or --host") from None


COMMANDS = [serve]
