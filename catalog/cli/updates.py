"""Catalog update commands: remove, rebuild, history, rollback."""

from __future__ import annotations

import click

from catalog.cli.options import LINKER_CHOICES, db_option, json_option, open_catalog, ranking_option


@click.command()
@click.argument("ids", nargs=-1, type=int, required=True)
@db_option
@json_option
def remove(ids, db, as_json):
    """Remove products by id (one new version; `catalog rollback` brings them back).

    \b
    catalog remove 19549 41599
    """
    from catalog.cli import render

    run = open_catalog(db).remove(ids)
    render.emit_json(run.to_dict()) if as_json else render.print_removed(run)


@click.command()
@click.option(
    "--linker",
    "linker_kind",
    type=click.Choice(LINKER_CHOICES),
    default=None,
    help="Linker variant (default: the one the database uses).",
)
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@ranking_option
@db_option
@json_option
def rebuild(linker_kind, num_walks, ranking, db, as_json):
    """Retrain the graph space and linker on the current catalog (stored image vectors are reused).

    Incremental ingests place new products without retraining; rebuild when many have
    inferred vectors (`catalog info` shows how many, ingest suggests it).
    """
    from catalog.cli import render
    from catalog.cli.options import reporter

    report = open_catalog(db).rebuild(linker=linker_kind, walks=num_walks, ranking=ranking, reporter=reporter(as_json))
    render.emit_json(report.to_dict()) if as_json else render.print_ingest_report(report)


@click.command()
@db_option
@json_option
def history(db, as_json):
    """List the database's runs: time, kind and +added ~changed −removed."""
    from catalog.cli import render

    runs = open_catalog(db).history()
    render.emit_json(runs.to_dict()) if as_json else render.console().print(render.history_table(runs))


@click.command()
@click.argument("run_number", type=int)
@db_option
@json_option
def rollback(run_number, db, as_json):
    """Bring products, attributes and models back to an earlier run (recorded as a new run).

    \b
    catalog history
    catalog rollback 3
    """
    from catalog.cli import render

    run = open_catalog(db).rollback(run_number)
    render.emit_json(run.to_dict()) if as_json else render.print_rollback(run, run_number)


COMMANDS = [remove, rebuild, history, rollback]
