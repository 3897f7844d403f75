"""Generating a stream: shaped synthetic events with event times spaced at a rate."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline import synthetic

NS = 1_000_000_000
TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "order": (synthetic.ORDER_V1, synthetic.ORDER_V2),
    "order.placed": (synthetic.ORDER_V1, synthetic.ORDER_V2),
    "order.v1": (synthetic.ORDER_V1,),
    "order.v2": (synthetic.ORDER_V2,),
    "page": (synthetic.PAGE_VIEWED,),
    "page.viewed": (synthetic.PAGE_VIEWED,),
    "device": (synthetic.DEVICE_READING,),
    "device.reading": (synthetic.DEVICE_READING,),
}
_TIME = re.compile(rb'"time"(\s*):(\s*)"([0-9][0-9:.+\-TtZz]{18,40})"')


# ---------------------------------------------------------------------------------------------
# Generating a stream
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamSpec:
    """What to generate. `rate` spaces event times (events per second of event time) from `start`."""

    count: int
    seed: int = 7
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    rate: float | None = None
    start: datetime | None = None
    skew_s: float = 0.0
    bad_ratio: float = 0.05
    duplicate_ratio: float = 0.03
    tenants: tuple[str, ...] = synthetic.TENANT_IDS
    types: tuple[str, ...] = ()
    bad_kinds: tuple[str, ...] = synthetic.BAD_KINDS
    span: timedelta = timedelta(hours=3)
    id_prefix: str = "gen-"
    max_oversized: int | None = 2


def resolve_types(names: Iterable[str]) -> tuple[str, ...]:
    """Registered type names from aliases (`order`, `page.viewed`, `device`, …) or full names."""
    known = {t for group in TYPE_ALIASES.values() for t in group}
    chosen: list[str] = []
    for name in names:
        types = TYPE_ALIASES.get(name) or ((name,) if name in known else None)
        if types is None:
            raise ValueError(f"unknown event type {name!r}: use {', '.join(sorted(TYPE_ALIASES))} or a full type name")
        chosen.extend(t for t in types if t not in chosen)
    return tuple(chosen)


def generate_stream(spec: StreamSpec) -> Iterator[synthetic.Labelled]:
    """The shaped stream: filtered by type, with event times placed at the rate when one is set.

    With a type filter, bad events are thinned so that their share stays `bad_ratio`, and a
    redelivery is kept only when its original was. With a rate, event `i` gets the time
    `start + i / rate` minus a random lateness of up to `skew_s`; copies of an event keep their
    original's instant (each in its own spelling), and `time_out_of_range` events keep their time.
    """
    source = synthetic.generate_labelled(
        spec.count if not spec.types else spec.count * 50 + 1_000,
        seed=spec.seed,
        now=spec.now,
        bad_ratio=spec.bad_ratio,
        duplicate_ratio=spec.duplicate_ratio,
        tenants=spec.tenants,
        bad_kinds=spec.bad_kinds,
        window=spec.span,
        id_prefix=spec.id_prefix,
        max_oversized=spec.max_oversized,
    )
    rng = random.Random(spec.seed ^ 0x5EED)
    start = spec.start or (spec.now - timedelta(seconds=spec.count / spec.rate + 60) if spec.rate else spec.now)
    start_ns = int(start.timestamp()) * NS + start.microsecond * 1000
    placed: dict[tuple[str, str, str], int] = {}
    dropped: set[tuple[str, str, str]] = set()
    emitted = bad = 0
    for item in source:
        if emitted >= spec.count:
            return
        identity, type_ = identity_and_type(item.raw)
        if spec.types:
            if item.label == "valid" and type_ not in spec.types:
                if identity:
                    dropped.add(identity)
                continue
            if item.label in ("duplicate", "conflicting_duplicate") and identity in dropped:
                continue
            if item.label not in ("valid", "duplicate") and bad + 1 > spec.bad_ratio * (emitted + 1):
                continue
        raw = item.raw
        if spec.rate and item.label != "time_out_of_range":
            target: int | None
            if item.label in ("duplicate", "conflicting_duplicate"):
                target = placed.get(identity) if identity else None
            else:
                lateness = int(rng.uniform(0, spec.skew_s) * NS) if spec.skew_s else 0
                target = start_ns + int(emitted * NS / spec.rate) - lateness
                if item.label == "valid" and identity:
                    placed[identity] = target
            if target is not None:
                raw = retime(raw, target)
        if item.label not in ("valid", "duplicate"):
            bad += 1
        emitted += 1
        yield synthetic.Labelled(item.label, raw)


def identity_and_type(raw: bytes) -> tuple[tuple[str, str, str] | None, str | None]:
    try:
        event = json.loads(raw.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    if not isinstance(event, dict):
        return None, None
    parts = (event.get("tenantid"), event.get("source"), event.get("id"))
    identity = parts if all(isinstance(p, str) for p in parts) else None
    type_ = event.get("type")
    return identity, type_ if isinstance(type_, str) else None  # type: ignore[return-value]


def retime(raw: bytes, target_ns: int) -> bytes:
    """`raw` with its `time` set to the instant `target_ns`, in the same offset spelling.

    The fraction keeps its length when the instant fits it, else gets nine digits. A raw event
    without a parseable `time` is returned unchanged.
    """
    from schemas.timestamps import TimeFormatError, parse_rfc3339

    match = _TIME.search(raw)
    if match is None:
        return raw
    text = match.group(3).decode("ascii")
    try:
        parse_rfc3339(text)
    except TimeFormatError:
        return raw
    fraction = _fraction(text)
    offset = text[20 + len(fraction) :] if fraction else text[19:]
    offset_ns = _offset_seconds(offset) * NS
    local_s, nanos = divmod(target_ns + offset_ns, NS)
    digits = len(fraction)
    if nanos % 10 ** (9 - digits):  # the instant needs more digits than the spelling had
        digits = 9
    spelled = datetime.fromtimestamp(local_s, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        spelled += "." + f"{nanos:09d}"[:digits]
    spelled += offset
    return raw[: match.start(3)] + spelled.encode("ascii") + raw[match.end(3) :]


def _fraction(text: str) -> str:
    if len(text) > 19 and text[19] == ".":
        end = 20
        while end < len(text) and text[end].isdigit():
            end += 1
        return text[20:end]
    return ""


def _offset_seconds(offset: str) -> int:
    if offset in ("Z", "z"):
        return 0
    sign = 1 if offset[0] == "+" else -1
    return sign * (int(offset[1:3]) * 3600 + int(offset[4:6]) * 60)


def expected_outcome(labels: Counter[str]) -> dict[str, Any]:
    """What the pipeline should report for a stream with these labels (processed in order)."""
    reasons = {k: v for k, v in sorted(labels.items()) if k not in ("valid", "duplicate")}
    return {
        "received": sum(labels.values()),
        "stored": labels["valid"],
        "duplicates": labels["duplicate"],
        "dead_lettered": sum(reasons.values()),
        "dead_letter_reasons": reasons,
    }
