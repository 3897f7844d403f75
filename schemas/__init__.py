"""Contracts between the pipeline's stages: the events producers send and what validation makes of them.

``validate_event`` turns one raw event into a normalised :class:`ValidEvent` or a
:class:`Rejection` whose :class:`Reason` is the first failing check in the contract's order.
The modules read in the order an event flows through them: ``limits`` (the raw bytes) →
``envelope`` (with ``strict``, ``uris``, ``timestamps``) → ``types/`` (with ``numbers``,
``money``, ``registration``) → ``registry`` (with ``fast``, ``event``) → ``validation`` (with
``classify``) → ``reasons``. Beside them: ``curated`` and ``reference`` (documents the later
stages read and write), ``export``, ``catalog`` and ``compat`` (with ``narrowing`` and
``json_schema``: the published JSON Schemas and their compatibility).
"""

from schemas.event import EventData, ValidEvent
from schemas.limits import MAX_DEPTH, MAX_EVENT_BYTES
from schemas.reasons import Reason, Rejection
from schemas.registry import FAMILIES, REGISTRY, RegisteredType, plain_model
from schemas.types.device_reading import DeviceReading
from schemas.types.order_placed import OrderItem, OrderPlaced
from schemas.types.page_viewed import PageViewed
from schemas.validation import parse_event_dict, validate_event

__all__ = [
    "FAMILIES",
    "MAX_DEPTH",
    "MAX_EVENT_BYTES",
    "REGISTRY",
    "DeviceReading",
    "EventData",
    "OrderItem",
    "OrderPlaced",
    "PageViewed",
    "Reason",
    "RegisteredType",
    "Rejection",
    "ValidEvent",
    "parse_event_dict",
    "plain_model",
    "validate_event",
]
