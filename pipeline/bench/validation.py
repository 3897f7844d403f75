"""Validation cost: the platform's `validate_event` vs a plain `validate_json` of the same bytes.

What the ratio measures: µs per event through `schemas.validate_event(raw, now=now)` divided by
µs per event through `plain_model().validate_json(raw)` (pydantic's public `TypeAdapter` call) on
the same 20,000 generated events, best of `repeats` runs each. `plain_model()` is the one-pass
schema (`schemas.registry.EVENT_ADAPTER`), the one pydantic validation the platform runs on every
event: the wire contract's constraints (in pydantic-core) and what pydantic field and model
validators do in it: amounts and measures to canonical `Decimal` (a cache lookup, Python on a
miss), `time` to canonical UTC text, the order-total rule. What `validate_event` adds is a scan of
the raw bytes (size, ASCII, nesting, long number literals), finishing the event (extensions,
fields set), the time range, and, for the events the one-pass schema refuses, naming the reason
from the refusal's errors (the general path for the few it cannot name).

Because the one-pass schema does part of the normalisation, `wire_us_per_event` is also given:
`validate_json` of the wire models alone (`schemas.registry.WIRE_ADAPTER`, constraints only,
nothing normalised), the baseline before the one-pass schema existed; `platform / wire` is the
whole cost of normalising beyond validating. Caches (amounts, measures, UTC minutes) are warm
after the first run, and the corpus is run `repeats` times, so misses are rarer than in a stream.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pipeline.synthetic import generate_events
from schemas import plain_model, validate_event
from schemas.registry import WIRE_ADAPTER


def _interleaved(work: dict[str, Callable[[list[bytes]], None]], corpus: list[bytes], repeats: int) -> dict[str, float]:
    """Seconds each of ``work`` takes over ``corpus``, measured so that the machine's drift
    cancels: the corpus is cut into chunks of 500 events, every chunk is run through each
    measurement in turn (the order alternating), and each chunk counts with its best time
    over ``repeats`` rounds. A slow spell then costs every measurement alike instead of
    whichever ran during it."""
    chunks = [corpus[start : start + _CHUNK] for start in range(0, len(corpus), _CHUNK)]
    best = {name: [float("inf")] * len(chunks) for name in work}
    order = list(work.items())
    for round_ in range(repeats):
        for index, chunk in enumerate(chunks):
            for name, run in order if (round_ + index) % 2 else reversed(order):
                started = time.perf_counter()
                run(chunk)
                best[name][index] = min(best[name][index], time.perf_counter() - started)
    return {name: sum(times) for name, times in best.items()}


_CHUNK = 500


def _refusals_ignored(validate: Callable[[bytes], Any]) -> Callable[[list[bytes]], None]:
    """A pydantic baseline over a chunk: a refused event costs its `ValidationError`, nothing more."""

    def run(chunk: list[bytes]) -> None:
        for raw in chunk:
            try:
                validate(raw)
            except ValueError:
                pass

    return run


def measure(events: int = 20_000, repeats: int = 7) -> dict[str, Any]:
    now = datetime.now(UTC)
    plain = _refusals_ignored(plain_model().validate_json)
    wire = _refusals_ignored(WIRE_ADAPTER.validate_json)

    def platform(chunk: list[bytes]) -> None:
        for raw in chunk:
            validate_event(raw, now=now)

    results: dict[str, Any] = {}
    for label, bad_ratio in (("clean", 0.0), ("5% bad", 0.05)):
        corpus = list(
            generate_events(events, seed=3, now=now, bad_ratio=bad_ratio, duplicate_ratio=0.0, max_oversized=0)
        )
        seconds = _interleaved({"platform": platform, "plain": plain, "wire": wire}, corpus, repeats)
        platform_s, plain_s, wire_s = seconds["platform"], seconds["plain"], seconds["wire"]
        results[label] = {
            "events": len(corpus),
            "platform_us_per_event": round(platform_s / len(corpus) * 1e6, 2),
            "plain_us_per_event": round(plain_s / len(corpus) * 1e6, 2),
            "ratio": round(platform_s / plain_s, 2),
            "goal_ratio_at_most": 1.3,
            "wire_us_per_event": round(wire_s / len(corpus) * 1e6, 2),
            "ratio_to_wire": round(platform_s / wire_s, 2),
        }
    return results
