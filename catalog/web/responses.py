"""What a handler answers with: a result's document as `--json` prints it, or a page rendered from
catalog/web/templates/ (Jinja2, autoescape on: every value reaches a page escaped)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader

from catalog.core.columns import ATTRIBUTE_COLUMNS, SHORT_NAMES
from catalog.core.spaces import SPACE_HEADINGS

if TYPE_CHECKING:
    from catalog.api import Catalog

TEMPLATES = Path(__file__).parent / "templates"

# space: (heading, what it is), from the --html page's headings ("Rec: photo → ... → graph space")
SPACE_TITLES = {space: tuple(heading.split(": ", 1)) for space, heading in SPACE_HEADINGS.items()}


def json_response(document: Any, status: int = 200, headers: dict | None = None) -> Response:
    """The document as `--json` prints it (datetimes as ISO 8601), without FastAPI's re-encoding pass."""
    body = json.dumps(document, ensure_ascii=False, default=_json_default, allow_nan=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


def page_templates() -> Environment:
    """The pages' Jinja2 environment, built once by `create_app` and kept on `app.state.templates`."""
    templates = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    templates.globals.update(SHORT=SHORT_NAMES, SPACE_TITLES=SPACE_TITLES, ATTRIBUTE_COLUMNS=ATTRIBUTE_COLUMNS)
    templates.filters["when"] = _when
    return templates


class PageRenderer:
    """`render("browse.html", title=..., ...)`: a template as an HTML response. Every page also gets
    `error` (none unless given) and the catalog's `run`, read at each render."""

    def __init__(self, templates: Environment, catalog: Catalog):
        self.templates, self.catalog = templates, catalog

    def __call__(self, name: str, status: int = 200, **context) -> HTMLResponse:
        context.setdefault("error", None)
        context.setdefault("run", self.catalog.run)
        return HTMLResponse(self.templates.get_template(name).render(**context), status_code=status)


def _when(value) -> str:
    """A run's time as `2026-11-30 18:15 UTC` (ISO 8601 strings and datetimes alike)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return f"{value:%Y-%m-%d %H:%M} UTC" if isinstance(value, datetime) else str(value)
