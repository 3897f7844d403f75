"""Checks on the raw bytes, made before any JSON parsing: size, encoding, nesting depth."""

from __future__ import annotations

import re

#: A raw event over this many bytes (as received, BOM included) is ``too_large``.
MAX_EVENT_BYTES = 262_144
#: JSON nested deeper than this is ``too_deep``; the top-level object is depth 1.
MAX_DEPTH = 32
UTF8_BOM = b"\xef\xbb\xbf"

# A JSON string, or the unterminated rest of one (so that brackets inside it never count).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_OPEN = frozenset(b"[{")


def exceeds_depth(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether brackets outside JSON strings nest deeper than ``limit``.

    Works on any bytes, well-formed JSON or not: strings (with their escapes) are skipped,
    every ``{``/``[`` opens a level and every ``}``/``]`` closes one. The quotes, backslashes
    and brackets it looks at are ASCII, so UTF-8 text can be scanned as bytes.
    """
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", raw))
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def encoding_error(raw: bytes) -> str | None:
    """Why ``raw`` is not UTF-8, or ``None`` when it is."""
    if raw.isascii():
        return None
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8: {exc.reason} at byte {exc.start}"
    return None
