"""Commands that write a catalog: ingest, and demo (which makes a catalog and ingests it)."""

from __future__ import annotations

from pathlib import Path

import click

from catalog.cli.options import (
    LINKER_CHOICES,
    LocationParam,
    db_option,
    json_option,
    open_catalog,
    ranking_option,
    reporter,
)


@click.command()
@click.option("--csv", "csv_path", type=click.Path(path_type=Path), required=True, help="styles.csv to read.")
@click.option(
    "--images",
    "images_dir",
    type=LocationParam(),
    required=True,
    help="Folder of {id}.jpg photos, or an s3://, gs://, az:// prefix holding them.",
)
@click.option(
    "--weights",
    default=None,
    help="Backbone weights: imagenet (downloaded once by Keras), random (seeded, offline) or a local FILE "
    "[default: what the database records; imagenet for a new one].",
)
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N rows of the CSV.")
@click.option(
    "--seed", type=int, default=None, help="Seed for the head, walks, word2vec and linker [default: recorded, or 0]."
)
@click.option(
    "--image-size",
    type=click.IntRange(32, 1024),
    default=None,
    help="Pixels per side fed to ResNet50 [default: recorded, or 256].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 256),
    default=None,
    help="Images per ResNet50 batch [default: 16 on CPU, 64 when TensorFlow sees a GPU].",
)
@click.option(
    "--precision",
    type=click.Choice(["f32", "bf16"]),
    default=None,
    help="How the encoder runs on the CPU (OpenVINO): f32, the Keras model's own vectors; bf16, half the CPU per photo "
    "on processors with AVX512-BF16 or AMX, a different image space [default: recorded; for a new database bf16 where "
    "the processor has it, else f32; f32 with a GPU or --engine ray].",
)
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@click.option("--walk-length", type=click.IntRange(2), default=None, help="node2vec walk length.")
@click.option("-p", "p", type=float, default=1.0, show_default=True, help="node2vec return parameter.")
@click.option("-q", "q", type=float, default=1.0, show_default=True, help="node2vec in-out parameter.")
@click.option(
    "--linker",
    "linker_kind",
    type=click.Choice(LINKER_CHOICES),
    default=None,
    help="attributes: per-column classifiers, photo placed among the catalog's combinations (measures best); "
    "cosine: the paper's network, standardised inputs + cosine loss; paper: the paper's MSE recipe "
    "[default: recorded, or attributes].",
)
@click.option(
    "--epochs", type=click.IntRange(1), default=None, help="Linker epochs at most [default: recorded, or 60]."
)
@click.option("--prune", is_flag=True, help="Remove products that are not in the CSV (default: keep them).")
@click.option("--rebuild", "full_rebuild", is_flag=True, help="Retrain graph space and linker on the whole catalog.")
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where photos are decoded and encoded: this process, or a Ray cluster (pip install 'catalog[ray]').",
)
@click.option("--ray-address", default=None, help="Ray cluster to join (default: this machine's, started if needed).")
@click.option(
    "--ray-workers",
    type=click.IntRange(1),
    default=None,
    help="Encoder actors on the Ray cluster (default: one per GPU, else one per 2 CPUs).",
)
@ranking_option
@db_option
@json_option
def ingest(
    csv_path,
    images_dir,
    weights,
    limit,
    seed,
    image_size,
    batch_size,
    precision,
    num_walks,
    walk_length,
    p,
    q,
    linker_kind,
    epochs,
    prune,
    full_rebuild,
    engine,
    ray_address,
    ray_workers,
    ranking,
    db,
    as_json,
):
    """Read styles.csv and photos into the database (one committed version).

    The first ingest trains everything. Later ones are incremental: unchanged products are
    skipped by content hash, new photos are encoded, new products are placed in the existing
    graph space; an ingest that changes nothing writes nothing. A later ingest uses the encoder
    the database records unless told otherwise.

    \b
    catalog ingest --csv styles.csv --images images/
    catalog ingest --csv styles.csv --images images/ --weights random --limit 2000
    catalog ingest --csv new-rows.csv --images images/          # add or change a few products
    catalog ingest --csv styles.csv --images images/ --prune    # also remove products not in the CSV
    catalog ingest --csv styles.csv --images /shared/images/ --db s3://bucket/catalog --engine ray --ray-address auto
    """
    from catalog.cli import render

    report = open_catalog(db).ingest(
        csv_path,
        images_dir,
        weights=weights,
        seed=seed,
        limit=limit,
        image_size=image_size,
        batch_size=batch_size,
        precision=precision,
        walks=num_walks,
        walk_length=walk_length,
        p=p,
        q=q,
        linker=linker_kind,
        epochs=epochs,
        prune=prune,
        rebuild=full_rebuild,
        engine=engine,
        ray_address=ray_address,
        ray_workers=ray_workers,
        ranking=ranking,
        reporter=reporter(as_json),
    )
    render.emit_json(report.to_dict()) if as_json else render.print_ingest_report(report)


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where to write the demo styles.csv, images/ and the example files.",
)
@click.option("--count", type=click.IntRange(50, 5000), default=600, show_default=True, help="Products to generate.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--image-size",
    type=click.IntRange(32, 1024),
    default=256,
    show_default=True,
    help="Pixels per side of the drawn photos and of the encoder input (smaller is faster).",
)
@click.option("--walks", "num_walks", type=click.IntRange(1), default=None, help="node2vec walks per node.")
@db_option
def demo(out_dir, count, seed, image_size, num_walks, db):
    """Generate a demo catalog, ingest it with --weights random, and show examples.

    Runs offline in a few minutes on 2 cores. The README's examples run as written in this folder afterwards.
    """
    from catalog.cli import render
    from catalog.demo import run_demo

    run = run_demo(
        open_catalog(db),
        out_dir,
        count=count,
        seed=seed,
        image_size=image_size,
        walks=num_walks,
        reporter=reporter(),
        on_catalog=lambda made: render.console().print(
            f"demo catalog: {made.count} products in {made.csv_path} and {made.images_dir}/"
        ),
    )
    render.print_demo(run)


COMMANDS: list = [ingest, demo]
