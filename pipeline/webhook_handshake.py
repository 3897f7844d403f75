"""The CloudEvents webhook handshake (abuse protection), which Event Grid performs before delivering.

An Event Grid subscription that delivers in the CloudEvents schema to a webhook first sends an HTTP
`OPTIONS` request to the endpoint with a `WebHook-Request-Origin` header (`eventgrid.azure.net`) and
only delivers once the endpoint answers with `WebHook-Allowed-Origin` (CloudEvents "HTTP 1.1 Web
Hooks for Event Delivery", section 4). The deliveries themselves are ordinary structured or batch
CloudEvents, which `POST /api/events` already accepts.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

#: The origin Azure Event Grid announces in `WebHook-Request-Origin`.
EVENT_GRID_ORIGIN = "eventgrid.azure.net"
REQUEST_ORIGIN = "WebHook-Request-Origin"
REQUEST_RATE = "WebHook-Request-Rate"
ALLOWED_ORIGIN = "WebHook-Allowed-Origin"
ALLOWED_RATE = "WebHook-Allowed-Rate"
#: The methods of the `events` route, for the `Allow` header.
ALLOWED_METHODS = "POST, OPTIONS"


@dataclass(frozen=True, slots=True)
class HandshakeAnswer:
    """The HTTP answer to a validation request."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    mimetype: str | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _problem(status: int, title: str, detail: str) -> HandshakeAnswer:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    return HandshakeAnswer(status, {"Allow": ALLOWED_METHODS}, body, "application/problem+json")


def answer_validation_request(
    headers: Mapping[str, str], allowed_origins: Collection[str] = (EVENT_GRID_ORIGIN,)
) -> HandshakeAnswer:
    """Grant (or refuse) a sender's request to deliver events to this endpoint.

    Args:
        headers: The headers of the `OPTIONS` request (names in any case).
        allowed_origins: The sender origins (DNS names, case-insensitive) that may deliver;
            `"*"` allows any.

    Returns:
        200 with `WebHook-Allowed-Origin` (the requesting origin) and `WebHook-Allowed-Rate: *`
        for an allowed origin; 403 without them for another origin; 400 when the request is not
        a validation request (no `WebHook-Request-Origin`).
    """
    origin = (_header(headers, REQUEST_ORIGIN) or "").strip()
    if not origin:
        return _problem(
            400,
            "Not a webhook validation request",
            f"OPTIONS on this route is the CloudEvents webhook handshake: send {REQUEST_ORIGIN}.",
        )
    allowed = {o.lower() for o in allowed_origins}
    if "*" not in allowed and origin.lower() not in allowed:
        return _problem(403, "Origin not allowed", f"Events from {origin!r} are not accepted on this endpoint.")
    return HandshakeAnswer(200, {ALLOWED_ORIGIN: origin, ALLOWED_RATE: "*", "Allow": ALLOWED_METHODS})
