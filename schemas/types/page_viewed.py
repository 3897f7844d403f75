"""``com.contoso.page.viewed.v1``: a page view in a web shop."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictInt

from schemas.strict import WIRE_CONFIG, text
from schemas.uris import HTTP_URL_PATTERN

FAMILY = "page.viewed"
TYPE_V1 = "com.contoso.page.viewed.v1"

HttpUrl = Annotated[str, text(1, 2048, HTTP_URL_PATTERN)]


class PageViewed(BaseModel):
    """A page view. The wire shape and the stored shape are the same."""

    model_config = WIRE_CONFIG

    session_id: Annotated[str, text(1, 64)]
    url: HttpUrl
    referrer: HttpUrl | None = None
    duration_ms: Annotated[StrictInt, Field(ge=0, le=86_400_000)]
    user_agent: Annotated[str, text(0, 512)] | None = None


def normalise(wire: PageViewed, exact: dict[str, Any] | None = None) -> PageViewed:
    """Nothing to normalise: strings and integers are stored as received."""
    return wire
