"""Writing an already-parsed JSON value back to compact JSON text, exactly.

``json.dumps`` cannot write a ``Decimal`` as a number; this writer keeps each ``Decimal``'s
literal so that amounts parsed with ``parse_float=Decimal`` survive unchanged.
"""

from __future__ import annotations

import math
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any


def to_json_text(value: Any) -> str:
    """Compact JSON for ``dict``/``list``/``tuple``/``str``/``int``/``float``/``Decimal``/``bool``/``None``.

    Strings holding lone surrogates are written as ``\\uXXXX`` escapes (which the validator
    then refuses as malformed JSON, as it would the original text).

    Raises:
        TypeError: for a value JSON has no form for (or a non-string object key).
        ValueError: for a non-finite number.
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _string(text: str) -> str:
    encoded: str = encode_basestring(text)
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError:
        encoded = encode_basestring_ascii(text)
    return encoded


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            out.append("NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity"))
        else:
            out.append(float.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        out.append(str(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, member in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
            if not first:
                out.append(",")
            first = False
            out.append(_string(key))
            out.append(":")
            _write(member, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, member in enumerate(value):
            if index:
                out.append(",")
            _write(member, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON type")
