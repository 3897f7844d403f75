"""What the pipeline writes for its readers: the curated event document and the aggregate row.

The curated document is what ``pipeline.enrich.enrich`` makes of a valid event (and
``pipeline.persist`` stores in the Cosmos DB container ``events``, with the ``batch_id`` that
created it); the aggregate row is a row of the ``aggregates`` container, the ``WindowAggregates``
table of Power BI. Both are exported as JSON Schemas next to the event schemas, and unit tests
validate real documents against these models, so that the definitions cannot drift from the code.

The curated document has one model per family, built from the registry: the common attributes,
the family's stored ``data`` and the fields its enrichment adds. A family added to the registry
gets its model here without any change to this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter, create_model

from schemas.envelope import TENANT_PATTERN
from schemas.registration import RegisteredType
from schemas.registry import FAMILIES, REGISTERED_TYPES, families_of
from schemas.strict import text

#: Readers' models: strict, complete (a field the code does not declare here fails the tests).
DOCUMENT_CONFIG = ConfigDict(strict=True, extra="forbid", frozen=True)

HEX_DIGEST_PATTERN = r"^[0-9a-f]{64}$"
#: The canonical UTC form of an event time: fraction of up to nine digits, no trailing zeros.
CANONICAL_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{0,8}[1-9])?Z$"
UTC_INSTANT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
WINDOW_START_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:00Z$"
#: An exact decimal as Python's ``str(Decimal)`` writes it (exponent form for tiny values).
EXACT_DECIMAL_PATTERN = r"^-?[0-9]+(?:\.[0-9]+)?(?:E[+-][0-9]+)?$"
ROW_ID_PATTERN = r"^[^|]+\|[1-9][0-9]*\|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:00Z$"

Digest = Annotated[str, text(pattern=HEX_DIGEST_PATTERN)]
Instant = Annotated[str, text(pattern=UTC_INSTANT_PATTERN)]
ExactDecimal = Annotated[str, text(pattern=EXACT_DECIMAL_PATTERN)]
WindowStart = Annotated[str, text(pattern=WINDOW_START_PATTERN)]
TenantId = Annotated[str, text(pattern=TENANT_PATTERN)]
Family = Literal[FAMILIES]  # type: ignore[valid-type]


class TenantDetails(BaseModel):
    """The tenant, from the tenant reference data."""

    model_config = DOCUMENT_CONFIG

    name: StrictStr
    region: StrictStr
    tier: StrictStr


class CuratedEventBase(BaseModel):
    """The attributes every curated event document has, whatever its family."""

    model_config = DOCUMENT_CONFIG

    id: Annotated[Digest, Field(description="SHA-256 of (tenantid, source, event id); also the partition key")]
    tenantid: TenantId
    source: Annotated[str, text(1, 512)]
    event_id: Annotated[str, text(1, 128), Field(description="the CloudEvents id")]
    type: Annotated[str, text(1), Field(description="the CloudEvents type the event arrived as")]
    family: Annotated[str, text(1)]
    specversion: Literal["1.0"]
    time: Annotated[str, text(pattern=CANONICAL_TIME_PATTERN), Field(description="the event time, in UTC")]
    subject: Annotated[str, text(1, 256)] | None
    datacontenttype: StrictStr | None
    dataschema: StrictStr | None
    extensions: Annotated[
        dict[str, StrictStr | StrictInt | StrictBool],
        Field(description="CloudEvents extension attributes, sorted by name"),
    ]
    data: BaseModel
    tenant: TenantDetails
    event_date: Annotated[str, text(pattern=DATE_PATTERN), Field(description="the UTC date of time")]
    window_start: Annotated[WindowStart, Field(description="start of the aggregate window holding time")]
    window_minutes: Annotated[StrictInt, Field(ge=1)]
    ingested_at: Annotated[Instant, Field(description="when a trigger received the event")]
    processed_at: Annotated[Instant, Field(description="when the event was enriched")]
    content_key: Annotated[Digest, Field(description="SHA-256 of the normalised event: equal for duplicates")]
    batch_id: Annotated[str, text(1), Field(description="the batch that stored the document")] | None = None
    contribution: (
        Annotated[
            str, text(1), Field(description="the aggregate contribution it is counted in: the attempt that stored it")
        ]
        | None
    ) = None


def _model_name(family: str) -> str:
    return "Curated" + "".join(part.capitalize() for part in re.split(r"[._]", family))


def curated_models(entries: tuple[RegisteredType, ...] = REGISTERED_TYPES) -> dict[str, type[BaseModel]]:
    """One curated document model per family of ``entries``, keyed by family."""
    models: dict[str, type[BaseModel]] = {}
    for family, spec in families_of(entries).items():
        type_names = tuple(entry.name for entry in entries if entry.family == family)
        type_field: Any = Literal[type_names]  # type: ignore[valid-type]
        family_field: Any = Literal[family]  # type: ignore[valid-type]
        models[family] = create_model(  # type: ignore[call-overload]
            _model_name(family),
            __base__=(spec.enrichment, CuratedEventBase),
            __doc__=f"A curated ``{family}`` event: the common attributes, its stored data and its enrichment.",
            type=(type_field, ...),
            family=(family_field, ...),
            data=(spec.stored, ...),
        )
    return models


def _union(models: dict[str, type[BaseModel]]) -> TypeAdapter[Any]:
    union: Any = Annotated[Union[tuple(models.values())], Field(discriminator="family")]  # noqa: UP007
    return TypeAdapter(union)


#: One model per registered family, keyed by family.
CURATED_MODELS: dict[str, type[BaseModel]] = curated_models()
#: The curated event document: the union of the family models, told apart by ``family``.
CURATED_ADAPTER: TypeAdapter[Any] = _union(CURATED_MODELS)


def curated_adapter(entries: tuple[RegisteredType, ...] = REGISTERED_TYPES) -> TypeAdapter[Any]:
    """The curated event document for the families of ``entries`` (by default the registry's)."""
    return CURATED_ADAPTER if entries is REGISTERED_TYPES else _union(curated_models(entries))


class WindowAggregate(BaseModel):
    """A row of the ``aggregates`` container: one window of one family of one tenant.

    The values are exact decimals over the family's value (``amount_usd``, ``duration_ms``,
    ``temperature_c``); exports round them half-even to two decimals.
    """

    model_config = DOCUMENT_CONFIG

    id: Annotated[str, text(pattern=ROW_ID_PATTERN), Field(description="event_type|window_minutes|window_start")]
    tenant_id: Annotated[TenantId, Field(description="the partition key")]
    event_type: Annotated[Family, Field(description="the event family")]
    window_start: WindowStart
    window_minutes: Annotated[StrictInt, Field(ge=1)]
    event_count: Annotated[StrictInt, Field(ge=1)]
    value_sum: ExactDecimal
    value_min: ExactDecimal
    value_max: ExactDecimal
    applied: Annotated[
        list[Annotated[str, text(1)]],
        Field(min_length=1, description="the folds (or contributions) merged into the row, each exactly once"),
    ]


def validate_curated(document: Mapping[str, Any]) -> BaseModel:
    """The curated model of ``document`` (a dict as enrichment makes it or as read back).

    Raises:
        pydantic.ValidationError: when the document does not match its family's model.
    """
    return CURATED_ADAPTER.validate_json(json.dumps(document))  # type: ignore[no-any-return]


def validate_aggregate(row: Mapping[str, Any]) -> WindowAggregate:
    """The aggregate row model of ``row``.

    Raises:
        pydantic.ValidationError: when the row does not match.
    """
    return WindowAggregate.model_validate_json(json.dumps(row))
