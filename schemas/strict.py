"""Strict JSON scalar types shared by the envelope and the data schemas.

Every type here refuses coercion: a number is never read from a string, a boolean is
never a number, and an integer must be written as a JSON integer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from pydantic_core import CoreSchema

_M = TypeVar("_M", bound=BaseModel)


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


class EveryField(set[str]):
    """The fields set of instances whose every field is set: one read-only set per model.

    Every instance the platform builds has all its fields set, so they share one set instead of
    each holding a copy (~0.15 µs saved per instance, two per event on the hot path of validation).
    pydantic-core needs a ``set`` (a ``frozenset`` fails to serialise), so this is
    a ``set`` whose changing methods raise; ``copy`` and ``deepcopy`` (so ``model_copy``) give an
    ordinary set, and it pickles as one. The models are frozen: pydantic never adds to it.
    """

    __slots__ = ()

    def _read_only(self, *args: Any) -> Any:
        raise TypeError("the fields set shared by normalised models is read-only; copy it to change it")

    add = discard = remove = pop = clear = _read_only
    update = intersection_update = difference_update = symmetric_difference_update = _read_only
    __ior__ = __iand__ = __isub__ = __ixor__ = _read_only

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: Any) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[type[set[str]], tuple[list[str]]]:
        return set, (list(self),)


@cache
def every_field(model: type[BaseModel]) -> EveryField:
    """The fields set shared by the instances of ``model`` that have every field set."""
    return EveryField(model.model_fields)


def trusted_constructor(model: type[_M]) -> Callable[..., _M]:
    """A constructor for values already validated: ``model_construct`` without its overheads.

    Every field must be passed. The instance is set up as ``model_construct`` sets it up
    (``__dict__``, fields set, no extra, no private attributes), the fields set being the
    model's shared :func:`every_field`; a unit test checks that it equals the validated instance.
    """
    fields = every_field(model)
    new = model.__new__
    setattr_ = object.__setattr__

    def construct(**values: Any) -> _M:
        instance = new(model)
        setattr_(instance, "__dict__", values)
        setattr_(instance, "__pydantic_fields_set__", fields)
        setattr_(instance, "__pydantic_extra__", None)
        setattr_(instance, "__pydantic_private__", None)
        return instance

    return construct


def trusted_builder(model: type[_M]) -> Callable[[dict[str, Any]], _M]:
    """Like :func:`trusted_constructor`, from a dict of every field in declaration order.

    The dict becomes the instance's ``__dict__`` (the caller hands it over); building it as
    a literal is cheaper than passing keyword arguments on the hot path.
    """
    fields = every_field(model)
    new = model.__new__
    setattr_ = object.__setattr__

    def build(values: dict[str, Any]) -> _M:
        instance = new(model)
        setattr_(instance, "__dict__", values)
        setattr_(instance, "__pydantic_fields_set__", fields)
        setattr_(instance, "__pydantic_extra__", None)
        setattr_(instance, "__pydantic_private__", None)
        return instance

    return build
