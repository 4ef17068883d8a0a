"""Catalog update commands: remove, rebuild, history, rollback."""

from __future__ import annotations

import sys

import click

from catalog.cli_options import db_option, json_option, resolve_db


@click.command()
@click.argument("ids", nargs=-1, type=int, required=True)
@db_option
@json_option
def remove(ids, db, as_json):
    """Remove products by id (one new version; `catalog rollback` brings them back).

    \b
    catalog remove 19549 41599
    """
    from catalog import render
    from ingest.updates import remove_products

    run = remove_products(resolve_db(db), list(ids))
    if as_json:
        render.emit_json({"run": run.run, "summary": run.summary})
    else:
        render.console().print(f"run {run.run}: removed {run.summary['removed']}; {run.summary['products']} products left")


@click.command()
@click.option("--linker", "linker_kind", type=click.Choice(["cosine", "paper"]), default=None,
              help="Linker variant (default: the one the database uses).")
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@db_option
@json_option
def rebuild(linker_kind, num_walks, db, as_json):
    """Retrain the graph space and linker on the current catalog (stored image vectors are reused).

    Incremental ingests place new products without retraining; rebuild when many have
    inferred vectors (`catalog info` shows how many, ingest suggests it).
    """
    from dataclasses import replace

    from catalog import render
    from catalog.linker import LinkerParams
    from catalog.store import Store
    from ingest.graph_space import Node2VecParams
    from ingest.pipeline import IngestOptions, rebuild as run_rebuild

    run = Store.open(resolve_db(db)).run
    node2vec = Node2VecParams.from_dict(run.node2vec)
    linker = LinkerParams.from_dict(run.linker) if run.linker else LinkerParams()
    if num_walks:
        node2vec = replace(node2vec, num_walks=num_walks)
    if linker_kind:
        linker = replace(linker, kind=linker_kind)
    options = IngestOptions(node2vec=node2vec, linker=linker)
    report = run_rebuild(resolve_db(db), options, render.RichReporter(enabled=not as_json and sys.stderr.isatty()))
    if as_json:
        render.emit_json(render.ingest_document(report))
    else:
        render.print_ingest_report(report)


@click.command()
@db_option
@json_option
def history(db, as_json):
    """List the database's runs: time, kind and +added ~changed −removed."""
    from catalog import render
    from catalog.store import Store

    runs = Store.open(resolve_db(db)).runs()
    if as_json:
        render.emit_json([render.run_dict(run) for run in runs])
    else:
        render.console().print(render.history_table(runs))


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
    from catalog import render
    from ingest.updates import rollback as run_rollback

    run = run_rollback(resolve_db(db), run_number)
    if as_json:
        render.emit_json(render.run_dict(run))
    else:
        s = run.summary
        render.console().print(
            f"run {run.run}: back to run {run_number} ({s['products']} products; "
            f"+{s['added']} ~{s['changed']} −{s['removed']})"
        )


COMMANDS = [remove, rebuild, history, rollback]
