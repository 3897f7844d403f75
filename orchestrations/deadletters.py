"""HTTP routes for dead-letter triage: list them, and replay them once their cause is fixed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from orchestrations.handover import start_batch
from pipeline import replay
from pipeline.runtime import current_runtime
from schemas import Reason

bp = df.Blueprint()


def _reason(req: func.HttpRequest) -> str | None:
    reason = req.params.get("reason")
    if reason is not None and reason not in {r.value for r in Reason}:
        raise ValueError(f"unknown reason code {reason!r}")
    return reason


def _json(payload: dict[str, Any], status: int = 200) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(payload), status_code=status, mimetype="application/json")


def _problem(detail: str) -> func.HttpResponse:
    body = {"type": "about:blank", "title": "Bad request", "status": 400, "detail": detail}
    return func.HttpResponse(json.dumps(body), status_code=400, mimetype="application/problem+json")


@bp.route(route="deadletter", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def deadletter_list(req: func.HttpRequest) -> func.HttpResponse:
    try:
        reason = _reason(req)
    except ValueError as error:
        return _problem(str(error))
    entries = await replay.list_dead_letters(current_runtime().blobs, reason, all_reasons=True)
    return _json({"counts": replay.summarise(entries), "records": [{"name": e.name, **e.record} for e in entries]})


@bp.route(route="deadletter/replay", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@bp.durable_client_input(client_name="client")
async def deadletter_replay(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    try:
        reason = _reason(req)
        limit = int(req.params["limit"]) if "limit" in req.params else None
    except ValueError as error:
        return _problem(str(error))

    async def start(batch_id: str, batch: dict[str, Any]) -> None:
        await start_batch(client, batch_id, batch)

    runtime = current_runtime()
    summary = await replay.replay_dead_letters(
        runtime.blobs,
        start,
        now=datetime.now(UTC),
        reason=reason,
        batch_size=runtime.settings.ingest_batch_size,
        limit=limit,
    )
    return _json(summary.to_json(), status=202)
