"""All terminal and JSON output lives here; the library returns data, this turns it into text."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from catalog.columns import ATTRIBUTE_COLUMNS, DISPLAY_COLUMNS, NAME_COLUMN
from catalog.search import Result

SHORT_HEADERS = {
    "gender": "gender",
    "masterCategory": "master",
    "subCategory": "sub",
    "articleType": "article",
    "baseColour": "colour",
    "season": "season",
    "year": "year",
    "usage": "usage",
    NAME_COLUMN: "name",
}
SPACE_TITLES = {"image": "image space", "graph": "graph space", "rec": "Rec (image → linker → graph)"}


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


def result_dict(result: Result) -> dict:
    return {"id": result.id, "score": result.score, **{c: result.row[c] for c in DISPLAY_COLUMNS if c != "id"}}


def results_document(item: dict | None, results: dict[str, list[Result]], **extra) -> dict:
    """--json shape: one space -> a list; several -> an object keyed by space name."""
    lists = {space: [result_dict(r) for r in rs] for space, rs in results.items()}
    document = {"query": item, **extra}
    document["results"] = next(iter(lists.values())) if len(lists) == 1 else lists
    return document


# Columns by priority: an 80-column terminal shows the first ones, a wide one all of the appendix.
COLUMN_PRIORITY = ("articleType", "baseColour", "gender", "usage", "season", "subCategory", "masterCategory", "year")
MIN_NAME_WIDTH = 16


def visible_columns(width: int, with_scores: bool) -> list[str]:
    """The attribute columns that fit `width` beside id, name (and rank and score)."""
    used = 6 + (14 if with_scores else 0) + MIN_NAME_WIDTH
    shown = []
    for column in COLUMN_PRIORITY:
        cost = {"articleType": 14, "baseColour": 10, "year": 5}.get(column, 9) + 1
        if used + cost > width:
            break
        shown.append(column)
        used += cost
    return [c for c in ATTRIBUTE_COLUMNS if c in shown]


def product_table(title: str, rows: list[dict], scores: list[float] | None = None, query: dict | None = None,
                  width: int | None = None) -> Table:
    """The paper's appendix table: rank, score, id and the styles columns that fit the terminal.

    Attribute cells equal to the query item's are bold so a glance shows what a result shares.
    """
    columns = visible_columns(width or console().width, scores is not None)
    table = Table(title=title, title_justify="left", pad_edge=False, expand=False, box=None, header_style="bold")
    # rank, score and id are never squeezed: a cut id is a wrong id.
    if scores is not None:
        table.add_column("#", justify="right", no_wrap=True, min_width=len(str(len(rows))))
        table.add_column("score", justify="right", no_wrap=True, min_width=5)
    table.add_column("id", justify="right", no_wrap=True, min_width=max([len(str(r["id"])) for r in rows] + [2]))
    for column in columns:
        table.add_column(SHORT_HEADERS[column], overflow="ellipsis", no_wrap=True, max_width=16)
    table.add_column("name", overflow="ellipsis", no_wrap=True, min_width=MIN_NAME_WIDTH)
    for rank, row in enumerate(rows, 1):
        cells = []
        if scores is not None:
            cells += [str(rank), f"{scores[rank - 1]:.3f}"]
        cells.append(str(row["id"]))
        for column in columns:
            value = escape(str(row.get(column) or ""))
            shared = query is not None and value and row.get(column) == query.get(column)
            cells.append(f"[bold]{value}[/bold]" if shared else value)
        cells.append(escape(str(row.get(NAME_COLUMN) or "")))
        table.add_row(*cells)
    return table


def print_similar(item: dict | None, results: dict[str, list[Result]], heading: str) -> None:
    out = console()
    if item is not None:
        out.print(product_table(heading, [item]))
    if len(results) > 1:
        out.print(side_by_side(results))
        return
    for space, rows in results.items():
        out.print(product_table(SPACE_TITLES.get(space, space), [r.row for r in rows], [r.score for r in rows], item))


def side_by_side(results: dict[str, list[Result]]) -> Table:
    """`--space all`: one column per space, like the appendix's image / graph / Rec columns."""
    table = Table(title="nearest products per space", title_justify="left", pad_edge=False)
    table.add_column("#", justify="right")
    for space in results:
        table.add_column(SPACE_TITLES.get(space, space), overflow="fold")
    depth = max((len(rows) for rows in results.values()), default=0)
    for rank in range(depth):
        cells = [str(rank + 1)]
        for rows in results.values():
            if rank < len(rows):
                r = rows[rank]
                cells.append(f"{r.id} {escape(r.row['articleType'])}, {escape(r.row['baseColour'])} [dim]{r.score:.2f}[/dim]")
            else:
                cells.append("")
        table.add_row(*cells)
    return table


def print_ingest_report(report) -> None:
    out = console()
    s = report.summary
    out.print(
        f"[bold]run {report.run.run}[/bold]: {s['products']} products — {s['added']} added, "
        f"{s['changed']} changed, {s['removed']} removed; {s['encoded']} photos encoded"
    )
    timing = Table(title="time per stage", title_justify="left", pad_edge=False)
    timing.add_column("stage")
    timing.add_column("seconds", justify="right")
    for stage, seconds in report.seconds.items():
        timing.add_row(stage, f"{seconds:.1f}")
    timing.add_row("[bold]total[/bold]", f"[bold]{sum(report.seconds.values()):.1f}[/bold]")
    out.print(timing)
    linker = report.run.linker.get("metrics", {})
    if "val_cosine" in linker:
        out.print(
            f"linker ({report.run.linker.get('kind')}): validation cosine {linker['val_cosine']:.3f}, "
            f"MSE {linker['val_mse']:.4f} (mean predictor {linker['val_mse_mean_predictor']:.4f})"
        )
    err = console(stderr=True)
    for reject in report.rejects[:20]:
        where = f"line {reject.line}" if reject.line else "row"
        ident = f" (id {escape(str(reject.id))})" if reject.id else ""
        err.print(f"skipped {where}{ident}: {escape(reject.reason)}")
    for problem in report.image_problems[:20]:
        err.print(f"no image for {problem.id}: {escape(problem.reason)}")
    hidden = max(0, len(report.rejects) - 20) + max(0, len(report.image_problems) - 20)
    if hidden:
        err.print(f"... and {hidden} more (see --json for the full list)")


def ingest_document(report) -> dict:
    return {
        "run": report.run.run,
        "summary": report.summary,
        "seconds": {k: round(v, 2) for k, v in report.seconds.items()},
        "linker": report.run.linker.get("metrics", {}),
        "rejected_rows": [{"line": r.line, "id": r.id, "reason": r.reason} for r in report.rejects],
        "image_problems": [{"id": p.id, "reason": p.reason} for p in report.image_problems],
    }


class RichReporter:
    """Progress bars with counts and ETA, one per pipeline stage; silent when not on a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @contextmanager
    def stage(self, name: str, total: int | None) -> Iterator:
        if not self.enabled:
            yield lambda n=1: None
            return
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        with Progress(*columns, console=console(stderr=True), transient=False) as progress:
            task = progress.add_task(name, total=total)
            yield lambda n=1: progress.advance(task, n)
            if total is not None:
                progress.update(task, completed=total)
