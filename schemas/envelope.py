"""The CloudEvents 1.0 envelope as producers send it (JSON structured mode)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, create_model

from schemas.strict import ExtensionValue, text
from schemas.timestamps import TIME_PATTERN
from schemas.uris import ABSOLUTE_URI_PATTERN, JSON_MEDIA_TYPE_PATTERN, URI_REFERENCE_PATTERN

SPECVERSION = "1.0"
TENANT_PATTERN = r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$"
EXTENSION_NAME_PATTERN = r"^[a-z0-9]{1,20}$"
_EXTENSION_NAME_RE = re.compile(EXTENSION_NAME_PATTERN)

#: Required attributes, in the order their absence is reported.
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "tenantid", "data")
OPTIONAL_ATTRIBUTES = ("subject", "datacontenttype", "dataschema")
#: Attributes defined by this contract; any other top-level member is an extension.
CONTEXT_ATTRIBUTES = frozenset(REQUIRED_ATTRIBUTES + OPTIONAL_ATTRIBUTES)


class WireEnvelope(BaseModel):
    """Context attributes of an event; one subclass per registered type adds ``type`` and ``data``.

    Unknown top-level members are collected as extensions, whose values are checked here
    (string, integer, boolean or null) and whose names are checked by
    :func:`extension_name_errors`.
    """

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    __pydantic_extra__: dict[str, ExtensionValue]  # type: ignore[assignment]

    specversion: Literal["1.0"]
    id: Annotated[str, text(1, 128)]
    source: Annotated[str, text(1, 512, URI_REFERENCE_PATTERN)]
    time: Annotated[str, text(pattern=TIME_PATTERN)]
    tenantid: Annotated[str, text(pattern=TENANT_PATTERN)]
    subject: Annotated[str, text(1, 256)] | None = None
    datacontenttype: Annotated[str, text(pattern=JSON_MEDIA_TYPE_PATTERN)] | None = None
    dataschema: Annotated[str, text(1, pattern=ABSOLUTE_URI_PATTERN)] | None = None


def envelope_for(type_name: str, data_model: type[BaseModel]) -> type[WireEnvelope]:
    """The wire model of one registered type: the envelope plus its ``type`` and ``data``."""
    return create_model(  # type: ignore[call-overload,no-any-return,unused-ignore]
        "Wire_" + re.sub(r"\W", "_", type_name),
        __base__=WireEnvelope,
        type=(Literal[type_name], ...),  # type: ignore[arg-type,unused-ignore]
        data=(data_model, ...),
    )


#: The envelope of an event whose type is not a registered type name (for error reports).
AnyTypeEnvelope: type[WireEnvelope] = create_model(  # type: ignore[call-overload]
    "Wire_any_type",
    __base__=WireEnvelope,
    type=(Annotated[Any, None], ...),
    data=(Annotated[Any, None], ...),
)

_NAME_CHECKS: dict[str, bool] = {}


def is_extension_name(name: str) -> bool:
    """Whether ``name`` may be used for a CloudEvents extension attribute."""
    ok = _NAME_CHECKS.get(name)
    if ok is None:
        ok = _EXTENSION_NAME_RE.fullmatch(name) is not None and name.isascii()
        if len(_NAME_CHECKS) < 4096:
            _NAME_CHECKS[name] = ok
    return ok


def extension_name_errors(members: dict[str, Any]) -> list[tuple[str, str]]:
    """Errors for extension attributes with names the contract does not allow.

    Args:
        members: Top-level members that are not context attributes. A member whose value
            is ``null`` is absent and is not checked.
    """
    errors = []
    for name, value in members.items():
        if value is None or name in CONTEXT_ATTRIBUTES or is_extension_name(name):
            continue
        if name == "data_base64":
            msg = "data_base64 is not accepted: send data as a JSON object in 'data'"
        else:
            msg = "is not a valid extension attribute name (1-20 characters: a-z and 0-9)"
        errors.append((name, msg))
    return errors
