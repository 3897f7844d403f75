"""RFC 3339 timestamps: the accepted syntax, normalisation to UTC, and the allowed range.

Times are kept as text with up to nine fractional digits, so they are converted with
integer arithmetic on the proleptic Gregorian calendar rather than with ``datetime``
(microseconds only, years 1-9999 only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: RFC 3339 ``date-time``: seconds required, 1-9 fractional digits, explicit offset with
#: hours <= 23. Month, day, hour, minute and second ranges are checked here; the length
#: of the month and the position of a leap second are checked by :func:`parse_rfc3339`.
TIME_PATTERN = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt]"
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]{1,9})?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
TIME_RE = re.compile(TIME_PATTERN)

EARLIEST = "2000-01-01T00:00:00Z"
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
#: 2000-01-01T00:00:00Z in nanoseconds since the epoch.
EARLIEST_NS = 10_957 * _DAY_NS
#: How far ahead of the processing clock an event time may be.
_MAX_SKEW_NS = 300 * _NS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_LAST_NS_OF_DAY = _DAY_NS - 1


class TimeFormatError(ValueError):
    """The text is not an RFC 3339 date-time that this contract accepts."""


@dataclass(frozen=True, slots=True)
class UtcTime:
    """A normalised instant.

    Attributes:
        text: Canonical UTC form ``YYYY-MM-DDTHH:MM:SS[.fraction]Z`` (fraction without
            trailing zeros).
        epoch_ns: Nanoseconds since 1970-01-01T00:00:00Z.
    """

    text: str
    epoch_ns: int


def is_leap_year(year: int) -> bool:
    """Gregorian leap-year rule."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """Length of a month in the proleptic Gregorian calendar."""
    if month == 2 and is_leap_year(year):
        return 29
    return _DAYS_IN_MONTH[month]


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 for a proleptic Gregorian date (any year)."""
    y = year - 1 if month <= 2 else year
    era = y // 400
    yoe = y - era * 400
    mp = month + 9 if month <= 2 else month - 3
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """The (year, month, day) of a day number counted from 1970-01-01."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


def format_utc(epoch_ns: int) -> str:
    """Canonical text of an instant: UTC, ``Z``, fraction trimmed of trailing zeros."""
    days, ns_of_day = divmod(epoch_ns, _DAY_NS)
    year, month, day = civil_from_days(days)
    seconds, fraction = divmod(ns_of_day, _NS)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"


def parse_rfc3339(text: str) -> UtcTime:
    """Check an RFC 3339 date-time and normalise it to UTC.

    A leap second (``:60``) is accepted only where RFC 3339 allows it, at 23:59:60 UTC
    once the offset is applied; it is stored as the last nanosecond of that UTC day
    (``23:59:59.999999999Z``), because neither POSIX time nor ``datetime`` can hold it.

    Raises:
        TimeFormatError: with a message for a person, when the text is not accepted.
    """
    if TIME_RE.fullmatch(text) is None:
        raise TimeFormatError(
            "must be an RFC 3339 date-time with seconds and an explicit offset, "
            "like 2026-11-01T12:30:00Z or 2026-11-01T13:30:00.250+01:00"
        )
    canonical, epoch_ns = normalise_matched(text)
    if epoch_ns is None:
        epoch_ns = _epoch_ns(canonical)
    return UtcTime(canonical, epoch_ns)


def normalise_matched(text: str) -> tuple[str, int | None]:
    """Canonical UTC text of a date-time already known to match :data:`TIME_PATTERN`.

    Returns:
        The canonical text, and its instant in nanoseconds when that had to be worked out by
        arithmetic (a leap second, or a year that ``datetime`` cannot hold), else ``None``.

    Raises:
        TimeFormatError: for a day the month does not have, or a misplaced leap second.
    """
    if text[8:10] > "28" and int(text[8:10]) > days_in_month(int(text[0:4]), int(text[5:7])):
        raise TimeFormatError(f"{text[0:10]} is not a calendar date")
    if text[-1] == "Z" and text[10] == "T" and text[17:19] != "60" and (len(text) == 20 or text[-2] != "0"):
        return text, None  # already canonical, as most times are
    if text[17:19] != "60":
        zone = -1 if text[-1] in "Zz" else -6
        key = text[:16] + text[zone:]
        utc_minute = _UTC_MINUTES.get(key) or _utc_minute(key)
        if utc_minute is not None:
            fraction = text[20:zone].rstrip("0")
            return utc_minute + text[16:19] + ("." + fraction + "Z" if fraction else "Z"), None
    return _normalise_arithmetic(text)


#: ``YYYY-MM-DDTHH:MM`` in UTC by local minute and zone (``text[:16] + zone``). Kept because an
#: offset only moves whole minutes and events share minutes: a lookup instead of ~1 µs of ``datetime``.
_UTC_MINUTES: dict[str, str] = {}


def _utc_minute(key: str) -> str | None:
    """``YYYY-MM-DDTHH:MM`` in UTC of a local minute and its zone (``Z`` or ``±hh:mm``), or
    ``None`` when ``datetime`` cannot hold either side (years 1-9999)."""
    try:
        moment = datetime.fromisoformat(key[:16])
        if key[16] not in "Zz":
            minutes = int(key[17:19]) * 60 + int(key[20:22])
            moment -= timedelta(minutes=-minutes if key[16] == "-" else minutes)
    except (ValueError, OverflowError):
        return None
    utc_minute = moment.isoformat()[:16]
    if len(_UTC_MINUTES) >= 8192:
        _UTC_MINUTES.clear()
    _UTC_MINUTES[key] = utc_minute
    return utc_minute


def _normalise_arithmetic(text: str) -> tuple[str, int]:
    """Any year, leap seconds included, with integer arithmetic."""
    end = len(text)
    if text[-1] in "Zz":
        offset_s = 0
        end -= 1
    else:
        end -= 6
        offset_s = (int(text[end + 1 : end + 3]) * 60 + int(text[end + 4 : end + 6])) * 60
        if text[end] == "-":
            offset_s = -offset_s
    fraction_ns = 0
    if end > 19:
        digits = text[20:end]
        fraction_ns = int(digits) * 10 ** (9 - len(digits))
    second = int(text[17:19])
    leap = second == 60
    days = days_from_civil(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    local_s = int(text[11:13]) * 3600 + int(text[14:16]) * 60 + (59 if leap else second)
    epoch_ns = (days * 86_400 + local_s - offset_s) * _NS + fraction_ns
    if leap:
        if epoch_ns % _DAY_NS < (86_400 - 1) * _NS:
            raise TimeFormatError("a leap second (:60) is only possible at 23:59:60 UTC")
        epoch_ns = (epoch_ns // _DAY_NS) * _DAY_NS + _LAST_NS_OF_DAY
    return format_utc(epoch_ns), epoch_ns


def _epoch_ns(canonical: str) -> int:
    """Nanoseconds since the epoch of a canonical UTC text."""
    days = days_from_civil(int(canonical[0:4]), int(canonical[5:7]), int(canonical[8:10]))
    seconds = int(canonical[11:13]) * 3600 + int(canonical[14:16]) * 60 + int(canonical[17:19])
    fraction = canonical[20:-1]
    fraction_ns = int(fraction) * 10 ** (9 - len(fraction)) if fraction else 0
    return (days * 86_400 + seconds) * _NS + fraction_ns


def datetime_to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of a ``datetime`` (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ((moment - _EPOCH) // timedelta(microseconds=1)) * 1000


def out_of_range_message(epoch_ns: int, now_ns: int) -> str | None:
    """Why a time is outside the accepted range, or ``None`` when it is inside.

    The range is [2000-01-01T00:00:00Z, now + 5 minutes], both ends included.
    """
    if epoch_ns < EARLIEST_NS:
        return _TOO_EARLY
    if epoch_ns > now_ns + _MAX_SKEW_NS:
        return _too_late(now_ns)
    return None


_TOO_EARLY = f"must not be before {EARLIEST}"


def _too_late(now_ns: int) -> str:
    return f"must not be more than 5 minutes after the time of processing ({format_utc(now_ns)})"


#: The seconds of :data:`EARLIEST` (see :attr:`TimeRange.latest_seconds`).
EARLIEST_SECONDS = EARLIEST[:19]


class TimeRange:
    """The accepted range for one processing moment, checked on canonical text when possible.

    Attributes:
        now_ns: The moment of processing.
        latest_seconds: The seconds (``YYYY-MM-DDTHH:MM:SS``) of the latest time accepted: a
            canonical time ``t`` with ``EARLIEST_SECONDS <= t < latest_seconds`` is in the range
            (compared as text: ``t`` begins with its seconds, so it sorts as they do).
    """

    __slots__ = ("_latest_fraction", "_too_late", "latest_seconds", "now_ns")

    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns
        latest = format_utc(now_ns + _MAX_SKEW_NS)
        self.latest_seconds = latest[:19]
        self._latest_fraction = latest[20:-1].ljust(9, "0")
        self._too_late = _too_late(now_ns)

    def problem(self, canonical: str, epoch_ns: int | None) -> str | None:
        """Why the time is out of range, or ``None``.

        Args:
            canonical: Canonical UTC text with a four-digit year.
            epoch_ns: Its instant, if already known (then compared as a number).
        """
        if epoch_ns is not None:
            return out_of_range_message(epoch_ns, self.now_ns)
        seconds = canonical[:19]
        if seconds < EARLIEST_SECONDS:
            return _TOO_EARLY
        if seconds < self.latest_seconds:
            return None
        if seconds == self.latest_seconds and canonical[20:-1].ljust(9, "0") <= self._latest_fraction:
            return None
        return self._too_late


def to_datetime(epoch_ns: int) -> datetime:
    """An aware UTC ``datetime`` (microseconds truncated) for an instant."""
    return _EPOCH + timedelta(microseconds=epoch_ns // 1000)
