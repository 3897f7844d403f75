"""The outcome of validating an event that breaks the contract."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.reasons import Reason


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an event is dead-lettered.

    Attributes:
        reason: The first failing check in the contract's order.
        errors: At least one ``{"loc": ..., "msg": ...}`` entry. ``loc`` is a dotted path
            into the event (``"data.items.0.quantity"``, ``"time"``) or ``""`` when the
            problem concerns the raw event as a whole.
    """

    reason: Reason
    errors: tuple[dict[str, str], ...]

    def __post_init__(self) -> None:
        if not self.errors:
            raise ValueError("a Rejection needs at least one error")

    @classmethod
    def of(cls, reason: Reason, loc: str, msg: str) -> Rejection:
        """A rejection with a single error."""
        return cls(reason, ({"loc": loc, "msg": msg},))

    @classmethod
    def many(cls, reason: Reason, errors: Iterable[tuple[str, str]]) -> Rejection:
        """A rejection from ``(loc, msg)`` pairs, keeping their order and dropping repeats."""
        seen: set[tuple[str, str]] = set()
        out: list[dict[str, str]] = []
        for loc, msg in errors:
            if (loc, msg) not in seen:
                seen.add((loc, msg))
                out.append({"loc": loc, "msg": msg})
        return cls(reason, tuple(out))

    def as_dict(self) -> dict[str, object]:
        """The JSON-ready form used on dead-letter records."""
        return {"reason": self.reason.value, "errors": [dict(e) for e in self.errors]}
