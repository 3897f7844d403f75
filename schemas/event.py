"""The normalised event: what validation hands to the rest of the pipeline."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, StrictBool, StrictInt, StrictStr

from schemas.strict import NORMALISED_CONFIG
from schemas.timestamps import parse_rfc3339, to_datetime
from schemas.types.device_reading import DeviceReading
from schemas.types.order_placed import OrderPlaced
from schemas.types.page_viewed import PageViewed

Family = Literal["order.placed", "page.viewed", "device.reading"]
EventData = OrderPlaced | PageViewed | DeviceReading


class ValidEvent(BaseModel):
    """A valid event in its one normalised form.

    - ``time`` is UTC, ``YYYY-MM-DDTHH:MM:SS[.fraction]Z``, the fraction (up to nine digits)
      without trailing zeros.
    - Optional attributes sent as ``null`` are ``None``, like absent ones; extension
      attributes with a ``null`` value are dropped; ``extensions`` is sorted by name.
    - ``data`` is the stored shape of the family (orders always in the v2 shape), with
      amounts and measures as exact decimals in canonical form.

    So two deliveries of the same event that differ only in JSON formatting, member order,
    time-offset or fraction spelling, number spelling, or null-versus-absent optional
    attributes give equal models and equal :meth:`content_key`. ``model_dump_json()`` and
    ``model_validate_json()`` round-trip exactly.
    """

    model_config = NORMALISED_CONFIG

    specversion: Literal["1.0"]
    id: str
    source: str
    type: str
    time: str
    tenantid: str
    subject: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    extensions: dict[str, StrictStr | StrictInt | StrictBool] = {}
    family: Family
    data: EventData

    @property
    def identity(self) -> tuple[str, str, str]:
        """``(tenantid, source, id)``: the key that makes two deliveries the same event."""
        return (self.tenantid, self.source, self.id)

    def canonical_json(self) -> str:
        """The canonical JSON text of the normalised event (what :meth:`content_key` hashes)."""
        return self.model_dump_json()

    def content_key(self) -> str:
        """SHA-256 (hex) of the canonical JSON: equal for redeliveries of the same content."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    @property
    def epoch_ns(self) -> int:
        """The event time in nanoseconds since 1970-01-01T00:00:00Z."""
        return parse_rfc3339(self.time).epoch_ns

    @property
    def epoch_seconds(self) -> int:
        """The event time in whole seconds since the epoch, rounded down (for windows)."""
        return self.epoch_ns // 1_000_000_000

    @property
    def timestamp(self) -> datetime:
        """The event time as an aware UTC ``datetime`` (sub-microsecond digits dropped)."""
        return to_datetime(self.epoch_ns)
