"""For orchestrators and dashboards: `/healthz` (no token) and `/metrics` (Prometheus text format;
behind the token when the server has one). Neither is in the API's OpenAPI document."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from catalog.web.observe import metrics_text, observe_run
from catalog.web.responses import json_response

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(request: Request):
    """200 while a committed run is loaded and the database answers; 503 with the reason otherwise."""
    unavailable = getattr(request.app.state, "unavailable", None)
    if unavailable:
        return json_response({"status": "unavailable", "error": unavailable}, 503)
    try:
        document = await run_in_threadpool(health, request.app.state.catalog)
    except Exception as error:  # the database moved, vanished or cannot be reached
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        return json_response({"status": "unavailable", "error": f"cannot read the database: {reason}"}, 503)
    return json_response(document)


def health(catalog) -> dict:
    """What /healthz reports. Reads the commit log (~2 ms, off the loop): a server whose database
    went away still answers from memory, but it is no longer serving what it should."""
    served = catalog.last_run.run
    latest = catalog.store.latest_run_number()
    return {
        "status": "ok",
        "run": served,
        "latest_run": latest,
        "products": catalog.info().products,
        "memory": catalog.memory,  # answering from an in-memory copy (False: from LanceDB, catalog serve said why)
        "snapshot_age_seconds": round(time.time() - catalog.loaded_at, 3),
    }


@router.get("/metrics")
async def metrics(request: Request):
    catalog = request.app.state.catalog

    def scrape():
        observe_run(catalog)  # this worker's run gauges as of now (the others set theirs every second)
        return metrics_text()

    body, content_type = await run_in_threadpool(scrape)
    return Response(body, media_type=content_type)
