"""Progress on long runs: a bar on a terminal, a line every few seconds otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, total_bytes: int, stream: TextIO = sys.stderr, interval_s: float = 0.5) -> None:
        self._total = max(total_bytes, 1)
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = interval_s if self._tty else 5.0
        self._started = time.monotonic()
        self._last = 0.0
        self.events = 0
        self.bytes = 0

    def advance(self, events: int, size: int) -> None:
        self.events += events
        self.bytes += size
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        fraction = min(self.bytes / self._total, 1.0)
        rate = self.events / max(now - self._started, 1e-9)
        if self._tty:
            filled = int(fraction * 30)
            bar = "█" * filled + "░" * (30 - filled)
            self._stream.write(f"\r  {bar} {fraction:4.0%}  {self.events:,} events  {rate:,.0f}/s ")
        else:
            self._stream.write(f"  {fraction:4.0%}  {self.events:,} events  {rate:,.0f}/s\n")
        self._stream.flush()

    def finish(self) -> None:
        self._draw(time.monotonic())
        if self._tty:
            self._stream.write("\n")
        self._stream.flush()
