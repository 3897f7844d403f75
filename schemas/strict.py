"""Strict JSON scalar types shared by the envelope and the data schemas.

Every type here refuses coercion: a number is never read from a string, a boolean is
never a number, and an integer must be written as a JSON integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    GetCoreSchemaHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from pydantic_core import CoreSchema


@dataclass(frozen=True, slots=True)
class OneOf:
    """Report a union that matched no member as one error with a message of our own.

    pydantic otherwise reports one error per member, with the member's type in the
    location, which says little to a producer.
    """

    error_type: str
    message: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        if schema["type"] != "union":
            raise TypeError(f"OneOf applies to a union, not {schema['type']}")
        return {
            **schema,
            "mode": "left_to_right",
            "custom_error_type": self.error_type,
            "custom_error_message": self.message,
        }


def text(min_length: int = 0, max_length: int | None = None, pattern: str | None = None) -> StringConstraints:
    """Constraints of a strict JSON string, lengths counted in Unicode code points.

    Used as ``Annotated[str, text(1, 64)]``.
    """
    return StringConstraints(strict=True, min_length=min_length, max_length=max_length, pattern=pattern)


EXTENSION_VALUE_MESSAGE = "an extension attribute must be a string, an integer or a boolean"

#: The value of a CloudEvents extension attribute (``null`` means absent).
ExtensionValue = Annotated[StrictStr | StrictInt | StrictBool, OneOf("extension_value", EXTENSION_VALUE_MESSAGE)] | None


#: Two-decimal text written by enrichment (``"27.12"``, ``"-3.50"``): rounded half-even, no exponent.
CENTS_TEXT_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
CentsText = Annotated[str, StringConstraints(strict=True, pattern=CENTS_TEXT_PATTERN)]


#: Configuration of the models that read producer input: nothing coerced, nothing extra.
WIRE_CONFIG = ConfigDict(strict=True, extra="forbid", frozen=True)

#: Configuration of the normalised models: immutable, and reading back only what they wrote.
NORMALISED_CONFIG = ConfigDict(strict=True, extra="forbid", frozen=True)
