"""Validation cost: the platform's `validate_event` vs a plain `model_validate_json` of the same bytes."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pipeline.synthetic import generate_events
from schemas import plain_model, validate_event


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

        platform_s = _best_of(repeats, platform)
        plain_s = _best_of(repeats, plain)
        results[label] = {
            "events": len(corpus),
            "platform_us_per_event": round(platform_s / len(corpus) * 1e6, 2),
            "plain_us_per_event": round(plain_s / len(corpus) * 1e6, 2),
            "ratio": round(platform_s / plain_s, 2),
            "goal_ratio_at_most": 1.3,
        }
    return results
