"""The interactive API docs (/api/docs), offline: Swagger UI's script and stylesheet are served by
this server from the `fastapi-offline` package's copy (`/static/docs/…`), and the page that starts
it is this package's (`static/api-docs.js`). FastAPI's own page loads them from a CDN: blank on a
network without the internet, and a third party told who reads the docs."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


def swagger_ui_folder() -> Path:
    """swagger-ui-bundle.js and swagger-ui.css (Swagger UI 5, which reads OpenAPI 3.1 documents)."""
    return Path(str(files("fastapi_offline") / "static"))


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API · catalog</title>
<link rel="stylesheet" href="/static/docs/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/static/docs/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


@router.get("/api/docs", response_class=HTMLResponse)
async def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
