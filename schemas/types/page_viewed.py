"""``com.contoso.page.viewed.v1``: a page view in a web shop."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, StrictBool, StrictInt

from schemas.fast import model_schema_of
from schemas.registration import EventFamily, RegisteredType
from schemas.strict import NORMALISED_CONFIG, WIRE_CONFIG, text
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


class PageViewEnrichment(BaseModel):
    """What enrichment adds to a curated page view."""

    model_config = NORMALISED_CONFIG

    url_host: Annotated[str, text(), Field(description="the host of url, lower-case")]
    url_path: Annotated[str, text(1, pattern="^/"), Field(description="the path of url; '/' when it has none")]
    engaged: Annotated[StrictBool, Field(description="duration_ms >= 10000")]


def normalise(wire: PageViewed, exact: Any) -> PageViewed:
    """Nothing to normalise: strings and integers are stored as received."""
    return wire


FAMILY_SPEC = EventFamily(name=FAMILY, stored=PageViewed, enrichment=PageViewEnrichment, value_field="data.duration_ms")

V1 = RegisteredType(
    name=TYPE_V1,
    family_spec=FAMILY_SPEC,
    wire_data=PageViewed,
    normalise=normalise,
    has_decimals=False,
    one_pass_data=lambda: model_schema_of(PageViewed),
)
