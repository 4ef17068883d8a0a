"""Self-contained HTML pages of results, laid out like the paper's appendix figures.

The query (a photo, or one or more catalog products) comes first, then one row of result cards
per space: thumbnail, rank, score, id, attributes (those matching the query highlighted) and
name. Thumbnails travel inside the page as `data:` URIs, so the file can be mailed or opened
offline. Every piece of catalog text is escaped: product names are user data and may contain
markup or quotes.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Iterable

from catalog.core.columns import ATTRIBUTE_COLUMNS, NAME_COLUMN, SHORT_NAMES
from catalog.core.errors import CatalogError
from catalog.core.spaces import SPACE_HEADINGS
from catalog.results import Query, Result

STYLE = """
body { font: 14px/1.35 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: #666; margin: 0 0 16px; }
.chip { display: inline-block; padding: 1px 8px; margin: 0 4px 4px 0; border-radius: 10px; font-size: 12px; }
.chip.plus { background: #d9f2dc; color: #145a1e; } .chip.minus { background: #f9dcdc; color: #7a1616; }
.chip.where { background: #e4e8f7; color: #1f2f6b; }
h2 { font-size: 16px; margin: 24px 0 8px; }
* { box-sizing: border-box; }
.row { display: flex; flex-wrap: wrap; gap: 12px; }
.card { flex: 0 0 172px; background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 8px; }
.card.query { flex-basis: 220px; border: 2px solid #333; }
.card img, .card .nophoto { display: block; width: 100%; height: 150px; object-fit: contain; background: #fff; border-radius: 4px; }
.card.query img, .card.query .nophoto { height: 200px; }
.nophoto { display: flex !important; align-items: center; justify-content: center; color: #888; font-size: 12px; background: #f0f0f0 !important; }
.head { display: flex; justify-content: space-between; margin: 6px 0 2px; font-weight: 600; }
.score { color: #555; font-variant-numeric: tabular-nums; }
.name { font-size: 12px; color: #333; margin: 2px 0 4px; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 0 6px; margin: 0; font-size: 12px; }
dt { color: #888; } dd { margin: 0; overflow-wrap: anywhere; }
dd.match { background: #fff1a8; font-weight: 600; border-radius: 3px; padding: 0 2px; }
table.infer { border-collapse: collapse; background: #fff; }
table.infer th, table.infer td { border-bottom: 1px solid #e5e5e5; padding: 4px 10px; text-align: left; vertical-align: top; }
.track { display: inline-block; width: 80px; height: 8px; margin-right: 6px; background: #eef1f8; border-radius: 2px; vertical-align: middle; }
.bar { display: block; height: 8px; background: #5b8def; border-radius: 2px; }
.hit { background: #fff1a8; font-weight: 600; }
.layout { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
"""

SHORT = SHORT_NAMES


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def data_uri(jpeg: bytes | None) -> str | None:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii") if jpeg else None


def photo_jpeg(path: Path, size: int = 320) -> bytes:
    """A query photo as a small JPEG for the page: a 20 MB upload should not make a 27 MB page."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((size, size))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise CatalogError(f"cannot use {path} for the page: {error}") from None
    return buffer.getvalue()


def _picture(jpeg: bytes | None, alt: str) -> str:
    uri = data_uri(jpeg)
    if uri is None:
        return '<div class="nophoto">no photo</div>'
    return f'<img src="{uri}" alt="{_e(alt)}">'


def _attributes(row: dict, target: dict[str, set[str]]) -> str:
    cells = []
    for column in ATTRIBUTE_COLUMNS:
        value = row.get(column)
        match = bool(value) and value in target.get(column, ())
        cells.append(f"<dt>{SHORT[column]}</dt><dd{' class=match' if match else ''}>{_e(value) or '–'}</dd>")
    return f"<dl>{''.join(cells)}</dl>"


def _card(
    row: dict,
    jpeg: bytes | None,
    target: dict[str, set[str]],
    rank: int | None = None,
    score: float | None = None,
    query: bool = False,
) -> str:
    head = f"<span>{'#' + str(rank) + ' · ' if rank else ''}id {_e(row['id'])}</span>"
    if score is not None:
        head += f'<span class="score">{score:.3f}</span>'
    return (
        f'<div class="card{" query" if query else ""}">{_picture(jpeg, row.get(NAME_COLUMN) or str(row["id"]))}'
        f'<div class="head">{head}</div><div class="name">{_e(row.get(NAME_COLUMN))}</div>'
        f"{_attributes(row, target)}</div>"
    )


def _photo_card(label: str, jpeg: bytes | None) -> str:
    return f'<div class="card query">{_picture(jpeg, label)}<div class="head"><span>{_e(label)}</span></div></div>'


def _query_cards(query: Query, thumbnails: dict[int, bytes], photo: bytes | None) -> str:
    cards = []
    if query.image is not None:
        cards.append(_photo_card(f"photo {query.image}", photo))
    # The query items are the reference, so nothing on them is highlighted.
    cards += [_card(item, thumbnails.get(item["id"]), {}, query=True) for item in query.items]
    return "".join(cards)


def _chips(query: Query) -> str:
    chips = []
    for term in query.terms:
        kind, sign = ("plus", "+") if term.weight > 0 else ("minus", "−")
        weight = f" ×{abs(term.weight):g}" if abs(term.weight) != 1 else ""
        chips.append(f'<span class="chip {kind}">{sign} {_e(term.attribute.key)}{weight}</span>')
    if query.where:
        chips.append(f'<span class="chip where">where {_e(query.where)}</span>')
    return f"<p>{''.join(chips)}</p>" if chips else ""


def _page(title: str, subtitle: str, body: Iterable[str]) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{_e(title)}</h1><p class="meta">{_e(subtitle)}</p>{"".join(body)}</body></html>\n'
    )


def results_page(
    title: str,
    subtitle: str,
    query: Query,
    results: dict[str, list[Result]],
    thumbnails: dict[int, bytes],
    photo: bytes | None = None,
) -> str:
    """The query, its arithmetic, then one row of result cards per space (image, graph, Rec order)."""
    target = query.target()
    legend = '<p class="meta"><span class="hit">highlighted</span>: attributes a result shares with the query</p>'
    body = [f'<div class="row">{_query_cards(query, thumbnails, photo)}</div>', _chips(query), legend]
    for space, rows in results.items():
        cards = "".join(_card(r.row, thumbnails.get(r.id), target, rank, r.score) for rank, r in enumerate(rows, 1))
        body.append(f"<h2>{_e(SPACE_HEADINGS.get(space, space))}</h2>")
        body.append(f'<div class="row">{cards or "<p>no results</p>"}</div>')
    return _page(title, subtitle, body)


def inference_page(
    title: str,
    subtitle: str,
    query: Query,
    inferred: dict[str, list[tuple[str, float]]],
    thumbnails: dict[int, bytes],
    photo: bytes | None = None,
) -> str:
    """The photo beside a table: per attribute column, the inferred values with score bars.

    For a catalog product its recorded value is shown too, and a predicted value equal to it is
    highlighted, so a glance shows where inference is right.
    """
    item = query.items[0] if query.items else None
    head = "<tr><th>attribute</th>" + ("<th>catalog</th>" if item else "") + "<th>inferred (likeliest first)</th></tr>"
    rows = []
    for column, values in inferred.items():
        actual = item.get(column) if item else None
        guesses = []
        for value, score in values:
            width = max(0.0, min(1.0, score)) * 100
            hit = ' class="hit"' if item and value == actual else ""
            guesses.append(
                f'<div><span class="track"><span class="bar" style="width:{width:.0f}%"></span></span>'
                f'<span{hit}>{_e(value)}</span> <span class="score">{score:.3f}</span></div>'
            )
        catalog_cell = f"<td>{_e(actual) or '–'}</td>" if item else ""
        rows.append(f"<tr><th>{_e(column)}</th>{catalog_cell}<td>{''.join(guesses) or '–'}</td></tr>")
    table = f'<table class="infer">{head}{"".join(rows)}</table>'
    return _page(
        title,
        subtitle,
        [f'<div class="layout"><div class="row">{_query_cards(query, thumbnails, photo)}</div>{table}</div>'],
    )
