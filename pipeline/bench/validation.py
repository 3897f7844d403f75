"""Validation cost: the platform's `validate_event` vs a plain `validate_json` of the same bytes.

What the ratio measures: µs per event through `schemas.validate_event(raw, now=now)` divided by
µs per event through `plain_model().validate_json(raw)` (pydantic's public `TypeAdapter` call) on
the same 20,000 generated events, best of `repeats` runs each. `plain_model()` is the one-pass
schema (`schemas.registry.EVENT_ADAPTER`), the one pydantic validation the platform runs on every
event: the wire contract's constraints (in pydantic-core) and what pydantic field and model
validators do in it: amounts and measures to canonical `Decimal` (a cache lookup, Python on a
miss), `time` to canonical UTC text, the order-total rule. What `validate_event` adds is a scan of
the raw bytes (size, ASCII, nesting, long number literals), finishing the event (extensions,
fields set), the time range, and, for the events the one-pass schema refuses, the general path
that names the reason.

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


def _best_of(repeats: int, work: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def measure(events: int = 20_000, repeats: int = 5) -> dict[str, Any]:
    now = datetime.now(UTC)
    baseline_model = plain_model()
    results: dict[str, Any] = {}
    for label, bad_ratio in (("clean", 0.0), ("5% bad", 0.05)):
        corpus = list(
            generate_events(events, seed=3, now=now, bad_ratio=bad_ratio, duplicate_ratio=0.0, max_oversized=0)
        )

        def platform(corpus: list[bytes] = corpus) -> None:
            for raw in corpus:
                validate_event(raw, now=now)

        def plain(corpus: list[bytes] = corpus) -> None:
            for raw in corpus:
                try:
                    baseline_model.validate_json(raw)
                except ValueError:
                    pass

        def wire(corpus: list[bytes] = corpus) -> None:
            for raw in corpus:
                try:
                    WIRE_ADAPTER.validate_json(raw)
                except ValueError:
                    pass

        platform_s = _best_of(repeats, platform)
        plain_s = _best_of(repeats, plain)
        wire_s = _best_of(repeats, wire)
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
