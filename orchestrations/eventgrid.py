"""Event Grid deliveries in the CloudEvents schema: the webhook handshake on `OPTIONS /api/events`.

The events themselves arrive as `POST /api/events` (structured or batch mode), handled by
`http_ingest`; Event Grid sends this validation request first and delivers only once it is granted.
"""

from __future__ import annotations

import azure.durable_functions as df
import azure.functions as func

from pipeline import webhook_handshake

bp = df.Blueprint()


@bp.route(route="events", methods=["OPTIONS"], auth_level=func.AuthLevel.FUNCTION)
async def events_webhook_handshake(req: func.HttpRequest) -> func.HttpResponse:
    answer = webhook_handshake.answer_validation_request(dict(req.headers))
    return func.HttpResponse(answer.body, status_code=answer.status, headers=answer.headers, mimetype=answer.mimetype)
