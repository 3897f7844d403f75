"""`GET /api/health`: the reachability and latency of every store, 200 when all answer, else 503.

Function-level auth (a function or host key in `x-functions-key` or `?code=`), deliberately not
anonymous: every call costs a Blob listing per container and a Cosmos DB read per container, and
the report names the stores and their errors. Availability tests and load balancers send the
key as a header. `/api/health` is also what the runbook starts from.
"""

from __future__ import annotations

import json

import azure.functions as func

from pipeline.observability.health import check_health
from pipeline.runtime import current_runtime

bp = func.Blueprint()


@bp.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def health(req: func.HttpRequest) -> func.HttpResponse:
    return await health_response()


async def health_response() -> func.HttpResponse:
    """The health report of the current runtime's stores as an HTTP response."""
    runtime = current_runtime()
    report = await check_health(runtime.blobs, runtime.documents)
    return func.HttpResponse(
        json.dumps(report.to_json()),
        status_code=report.status_code,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )
