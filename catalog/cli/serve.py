"""`catalog serve`: the web app and JSON API (catalog/web/) on uvicorn, in one process or several."""

from __future__ import annotations

import ipaddress
import json
import os
import socket

import click

from catalog.cli.options import db_option, encoder_from_environment, resolve_db

TOKEN_VARIABLE = "CATALOG_TOKEN"
WORKER_VARIABLE = "CATALOG_SERVE_WORKER"  # how the CLI hands a worker process its settings


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The default answers this machine only; any other (0.0.0.0 opens it to "
    "the network) needs --token, or --no-auth behind a proxy that authenticates.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port.")
@click.option(
    "--token",
    envvar=TOKEN_VARIABLE,
    show_envvar=True,
    default=None,
    help="Every /api/… route, page and /metrics then needs `Authorization: Bearer TOKEN` (people: open a "
    "link with ?token=TOKEN once; a cookie keeps it). At least 16 characters; prefer the variable to "
    "the option (a command line is visible to every user of the machine).",
)
@click.option(
    "--no-auth",
    is_flag=True,
    help="Serve a non-loopback --host without a token: for a server behind your own authenticating proxy.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes answering on the one port (each holds its own copy of the run in memory, and its own "
    "photo encoder once a photo comes). /metrics sums them.",
)
@click.option(
    "--max-upload-mb",
    type=click.IntRange(1, 200),
    default=20,
    show_default=True,
    help="Largest photo upload accepted, in MB (larger: HTTP 413).",
)
@click.option(
    "--photo-queue",
    type=click.IntRange(0, 1000),
    default=8,
    show_default=True,
    help="Photo requests that may wait, per worker, while one is encoded; beyond them: HTTP 503 with Retry-After.",
)
@click.option(
    "--memory/--no-memory",
    default=True,
    show_default=True,
    help="Answer similar/query/browse from an in-memory copy of the committed run (~200 MB at 44k "
    "products, ~3.5 GB at 1M; ~10x the requests/s); --no-memory makes a LanceDB query per request (for "
    "catalogs too large to copy; see --memory-limit).",
)
@click.option(
    "--memory-limit",
    type=click.FloatRange(0, None, min_open=True),
    default=None,
    metavar="MB",
    help="Most memory the in-memory copies may take, all workers together; a larger catalog is answered from "
    "LanceDB (as --no-memory), said at start. Default: half of this machine's memory.",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log every request on stderr, one JSON object a line (off by default: a line per request costs CPU "
    "under load).",
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    metavar="IPS",
    help="Proxies (comma-separated addresses, or *) whose X-Forwarded-For/-Proto are believed, for the client "
    "address in the access log and https cookies. Default: uvicorn's, 127.0.0.1 (or $FORWARDED_ALLOW_IPS).",
)
@db_option
def serve(
    host,
    port,
    token,
    no_auth,
    workers,
    max_upload_mb,
    photo_queue,
    memory,
    memory_limit,
    access_log,
    forwarded_allow_ips,
    db,
):
    """Serve the catalog in a browser and as a JSON API (read-only).

    Pages: Browse, Product, Arithmetic, Photo, Catalog. API under /api/… (OpenAPI at
    /api/openapi.json, interactive docs at /api/docs), answering what `--json` prints.
    /healthz and /metrics for orchestrators. A `catalog ingest` into the same database is
    picked up when it commits, without a restart.

    \b
    catalog serve
    catalog serve --db /data/catalog --port 8080
    CATALOG_TOKEN=... catalog serve --host 0.0.0.0 --workers 2
    """
    import uvicorn

    token = _check_access(host, token, no_auth)
    _check_free(host, port)
    location = resolve_db(db)
    if memory:
        memory = _copy_fits(location, workers, memory_limit)
    config = {
        "memory": memory,
        "max_upload_bytes": max_upload_mb * 1024 * 1024,
        "photo_queue": photo_queue,
        "access_log": access_log,
    }
    server = {
        "host": host,
        "port": port,
        "http": "httptools",
        "access_log": False,  # ours is catalog/web/observe.py's (JSON, the token redacted), not uvicorn's
        "log_level": "warning",
        "timeout_graceful_shutdown": 5,
    }
    if forwarded_allow_ips:
        server["forwarded_allow_ips"] = forwarded_allow_ips
    where = f"http://{host}:{port}/"
    if workers == 1:
        app = _app(location, token, config)
        click.echo(f"serving {app.state.catalog.path} on {where} (Ctrl-C stops)", err=True)
        uvicorn.run(app, **server)
        return
    # Several processes: each builds its own app (`worker_app`, from what the environment says) after
    # this one checked that the database opens (`_copy_fits`, or below), so a bad --db is still one
    # line before anything listens.
    import tempfile

    if not memory:
        from catalog import Catalog

        Catalog(location).last_run  # noqa: B018  (opens it: a CatalogError is the one line)

    with tempfile.TemporaryDirectory(prefix="catalog-metrics-") as metrics:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics  # read by prometheus-client in each worker
        os.environ[WORKER_VARIABLE] = json.dumps({**config, "db": _location_json(location)})
        if token:
            os.environ[TOKEN_VARIABLE] = token
        else:
            os.environ.pop(TOKEN_VARIABLE, None)
        click.echo(f"serving {location} on {where} with {workers} workers (Ctrl-C stops)", err=True)
        uvicorn.run("catalog.cli.serve:worker_app", factory=True, workers=workers, **server)


def worker_app():
    """The app of one worker process (`--workers N`): its settings from the environment the CLI set."""
    from catalog.store.storage import DbLocation

    config = json.loads(os.environ[WORKER_VARIABLE])
    where = config.pop("db")
    location = DbLocation(where["where"], where["options"]) if where["options"] else where["where"]
    return _app(location, os.environ.get(TOKEN_VARIABLE) or None, config)


def _app(location, token: str | None, config: dict):
    """A Catalog opened (the committed run read and copied into memory before anything listens) and its app."""
    import gc

    from threadpoolctl import threadpool_limits

    from catalog import Catalog
    from catalog.web.app import create_app
    from catalog.web.deps import Settings

    # memory: similar/query/browse from an in-memory copy of the committed run (LanceDB stays the
    # store of record); follow: look at the commit log at most once a second and move to a new run.
    catalog = Catalog(location, encoder=encoder_from_environment(), memory=config["memory"], follow=1.0)
    catalog.info()  # open now: a missing or unreadable database is a one-line error before we listen
    # What is loaded now lives as long as the server: keep the collector from re-scanning it on
    # every full collection (a pause that would land on some request).
    gc.freeze()
    # Requests run in parallel threads: one BLAS thread each, or a 44k x 32 product would be split
    # across threads that then wait for each other (measured: 5 vs 700 requests/s, benchmarks/README.md).
    threadpool_limits(1)
    settings = Settings(
        max_upload_bytes=config["max_upload_bytes"],
        token=token,
        photo_queue=config["photo_queue"],
        access_log=config["access_log"],
    )
    return create_app(catalog, settings)


def _copy_fits(location, workers: int, limit_mb: float | None) -> bool:
    """Whether each worker's in-memory copy of the run fits in the limit (default: half of this
    machine's memory); if not, say so and answer from LanceDB (its indexed search, ~10x fewer
    requests/s, docs/serve.md) rather than load until the machine runs out."""
    import psutil

    from catalog import Catalog
    from catalog.query.snapshot import estimated_bytes

    products = Catalog(location).info().products  # opens it: a CatalogError is the one line
    limit = limit_mb * 2**20 if limit_mb else psutil.virtual_memory().total / 2
    need = workers * estimated_bytes(products)
    if need <= limit:
        return True
    click.echo(
        f"an in-memory copy of {products:,} products needs ~{_size(need)} "
        f"({workers} worker{'s' if workers > 1 else ''}), over the {_size(limit)} limit (--memory-limit): "
        "answering from LanceDB's indexes instead (as --no-memory)",
        err=True,
    )
    return False


def _size(count: float) -> str:
    return f"{count / 2**30:.1f} GB" if count >= 2**30 else f"{count / 2**20:.1f} MB"


def _location_json(location) -> dict:
    from catalog.store.storage import DbLocation

    if isinstance(location, DbLocation):
        return {"where": str(location.where), "options": location.storage_options}
    return {"where": str(location), "options": {}}


def _check_access(host: str, token: str | None, no_auth: bool) -> str | None:
    """The token to require (checked), or None; refuses a non-loopback host without one."""
    from catalog.web.auth import TOKEN_HINT, check_token

    if token is not None and token.strip() == "":
        token = None
    if token and no_auth:
        raise click.UsageError("--no-auth and a token (--token or $CATALOG_TOKEN) contradict each other; choose one")
    if token:
        try:
            return check_token(token)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--token / $CATALOG_TOKEN") from None
    if not no_auth and not _loopback(host):
        from catalog.core.errors import CatalogError

        raise CatalogError(
            f"--host {host} serves other machines, so it needs a token: set CATALOG_TOKEN (make one with "
            f"{TOKEN_HINT}), or pass --no-auth behind a proxy that authenticates"
        )
    return None


def _loopback(host: str) -> bool:
    """Whether every address `host` names is this machine's loopback (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def _check_free(host: str, port: int) -> None:
    """A port in use (or an address this machine does not have) is a one-line error, not uvicorn's log."""
    from catalog.core.errors import CatalogError

    try:
        with socket.create_server((host, port), reuse_port=False):
            pass
    except OSError as error:
        reason = (error.strerror or str(error)).split(" (")[0]
        raise CatalogError(f"cannot listen on {host}:{port}: {reason}; choose another --port or --host") from None


COMMANDS = [serve]
