"""Framing: how raw events are cut out of files and HTTP bodies, byte for byte.

Each event keeps its exact bytes, so validation sees what the producer sent (sizes, encodings and
nesting included) whichever way it arrived. JSON arrays are split by a scanner that tracks strings
and nesting without decoding, so a deep, malformed or non-UTF-8 element is cut out and judged on
its own instead of failing the whole file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{},]', re.DOTALL)
_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"

CONTENT_TYPE_STRUCTURED = "application/cloudevents+json"
CONTENT_TYPE_BATCH = "application/cloudevents-batch+json"


@dataclass(frozen=True, slots=True)
class Framed:
    body: bytes
    position: int  # 1-based line number (NDJSON) or 0-based element index (arrays, HTTP)


class FramingError(ValueError):
    """The container of the events (not an event) is unusable, e.g. a batch body that is no array."""


def split_ndjson(content: bytes) -> Iterator[Framed]:
    """One event per line; empty (whitespace-only) lines are skipped and not counted."""
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip(_WHITESPACE):
            yield Framed(line, number)


def split_json_array(content: bytes) -> list[bytes] | None:
    """The raw bytes of each top-level element, or None when `content` is not a JSON array."""
    text = content[len(_BOM) :] if content.startswith(_BOM) else content
    start = len(text) - len(text.lstrip(_WHITESPACE))
    if text[start : start + 1] != b"[":
        return None
    elements: list[bytes] = []
    depth = 0
    element_start = start + 1
    for match in _TOKENS.finditer(text, start):
        token = match.group()
        if token[0:1] == b'"':
            continue
        if token in (b"[", b"{"):
            depth += 1
        elif token in (b"]", b"}"):
            depth -= 1
            if depth == 0:
                _append_element(elements, text[element_start : match.start()])
                if text[match.end() :].strip(_WHITESPACE):
                    return None  # trailing garbage after the array
                return elements
        elif token == b"," and depth == 1:
            _append_element(elements, text[element_start : match.start()], allow_empty=False)
            element_start = match.end()
    return None  # unterminated array


def _append_element(elements: list[bytes], raw: bytes, allow_empty: bool = True) -> None:
    stripped = raw.strip(_WHITESPACE)
    if stripped or not allow_empty or elements:
        elements.append(stripped)


def split_file(name: str, content: bytes) -> Iterator[Framed]:
    """Events of an uploaded file: a `.json` file may hold a JSON array; anything else is NDJSON."""
    if name.lower().endswith(".json"):
        elements = split_json_array(content)
        if elements is not None:
            for index, raw in enumerate(elements):
                yield Framed(raw, index + 1)
            return
    yield from split_ndjson(content)


def binary_mode_event(headers: Mapping[str, str], body: bytes) -> bytes:
    """A binary-mode CloudEvent (attributes in `ce-*` headers, body = data) as structured JSON.

    The body is embedded verbatim as `data`, so its number literals, nesting and size reach
    validation unchanged.
    """
    attributes: dict[str, str] = {}
    for key, value in headers.items():
        lower = key.lower()
        if lower.startswith("ce-") and len(lower) > 3:
            attributes[lower[3:]] = unquote(value)
    content_type = headers.get("content-type") or headers.get("Content-Type")
    if content_type:
        attributes["datacontenttype"] = content_type
    envelope = json.dumps(attributes, ensure_ascii=False).encode("utf-8")
    if not body.strip(_WHITESPACE):
        return envelope
    return envelope[:-1] + (b', "data": ' if attributes else b'"data": ') + body + b"}"


def is_binary_mode(headers: Mapping[str, str]) -> bool:
    """Binary mode: `ce-*` headers carry the attributes, unless the content type says the body is a
    structured CloudEvent (the HTTP binding gives `application/cloudevents…` precedence)."""
    if media_type(headers).startswith("application/cloudevents"):
        return False
    return any(key.lower() == "ce-specversion" for key in headers)


def media_type(headers: Mapping[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""
