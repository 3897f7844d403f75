"""``com.contoso.device.reading.v1``: a sensor reading from a device."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer, StrictFloat, StrictInt, WithJsonSchema
from pydantic_core import CoreSchema

from schemas.fast import SlowPath, converted, model_schema_of, remembered
from schemas.numbers import MIN_NORMAL, canonical_number
from schemas.registration import EventFamily, RegisteredType
from schemas.strict import NORMALISED_CONFIG, WIRE_CONFIG, CentsText, text

FAMILY = "device.reading"
TYPE_V1 = "com.contoso.device.reading.v1"

TEMPERATURE_RANGE = (Decimal(-90), Decimal(150))
HUMIDITY_RANGE = (Decimal(0), Decimal(100))

#: How a measure is written: the exact value without trailing zeros (``"21.5"``, ``"150"``), in
#: exponent form below 10**-6 (``"1E-7"``), as Python's ``str(Decimal)`` writes it.
MEASURE_TEXT_PATTERN = r"^-?[0-9]+(?:\.[0-9]+)?(?:E[+-][0-9]+)?$"

#: A measured value: exact Decimal of the JSON literal, written as a decimal string.
Measure = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(str, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": MEASURE_TEXT_PATTERN, "description": "The exact measured value."},
        mode="serialization",
    ),
]


class DeviceReadingWire(BaseModel):
    """A reading as producers send it (numbers are JSON numbers, never strings)."""

    model_config = WIRE_CONFIG

    device_id: Annotated[str, text(1, 64)]
    temperature_c: Annotated[StrictFloat, Field(ge=-90, le=150, allow_inf_nan=False)]
    humidity_pct: Annotated[StrictFloat, Field(ge=0, le=100, allow_inf_nan=False)] | None = None
    battery_pct: Annotated[StrictInt, Field(ge=0, le=100)] | None = None


class DeviceReading(BaseModel):
    """A reading as stored: measured values are exact decimals."""

    model_config = NORMALISED_CONFIG

    device_id: str
    temperature_c: Measure
    humidity_pct: Measure | None = None
    battery_pct: int | None = None


class DeviceReadingEnrichment(BaseModel):
    """What enrichment adds to a curated reading."""

    model_config = NORMALISED_CONFIG

    temperature_f: Annotated[CentsText, Field(description="temperature_c x 9/5 + 32, rounded half-even to cents")]
    site: Annotated[str, text(1), Field(description="the device's site from the reference data, or 'unassigned'")]


def _range_error(value: Decimal, bounds: tuple[Decimal, Decimal]) -> str | None:
    low, high = bounds
    if value < low or value > high:
        return f"must be a number from {low} to {high}"
    return None


def normalise(wire: DeviceReadingWire, exact: dict[str, Any]) -> DeviceReading | list[tuple[str, str]]:
    """The stored reading, its measures read from their literals in ``exact`` (the parsed ``data``),
    or the ``(loc, msg)`` errors that only those literals show."""
    temperature = canonical_number(exact["temperature_c"])
    humidity = None if wire.humidity_pct is None else canonical_number(exact["humidity_pct"])
    errors = []
    if (msg := _range_error(temperature, TEMPERATURE_RANGE)) is not None:
        errors.append(("data.temperature_c", msg))
    if humidity is not None and (msg := _range_error(humidity, HUMIDITY_RANGE)) is not None:
        errors.append(("data.humidity_pct", msg))
    if errors:
        return errors
    return DeviceReading.model_construct(
        device_id=wire.device_id, temperature_c=temperature, humidity_pct=humidity, battery_pct=wire.battery_pct
    )


def exact_errors(exact: dict[str, Any]) -> list[tuple[str, str]]:
    """Range errors visible only on the exact values (for events already rejected)."""
    errors = []
    for name, bounds in (("temperature_c", TEMPERATURE_RANGE), ("humidity_pct", HUMIDITY_RANGE)):
        value = exact.get(name)
        if not isinstance(value, int | Decimal) or isinstance(value, bool):
            continue
        if (msg := _range_error(Decimal(value), bounds)) is not None:
            errors.append((f"data.{name}", msg))
    return errors


def one_pass_measure(value: float) -> Decimal:
    """The stored measure of a float whose literal had at most 15 significant digits.

    Raises:
        SlowPath: for a zero or subnormal float (its literal may have underflowed).
    """
    if -MIN_NORMAL < value < MIN_NORMAL:
        raise SlowPath
    return canonical_number(Decimal(repr(value)))


#: :func:`one_pass_measure`, remembered: the one-pass schema's after-validator for measures.
MEASURE_LOOKUP = remembered(one_pass_measure)


def one_pass_data() -> CoreSchema:
    """The wire schema of a reading that builds the stored :class:`DeviceReading` (see :mod:`schemas.fast`)."""
    schema = model_schema_of(DeviceReadingWire)
    wire = schema["schema"]["fields"]
    humidity = wire["humidity_pct"]["schema"]  # default(nullable(float))
    if humidity["type"] != "default" or humidity["schema"]["type"] != "nullable":
        raise TypeError("humidity_pct is not an optional number")
    humidity["schema"]["schema"] = converted(MEASURE_LOOKUP, humidity["schema"]["schema"])
    wire["temperature_c"]["schema"] = converted(MEASURE_LOOKUP, wire["temperature_c"]["schema"])
    if list(wire) != list(DeviceReading.model_fields):
        raise TypeError("DeviceReadingWire and DeviceReading no longer have the same fields")
    schema["cls"] = DeviceReading
    return schema


FAMILY_SPEC = EventFamily(
    name=FAMILY, stored=DeviceReading, enrichment=DeviceReadingEnrichment, value_field="data.temperature_c"
)

V1 = RegisteredType(
    name=TYPE_V1,
    family_spec=FAMILY_SPEC,
    wire_data=DeviceReadingWire,
    normalise=normalise,
    has_decimals=True,
    exact_errors=exact_errors,
    one_pass_data=one_pass_data,
)
