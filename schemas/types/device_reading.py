"""``com.contoso.device.reading.v1``: a sensor reading from a device."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, PlainSerializer, StrictFloat, StrictInt, WithJsonSchema
from pydantic_core import CoreSchema

from schemas.fast import SlowPath, converted, model_schema_of, zeros_are_exact
from schemas.numbers import NeedsExact, canonical_measure, canonical_number, to_decimal
from schemas.registration import EventFamily, RegisteredType
from schemas.strict import NORMALISED_CONFIG, WIRE_CONFIG, CentsText, text, trusted_builder

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


_new_reading = trusted_builder(DeviceReading)


class _MeasureLookup(dict[float, Decimal]):
    """The stored measures already worked out, by float.

    Indexing it is the one-pass validator's after-validator for measures (a C call when the
    value is cached); a value not cached yet is converted by ``__missing__``.
    """

    def __missing__(self, value: float) -> Decimal:
        try:
            measure = canonical_measure(value)
        except NeedsExact:  # zero or subnormal: the literal may have underflowed
            if value == 0 and zeros_are_exact():  # (not cached: it is not exact elsewhere)
                return canonical_number(Decimal(0))
            raise SlowPath from None
        if len(self) >= 8192:
            self.clear()
        self[value] = measure
        return measure


_CACHE = _MeasureLookup()


def _measure(value: float, exact: Any) -> Decimal:
    if exact is not None:
        return canonical_number(to_decimal(exact))
    try:
        return _CACHE[value]
    except SlowPath:  # zero or subnormal: never cached
        raise NeedsExact from None


def _range_error(value: Decimal, bounds: tuple[Decimal, Decimal]) -> str | None:
    low, high = bounds
    if value < low or value > high:
        return f"must be a number from {low} to {high}"
    return None


def normalise(wire: DeviceReadingWire, exact: dict[str, Any] | None = None) -> DeviceReading | list[tuple[str, str]]:
    """The stored reading, or the ``(loc, msg)`` errors found on the exact values.

    Args:
        wire: The validated wire data (numbers read through floats).
        exact: The same ``data`` object parsed with exact decimals, when the raw event had
            number literals that a float might not hold exactly.
    """
    if exact is None:
        get = _CACHE.get
        temperature = get(wire.temperature_c) or _measure(wire.temperature_c, None)
        value = wire.humidity_pct
        humidity = None if value is None else get(value) or _measure(value, None)
        return _new_reading(
            {
                "device_id": wire.device_id,
                "temperature_c": temperature,
                "humidity_pct": humidity,
                "battery_pct": wire.battery_pct,
            }
        )
    temperature = _measure(wire.temperature_c, exact["temperature_c"])
    humidity = None if wire.humidity_pct is None else _measure(wire.humidity_pct, exact["humidity_pct"])
    errors = []
    if (msg := _range_error(temperature, TEMPERATURE_RANGE)) is not None:
        errors.append(("data.temperature_c", msg))
    if humidity is not None and (msg := _range_error(humidity, HUMIDITY_RANGE)) is not None:
        errors.append(("data.humidity_pct", msg))
    if errors:
        return errors
    return _new_reading(
        {
            "device_id": wire.device_id,
            "temperature_c": temperature,
            "humidity_pct": humidity,
            "battery_pct": wire.battery_pct,
        }
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


#: ``MEASURE_LOOKUP[value]``: the stored measure of a float read from a literal of at most 15
#: significant digits, for the one-pass validator (:mod:`schemas.fast`).
MEASURE_LOOKUP = _CACHE


def one_pass_data() -> CoreSchema:
    """The wire schema of a reading that builds the stored :class:`DeviceReading` (see :mod:`schemas.fast`)."""
    schema = model_schema_of(DeviceReadingWire)
    wire = schema["schema"]["fields"]
    measure = MEASURE_LOOKUP.__getitem__
    humidity = wire["humidity_pct"]["schema"]  # default(nullable(float))
    if humidity["type"] != "default" or humidity["schema"]["type"] != "nullable":
        raise TypeError("humidity_pct is not an optional number")
    humidity["schema"]["schema"] = converted(measure, humidity["schema"]["schema"])
    wire["temperature_c"]["schema"] = converted(measure, wire["temperature_c"]["schema"])
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
