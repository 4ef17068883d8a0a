"""All terminal and JSON output lives here; the library returns data, this turns it into text."""

from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from catalog.core.columns import ATTRIBUTE_COLUMNS, NAME_COLUMN, SHORT_NAMES
from catalog.core.spaces import EVAL_SPACES, EVAL_TITLES, SPACE_TITLES
from catalog.results import Query, Result

SHORT_HEADERS = {**SHORT_NAMES, NAME_COLUMN: "name"}


def console(stderr: bool = False) -> Console:
    # highlight=False: ids and years are data, not numbers to colour at random.
    return Console(stderr=stderr, highlight=False)


def emit_json(document) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=_json_default) + "\n")


def _json_default(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_results_csv(results: dict[str, list[Result]]) -> None:
    """--csv: one row per result; a `space` column first when several spaces are shown."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    several = len(results) > 1
    writer.writerow([*(["space"] if several else []), "rank", "id", "score", *ATTRIBUTE_COLUMNS, NAME_COLUMN])
    for space, rows in results.items():
        for rank, r in enumerate(rows, 1):
            writer.writerow(
                [
                    *([space] if several else []),
                    rank,
                    r.id,
                    f"{r.score:.4f}",
                    *(r.row.get(c) or "" for c in ATTRIBUTE_COLUMNS),
                    r.row.get(NAME_COLUMN) or "",
                ]
            )


# Columns by priority: an 80-column terminal shows the first ones, a wide one all of the appendix.
COLUMN_PRIORITY = ("articleType", "baseColour", "gender", "usage", "season", "subCategory", "masterCategory", "year")
COLUMN_WIDTHS = {"articleType": 13, "baseColour": 9, "year": 4}  # others 8
MIN_NAME_WIDTH = 16
# Cells matching the query: bold stays under NO_COLOR (rich drops only the colour), so it still shows.
MATCH_STYLE = "bold green"


def visible_columns(width: int, with_scores: bool) -> list[str]:
    """The attribute columns that fit `width` beside id, name (and rank and score); one space between columns."""
    used = 6 + (9 if with_scores else 0) + MIN_NAME_WIDTH
    shown = []
    for column in COLUMN_PRIORITY:
        cost = COLUMN_WIDTHS.get(column, 8) + 1
        if used + cost > width:
            break
        shown.append(column)
        used += cost
    return [c for c in ATTRIBUTE_COLUMNS if c in shown]


def _mark(value, column: str, target: dict[str, set[str]] | None) -> str:
    text = escape(str(value or ""))
    if target and value and value in target.get(column, ()):
        return f"[{MATCH_STYLE}]{text}[/{MATCH_STYLE}]"
    return text


def product_table(
    title: str,
    rows: list[dict],
    scores: list[float] | None = None,
    target: dict[str, set[str]] | None = None,
    width: int | None = None,
) -> Table:
    """The paper's appendix table: rank, score, id and the styles columns that fit the terminal.

    Attribute cells matching the query (`Query.target`) are highlighted so a glance shows what a
    result shares with it.
    """
    columns = visible_columns(width or console().width, scores is not None)
    table = Table(
        title=title,
        title_justify="left",
        pad_edge=False,
        expand=False,
        box=None,
        header_style="bold",
        padding=(0, 1, 0, 0),
    )
    # rank, score and id are never squeezed: a cut id is a wrong id.
    if scores is not None:
        table.add_column("#", justify="right", no_wrap=True, min_width=len(str(len(rows))))
        # A score is never cut: `-0.123` must not turn into `-0.1…`.
        table.add_column("score", justify="right", no_wrap=True, min_width=max([len(_score(s)) for s in scores] + [5]))
    table.add_column("id", justify="right", no_wrap=True, min_width=max([len(str(r["id"])) for r in rows] + [2]))
    for column in columns:
        # The budget of visible_columns is each column's floor, so the name absorbs any squeeze.
        natural = max([len(SHORT_HEADERS[column])] + [len(str(r.get(column) or "")) for r in rows])
        table.add_column(
            SHORT_HEADERS[column],
            overflow="ellipsis",
            no_wrap=True,
            max_width=16,
            min_width=min(natural, COLUMN_WIDTHS.get(column, 8)),
        )
    table.add_column("name", overflow="ellipsis", no_wrap=True, min_width=MIN_NAME_WIDTH)
    for rank, row in enumerate(rows, 1):
        cells = []
        if scores is not None:
            cells += [str(rank), _score(scores[rank - 1])]
        cells.append(str(row["id"]))
        cells += [_mark(row.get(column), column, target) for column in columns]
        cells.append(escape(str(row.get(NAME_COLUMN) or "")))
        table.add_row(*cells)
    return table


def _score(score: float) -> str:
    return f"{score:.3f}"


def print_results(query: Query, results: dict[str, list[Result]], heading: str) -> None:
    """The query (items, arithmetic, filter), then the results of each space."""
    out = console()
    if query.items:
        out.print(product_table(heading, query.items))
    else:
        out.print(f"[bold]{escape(heading)}[/bold]")
    if query.where:
        out.print(f"where {escape(query.where)}")
    target = query.target()
    if len(results) > 1:
        out.print(side_by_side(results, target, out.width))
        return
    for space, rows in results.items():
        out.print(product_table(SPACE_TITLES.get(space, space), [r.row for r in rows], [r.score for r in rows], target))


def print_left_out(spaces: list[str], query: Query) -> None:
    """Under `similar --space all` for a product without a photo: which spaces it has no vector in."""
    if spaces:
        item = query.items[0]["id"] if query.items else "the query"
        names = " and ".join(SPACE_TITLES.get(space, space) for space in spaces)
        console(stderr=True).print(f"product {item} has no photo, so no {escape(names)} results")


def side_by_side(
    results: dict[str, list[Result]], target: dict[str, set[str]] | None = None, width: int | None = None
) -> Table:
    """`--space all`: one column per space, like the appendix's image / graph / Rec columns.

    One line per rank whatever the width: id and score first (never cut), then articleType and
    colour, cut with … when the terminal is narrow (`show ID` or `--json` has the rest).
    """
    width = width or console().width
    table = Table(
        title="nearest products per space",
        title_justify="left",
        pad_edge=False,
        box=None,
        header_style="bold",
        padding=(0, 2, 0, 0),
    )
    table.add_column("#", justify="right", no_wrap=True)
    room = max(12, (width - 4 - 2 * len(results)) // max(len(results), 1))
    for space in results:
        table.add_column(SPACE_TITLES.get(space, space), no_wrap=True, overflow="ellipsis", max_width=room)
    depth = max((len(rows) for rows in results.values()), default=0)
    for rank in range(depth):
        cells = [str(rank + 1)]
        for rows in results.values():
            if rank < len(rows):
                r = rows[rank]
                article, colour = (
                    _mark(r.row["articleType"], "articleType", target),
                    _mark(r.row["baseColour"], "baseColour", target),
                )
                cells.append(f"{r.id} [dim]{r.score:.2f}[/dim] {article}, {colour}")
            else:
                cells.append("")
        table.add_row(*cells)
    return table


def write_inference_csv(query: Query, inferred: dict[str, list[tuple[str, float]]]) -> None:
    """--csv of infer: one row per (column, rank), with the catalog's value when a product was asked."""
    item = query.items[0] if query.items else None
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["column", "rank", "value", "score", *(["catalog_value"] if item else [])])
    for column, values in inferred.items():
        for rank, (value, score) in enumerate(values, 1):
            writer.writerow([column, rank, value, f"{score:.4f}", *([item.get(column) or ""] if item else [])])


def print_inference(query: Query, inferred: dict[str, list[tuple[str, float]]], heading: str) -> None:
    """One line per attribute column: the ranked guesses; the product's own value marked when known."""
    out = console()
    item = query.items[0] if query.items else None
    if item:
        out.print(product_table(heading, [item]))
    else:
        out.print(f"[bold]{escape(heading)}[/bold]")
    table = Table(
        title="inferred attributes (likeliest first)",
        title_justify="left",
        pad_edge=False,
        box=None,
        header_style="bold",
        padding=(0, 2, 0, 0),
    )
    table.add_column("attribute", no_wrap=True)
    if item:
        table.add_column("catalog", overflow="fold", max_width=16)
    # All guesses in one folding cell: long values (Perfume and Body Mist) wrap instead of being cut.
    table.add_column("best first", overflow="fold")
    target = {column: {item[column]} for column in inferred if item and item.get(column)}
    catalog_width = min(16, max([len("catalog")] + [len(str(item.get(c) or "")) for c in inferred])) + 2 if item else 0
    room = out.width - max(len(c) for c in [*inferred, "attribute"]) - 2 - catalog_width
    for column, values in inferred.items():
        cells = [column] + ([escape(str(item.get(column) or ""))] if item else [])
        guesses = [
            (f"{value} {score:.2f}", f"{_mark(value, column, target)} [dim]{score:.2f}[/dim]")
            for value, score in values
        ]
        cells.append(_pack(guesses, room))
        table.add_row(*cells)
    out.print(table)


def _pack(pieces: list[tuple[str, str]], width: int, gap: str = "  ") -> str:
    """Join (plain, markup) pieces into lines of at most `width`, breaking only between pieces.

    So a wrapped line never separates a value from its score.
    """
    lines, line, used = [], [], 0
    for plain, markup in pieces:
        extra = len(plain) + (len(gap) if line else 0)
        if line and used + extra > width:
            lines.append(gap.join(line))
            line, used, extra = [], 0, len(plain)
        line.append(markup)
        used += extra
    if line:
        lines.append(gap.join(line))
    return "\n".join(lines)


def print_product(details: dict) -> None:
    """`show`: every field of one product, with how many products share each attribute value."""
    table = Table(
        title=f"product {details['id']}",
        title_justify="left",
        pad_edge=False,
        box=None,
        header_style="bold",
        padding=(0, 2, 0, 0),
    )
    table.add_column("field", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("products with it", justify="right", no_wrap=True)
    for field, value in details.items():
        if field == "shared_with":
            continue
        shared = details["shared_with"].get(field)
        table.add_row(field, escape("" if value is None else str(value)), "" if shared is None else str(shared))
    console().print(table)


def print_attributes(rows: list[dict]) -> None:
    """`attributes`: values with product counts, one block per column."""
    table = Table(pad_edge=False, box=None, header_style="bold", padding=(0, 2, 0, 0))
    table.add_column("column", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("products", justify="right", no_wrap=True)
    for index, row in enumerate(rows):
        last_of_column = index + 1 == len(rows) or rows[index + 1]["column"] != row["column"]
        table.add_row(row["column"], escape(row["value"]), str(row["products"]), end_section=last_of_column)
    console().print(table)


def print_info(info: dict) -> None:
    """`info`: what the database holds and how it was made, one line per topic."""
    run, encoder, linker = info["run"], info["encoder"], info["linker"]
    metrics = linker.get("metrics", {})
    lines = [
        ("database", f"{info['database']} — {info['disk_bytes'] / 1e6:.1f} MB on disk (every kept version)"),
        ("run", f"{run['run']} ({run['kind']}) of {run['created_at']:%Y-%m-%d %H:%M} UTC; {run['runs']} in the log"),
        (
            "products",
            f"{info['products']}, {info['with_image']} with a photo; {info['attribute_values']} attribute values",
        ),
        ("node vectors", ", ".join(f"{n} {source}" for source, n in info["node_source"].items())),
        (
            "encoder",
            f"{encoder.get('id', 'none')}"
            + (
                f" (weights {encoder.get('weights_path') or encoder['weights']}, "
                f"seed {encoder['seed']}, {encoder['image_size']} px"
                + (f", {encoder['precision']}" if encoder.get("precision") else "")  # custom encoders: none
                + ")"
                if encoder
                else ""
            ),
        ),
        ("node2vec", _params(info["node2vec"])),
        ("linker", _params({k: v for k, v in linker.items() if k not in ("metrics", "file", "ranking")})),
        ("linker fit", _params({k: v for k, v in metrics.items() if isinstance(v, (int, float))})),
        ("ranking", _ranking(info.get("ranking") or {})),
        ("ingest seconds", _params(info["metrics"].get("seconds", {}))),
        ("last change", _params(info["summary"])),
        ("versions", _params(info["versions"])),
    ]
    table = Table(pad_edge=False, box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, text in lines:
        table.add_row(name, escape(text))
    console().print(table)


def _ranking(settings: dict) -> str:
    """`rec weights articleType 1, baseColour 1.33; ...`: the ranking settings, tables flattened."""
    flat = {}
    for name, value in settings.items():
        flat[name] = ", ".join(f"{c} {_value(w)}" for c, w in value.items()) if isinstance(value, dict) else value
    return "; ".join(f"{name.replace('_', ' ')} {_value(value)}" for name, value in flat.items())


def _params(values: dict) -> str:
    """`walks 100, suggest rebuild no, new attributes baseColour=Teal`: words, not Python reprs."""
    return ", ".join(
        f"{str(k).replace('_', ' ')} {_value(v)}" for k, v in values.items() if v not in (None, [], {}, "")
    )


def _value(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e-3 and value else str(round(value, 4))
    if isinstance(value, (list, tuple)):
        return " ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "(" + _params(value) + ")"
    return str(value)


def print_demo(run) -> None:
    """`catalog demo`: the ingest report, then the two examples as the commands that give them."""
    out = console()
    print_ingest_report(run.report)
    example, flag = run.example, run.db_flag
    out.print(f"\n$ catalog similar {example}{flag} --space all")
    print_results(run.similar.query, run.similar.results, run.similar.heading)
    out.print(f"\n$ catalog query --id {example}{flag} --plus green,shoes --minus topwear")
    print_results(run.query.query, run.query.results, run.query.heading)


def print_ingest_report(report) -> None:
    out = console()
    s = report.summary
    head = f"run {report.run.run}" if report.run else "nothing to do"
    line = (
        f"[bold]{escape(head)}[/bold] ({s['mode']}): {s['products']} products — {s['added']} added, "
        f"{s['changed']} changed, {s['removed']} removed"
    )
    if s["mode"] != "full" or s.get("encoded"):
        line += f"; {s.get('encoded', 0)} photos encoded"
    out.print(line)
    if s.get("new_attributes"):
        out.print(f"new attribute values (placed, not trained): {escape(', '.join(s['new_attributes']))}")
    if s.get("suggest_rebuild"):
        out.print(
            f"{s['inferred']} products ({s['inferred_share']:.0%}) have inferred graph vectors; "
            "run `catalog rebuild` to retrain the graph space and linker on the whole catalog"
        )
    timing = Table(title="time per stage", title_justify="left", pad_edge=False, box=None)
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for stage, seconds in report.seconds.items():
        timing.add_row(stage, f"{seconds:.1f}")
    timing.add_row("[bold]total[/bold]", f"[bold]{sum(report.seconds.values()):.1f}[/bold]")
    out.print(timing)
    linker = report.run.linker.get("metrics", {}) if report.run and s["mode"] == "full" else {}
    if "val_cosine" in linker:
        # The cosine linker ignores vector length, so its MSE says nothing; the paper's is judged by MSE.
        kind = report.run.linker.get("kind")
        line = (
            f"linker ({kind}): validation cosine {linker['val_cosine']:.3f} "
            f"(predicting the mean: {linker.get('val_cosine_mean_predictor', float('nan')):.3f})"
        )
        if kind == "paper":
            line += f", MSE {linker['val_mse']:.4f} (predicting the mean: {linker['val_mse_mean_predictor']:.4f})"
        out.print(line)
    err = console(stderr=True)
    for warning in report.warnings:
        err.print(f"warning: {escape(warning)}")
    for reject in report.rejects[:20]:
        where = f"line {reject.line}" if reject.line else "row"
        ident = f" (id {escape(str(reject.id))})" if reject.id else ""
        err.print(f"skipped {where}{ident}: {escape(reject.reason)}")
    for problem in report.image_problems[:20]:
        err.print(f"no image for {problem.id}: {escape(problem.reason)}")
    hidden = max(0, len(report.rejects) - 20) + max(0, len(report.image_problems) - 20)
    if hidden:
        err.print(f"... and {hidden} more (see --json for the full list)")


class RichReporter:
    """Progress bars with counts and ETA, one per pipeline stage; silent when not on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator:
        if not self.enabled:
            yield lambda n=1: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, console=console(stderr=True), transient=False) as progress:
            task = progress.add_task(name, total=total)
            yield lambda n=1: progress.advance(task, n)
            if total is not None:
                progress.update(task, completed=total)


def print_removed(run) -> None:
    console().print(f"run {run.run}: removed {run.summary['removed']}; {run.summary['products']} products left")


def print_rollback(run, run_number: int) -> None:
    s = run.summary
    console().print(
        f"run {run.run}: back to run {run_number} ({s['products']} products; "
        f"+{s['added']} ~{s['changed']} −{s['removed']})"
    )


def history_table(runs) -> Table:
    table = Table(title="history", title_justify="left", pad_edge=False, box=None, header_style="bold")
    for name, justify in (
        ("run", "right"),
        ("time (UTC)", "left"),
        ("kind", "left"),
        ("products", "right"),
        ("change", "left"),
        ("inferred", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    for run in runs:
        s = run.summary
        change = f"+{s.get('added', 0)} ~{s.get('changed', 0)} −{s.get('removed', 0)}"
        if run.kind == "rollback":
            change += f" (to run {s.get('rolled_back_to')})"
        table.add_row(
            str(run.run),
            run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.kind,
            str(s.get("products", "")),
            change,
            str(s.get("inferred", "")),
        )
    return table


def print_evaluation(doc: dict) -> None:
    """The eval document as rich tables: precision, linker, arithmetic (one value, then several
    terms when any query was made), inference."""
    out = console()
    k, linker = doc["k"], doc["linker"]
    out.print(
        f"[bold]eval[/bold]: {doc['holdout']} held-out photos queried as new against {doc['in_sample']} products "
        f"(graph and linker rebuilt without them; linker {linker.get('kind')}, seed {doc['settings']['seed']})"
    )
    out.print(_precision_table(doc))
    out.print(_linker_table(linker, k))
    arithmetic = doc["arithmetic"]
    out.print(_arithmetic_table(arithmetic, k))
    multi = arithmetic.get("multi_term")
    if multi and multi.get("queries"):  # none: no usable target, or a document saved before multi-term existed
        out.print(_multi_term_line(multi))
        out.print(_kept_table(multi, arithmetic))
    ids = arithmetic.get("multi_term_ids")
    if ids and ids.get("queries"):  # catalog items (`query --id`): their values known, kept per column
        out.print(_multi_term_line(ids, "catalog item"))
        out.print(_kept_against_random(multi or {}, ids))
    out.print(_inference_table(doc))


def _precision_table(doc: dict) -> Table:
    """precision@k per column and space, nDCG@k below: the spaces side by side, so Rec reads
    against the image space and the random floor, with the graph space as the ceiling."""
    k, spaces, titles = doc["k"], EVAL_SPACES, EVAL_TITLES
    table = Table(title=f"precision@{k}: share of results sharing the query's value", title_justify="left")
    table.add_column("column")
    for space in spaces:
        table.add_column(titles[space], justify="right")
    for column in ATTRIBUTE_COLUMNS:
        table.add_row(column, *(_number(doc["precision"][space].get(column)) for space in spaces))
    table.add_section()
    table.add_row(f"nDCG@{k}", *(_number(doc["ndcg"].get(space)) for space in spaces))
    return table


def _linker_table(linker: dict, k: int) -> Table:
    """The linker's figures, each beside what it should beat (mean predictor, training, chance)."""
    table = Table(title=f"linker ({linker.get('kind')})", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("for comparison", justify="right")
    table.add_row(
        "validation MSE",
        _number(linker.get("val_mse")),
        f"mean predictor {_number(linker.get('val_mse_mean_predictor'))}",
    )
    table.add_row(
        "validation cosine (translated vs true)",
        _number(linker.get("val_cosine")),
        f"train {_number(linker.get('train_cosine'))}",
    )
    table.add_row(
        f"recall@{k} of own node vector (in-catalog)",
        _number(linker.get("recall_at_k")),
        f"chance {_number(linker.get('recall_chance'))}",
    )
    table.add_row("epochs", str(linker.get("epochs", "–")), "")
    return table


def _arithmetic_table(arithmetic: dict, k: int) -> Table:
    """One value swapped: per swapped column, then all trials together."""
    table = Table(title=f"arithmetic: photo + value − its own value of the column (top {k})", title_justify="left")
    for name in ("column swapped", "trials", "success", "kept", "kept without arithmetic"):
        table.add_column(name, justify="left" if name == "column swapped" else "right")
    for column, stats in arithmetic.get("by_column", {}).items():
        table.add_row(
            column,
            str(stats["trials"]),
            _number(stats["success"]),
            _number(stats["kept"]),
            _number(stats["kept_without_arithmetic"]),
        )
    table.add_section()
    table.add_row(
        "all",
        str(arithmetic["trials"]),
        _number(arithmetic["success"]),
        _number(arithmetic["kept"]),
        _number(arithmetic["kept_without_arithmetic"]),
    )
    return table


def _multi_term_line(multi: dict, item: str = "photo") -> str:
    """Several terms: success and distinct products in a sentence, in the paper's 25 items × 6."""
    return (
        f"[bold]arithmetic, several terms[/bold]: {item} + colour + subCategory − its own subCategory, "
        f"{multi['queries']} queries over {multi['targets']} targets (~{_number(multi['products_per_target'], 0)} "
        f"products carry each): every added value in {_number(multi['success'])} of results; "
        f"{_number(multi['distinct'])} of results are different products ({_number(multi['distinct_per_150'], 0)} "
        "per 25 items × 6"
        + (
            f"; at most {_number(multi['distinct_ceiling_per_150'], 0)} with {_number(multi.get('distinct_ceiling_success'), 2)} "
            "of results carrying the added values"
            if multi.get("distinct_ceiling_per_150") is not None
            else ""
        )
        + (
            f", {_number(multi['distinct_ceiling_best_hits_per_150'], 0)} with every result a best hit "
            f"for the {item}'s own values"
            if multi.get("distinct_ceiling_best_hits_per_150") is not None
            else ""
        )
        + ")"
    )


def _kept_table(multi: dict, arithmetic: dict) -> Table:
    """Per untouched column, the kept share with several terms, without arithmetic, and with one
    value swapped: what the terms cost of the photo's other values."""
    table = Table(
        title="kept: share of results with the photo's own value of an untouched column", title_justify="left"
    )
    table.add_column("column")
    table.add_column("+colour +sub −own sub", justify="right")
    table.add_column("without arithmetic", justify="right")
    table.add_column("+value −own value", justify="right")
    for column, value in multi["kept_by_column"].items():
        table.add_row(
            column,
            _number(value),
            _number(multi["kept_without_arithmetic_by_column"].get(column)),
            _number(arithmetic.get("kept_by_column", {}).get(column)),
        )
    table.add_section()
    table.add_row("all", _number(multi["kept"]), _number(multi["kept_without_arithmetic"]), "")
    return table


def _kept_against_random(photos: dict, ids: dict) -> Table:
    """Per untouched column, the kept share from photos and from catalog items, each beside a random
    pick among the products that carry the added values (the floor arithmetic should beat)."""
    table = Table(title="kept, several terms, beside a random product carrying the added values", title_justify="left")
    table.add_column("column")
    table.add_column("photos", justify="right")
    table.add_column("random carrier", justify="right")
    table.add_column("catalog items (--id)", justify="right")
    table.add_column("random carrier", justify="right")
    for column, value in ids["kept_by_column"].items():
        table.add_row(
            column,
            _number(photos.get("kept_by_column", {}).get(column)),
            _number(photos.get("kept_random_carrier_by_column", {}).get(column)),
            _number(value),
            _number(ids.get("kept_random_carrier_by_column", {}).get(column)),
        )
    return table


def _inference_table(doc: dict) -> Table:
    """Top-1 accuracy per column beside always guessing the commonest value, its floor."""
    table = Table(title="attribute inference from held-out photos", title_justify="left")
    table.add_column("column")
    table.add_column("top-1 accuracy", justify="right")
    table.add_column("commonest value", justify="right")
    for column in ATTRIBUTE_COLUMNS:
        table.add_row(column, _number(doc["inference"].get(column)), _number(doc["inference_majority"].get(column)))
    return table


def _number(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"
