"""Synthetic CloudEvents for demos, tests and benchmarks: deterministic for a given seed.

:func:`generate_events` yields raw events (one ``bytes`` per event, no newline) of all four
registered types across several tenants, with event times in the hours before ``now``
written in assorted offsets and fraction lengths. A configurable share are *bad* events that
cover every reason code an input can cause (1-14), and a share are redeliveries of events
already emitted: byte-identical copies, or the same content spelt differently (member order,
whitespace, time offset, money spelling, ``null`` optional attributes, a byte-order mark).

:func:`write_samples` writes the committed sample set under ``samples/``; run
``python -m pipeline.synthetic [DIR]`` to regenerate it.
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ORDER_V1 = "com.contoso.order.placed.v1"
ORDER_V2 = "com.contoso.order.placed.v2"
PAGE_VIEWED = "com.contoso.page.viewed.v1"
DEVICE_READING = "com.contoso.device.reading.v1"

#: Tenants of the reference data: (id, name, region, tier).
TENANTS: tuple[tuple[str, str, str, str], ...] = (
    ("acme", "Acme Corp", "westeurope", "gold"),
    ("globex", "Globex Corporation", "eastus", "silver"),
    ("initech", "Initech", "northeurope", "bronze"),
    ("umbrella", "Umbrella plc", "uksouth", "gold"),
    ("stark-industries", "Stark Industries", "westus2", "platinum"),
)
TENANT_IDS: tuple[str, ...] = tuple(tenant[0] for tenant in TENANTS)
#: Well-formed tenant ids that are not in the reference data (``unknown_tenant``).
UNKNOWN_TENANTS: tuple[str, ...] = ("wayne-enterprises", "cyberdyne", "tyrell-corp")
#: USD per one unit of each currency, as decimal strings.
FX_RATES: dict[str, str] = {
    "USD": "1",
    "EUR": "1.0850",
    "GBP": "1.2675",
    "JPY": "0.006710",
    "CHF": "1.1320",
    "CAD": "0.7380",
    "AUD": "0.6590",
}
#: Valid ISO 4217 codes with no rate in the reference data (``unknown_currency``).
UNKNOWN_CURRENCIES: tuple[str, ...] = ("BRL", "INR", "ZAR")
#: Devices of the reference data: (id, tenant, site).
DEVICES: tuple[tuple[str, str, str], ...] = tuple(
    (f"dev-{n:03d}", TENANTS[(n - 1) % len(TENANTS)][0], site)
    for n, site in enumerate(
        (
            "plant-7",
            "plant-7",
            "warehouse-2",
            "store-12",
            "plant-7",
            "lab-1",
            "warehouse-2",
            "store-3",
            "plant-9",
            "lab-1",
            "warehouse-5",
            "store-12",
            "plant-9",
            "lab-2",
            "warehouse-5",
            "store-3",
            "plant-7",
            "lab-2",
            "warehouse-2",
            "store-8",
        ),
        start=1,
    )
)
SOURCES = (
    "/shop/web",
    "/shop/mobile",
    "//pos.contoso.com/store/12",
    "urn:contoso:iot:hub-1",
    "https://shop.contoso.com/checkout",
    "/telemetry",
)
HOSTS = ("shop.contoso.com", "www.contoso.com", "Shop.Contoso.com", "m.contoso.com:8443")
PATHS = (
    "/",
    "/cart",
    "/checkout",
    "/products/123",
    "/products/987?color=red",
    "/search?q=caf%C3%A9",
    "/help#returns",
    "/account/orders",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)",
    "ContosoApp/4.2 (Android 14)",
)
OFFSETS = ("Z", "Z", "Z", "+00:00", "+01:00", "-05:00", "+05:30", "+09:00", "-03:30", "z", "-00:00")
PRICES = (
    "0.10",
    "0.20",
    "0.99",
    "1.50",
    "2.00",
    "4.75",
    "9.99",
    "12.50",
    "19.00",
    "24.90",
    "99.95",
    "149.00",
    "0.05",
    "3.33",
)

#: Where the committed samples place their events: always in the past.
SAMPLE_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

#: Reasons a single input can cause, in the contract's order (codes 1-14).
BAD_KINDS: tuple[str, ...] = (
    "too_large",
    "invalid_encoding",
    "too_deep",
    "malformed_json",
    "not_an_object",
    "unsupported_specversion",
    "missing_field",
    "unknown_type",
    "invalid_field",
    "time_out_of_range",
    "business_rule",
    "conflicting_duplicate",
    "unknown_tenant",
    "unknown_currency",
)
#: The kinds whose events survive being elements of a JSON array file.
ARRAY_SAFE_KINDS: tuple[str, ...] = tuple(
    k for k in BAD_KINDS if k not in ("too_large", "invalid_encoding", "too_deep", "malformed_json")
)


@dataclass(frozen=True, slots=True)
class Labelled:
    """One generated raw event and what it was made to be.

    ``label`` is ``"valid"``, ``"duplicate"`` (a redelivery of an accepted event), or the
    reason code the event was built to be dead-lettered with.
    """

    label: str
    raw: bytes


def _dumps(value: Any, *, spaced: bool = False) -> str:
    """JSON text in which a ``Decimal`` is written as a number with exactly its literal."""
    comma, colon = (", ", ": ") if spaced else (",", ":")

    def write(v: Any) -> str:
        if isinstance(v, Decimal):
            return str(v)
        if isinstance(v, dict):
            return "{" + comma.join(json.dumps(k, ensure_ascii=False) + colon + write(x) for k, x in v.items()) + "}"
        if isinstance(v, list | tuple):
            return "[" + comma.join(write(x) for x in v) + "]"
        return json.dumps(v, ensure_ascii=False)

    return write(value)


def _encode(event: dict[str, Any], *, spaced: bool = False) -> bytes:
    return _dumps(event, spaced=spaced).encode("utf-8")


class _Generator:
    """The state of one generated stream (seeded randomness, events accepted so far)."""

    def __init__(
        self, rng: random.Random, now: datetime, tenants: Sequence[str], window: timedelta, id_prefix: str
    ) -> None:
        self.rng = rng
        self.now = now.astimezone(UTC)
        self.tenants = list(tenants)
        self.window = window
        self.id_prefix = id_prefix
        self.accepted: list[dict[str, Any]] = []
        self.serial = 0

    # -- valid events ----------------------------------------------------------------------
    def new_id(self) -> str:
        self.serial += 1
        if self.rng.random() < 0.5:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return f"{self.id_prefix}{self.serial:06d}"

    def time_text(self) -> str:
        back = self.rng.uniform(60, self.window.total_seconds())
        moment = self.now - timedelta(seconds=back)
        return _spell_time(
            moment, self.rng.choice(OFFSETS), self.rng.choice((0, 0, 3, 6, 9)), self.rng.getrandbits(30) % 1_000_000_000
        )

    def envelope(self, type_: str, data: dict[str, Any], tenant: str | None = None) -> dict[str, Any]:
        rng = self.rng
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": self.new_id(),
            "source": rng.choice(SOURCES),
            "type": type_,
            "time": self.time_text(),
            "tenantid": tenant or rng.choice(self.tenants),
        }
        if rng.random() < 0.6:
            event["datacontenttype"] = rng.choice(("application/json", "application/json; charset=utf-8"))
        if rng.random() < 0.3:
            event["subject"] = f"{type_.split('.')[2]}/{rng.randint(1, 9999)}"
        if rng.random() < 0.15:
            event["dataschema"] = f"https://schemas.contoso.com/{type_}.json"
        if rng.random() < 0.25:
            event["traceparent"] = f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01"
        if rng.random() < 0.1:
            event["sequence"] = rng.randint(0, 2**31 - 1)
        if rng.random() < 0.05:
            event["replayed"] = False
        event["data"] = data
        if rng.random() < 0.3:
            keys = list(event)
            rng.shuffle(keys)
            event = {k: event[k] for k in keys}
        return event

    def order(self, tenant: str | None = None, currency: str | None = None) -> dict[str, Any]:
        rng = self.rng
        v2 = rng.random() < 0.6
        currency = currency or rng.choice(tuple(FX_RATES))
        items = []
        gross = Decimal(0)
        for n in range(rng.choice((1, 1, 2, 3, 4, 5))):
            price = Decimal(rng.choice(PRICES))
            if currency == "JPY":
                price = Decimal(rng.randint(50, 20000))
            quantity = rng.choice((1, 1, 1, 2, 3, 5, 10, 120))
            gross += price * quantity
            items.append(
                {"sku": f"SKU-{rng.randint(100, 999)}-{n}", "quantity": quantity, "unit_price": _money(rng, price)}
            )
        data: dict[str, Any] = {
            "order_id": f"ord-{rng.getrandbits(40):010x}",
            "customer_id": f"cust-{rng.randint(1, 5000):05d}",
            "currency": currency,
            "items": items,
        }
        discount = Decimal(0)
        if v2:
            data["channel"] = rng.choice(("web", "store", "mobile"))
            if rng.random() < 0.4 and gross > 1:
                discount = (gross * Decimal(rng.choice(("0.05", "0.10", "0.15")))).quantize(Decimal("0.01"))
                if currency == "JPY":
                    discount = discount.quantize(Decimal(1))
                data["discount"] = _money(rng, discount)
        data["total"] = _money(rng, gross - discount)
        return self.envelope(ORDER_V2 if v2 else ORDER_V1, data, tenant)

    def page(self, tenant: str | None = None) -> dict[str, Any]:
        rng = self.rng
        data: dict[str, Any] = {
            "session_id": f"sess-{rng.getrandbits(48):012x}",
            "url": f"https://{rng.choice(HOSTS)}{rng.choice(PATHS)}",
            "duration_ms": rng.choice((rng.randint(0, 9999), rng.randint(10000, 600000), 10000)),
        }
        if rng.random() < 0.5:
            data["referrer"] = rng.choice(
                (
                    "https://www.bing.com/search?q=contoso",
                    "https://shop.contoso.com/",
                    "http://news.example.org/article/42",
                )
            )
        if rng.random() < 0.6:
            data["user_agent"] = rng.choice(USER_AGENTS)
        return self.envelope(PAGE_VIEWED, data, tenant)

    def reading(self, tenant: str | None = None) -> dict[str, Any]:
        rng = self.rng
        tenant = tenant or rng.choice(self.tenants)
        own = [d for d, t, _ in DEVICES if t == tenant]
        device = rng.choice(own) if own and rng.random() < 0.85 else f"dev-{rng.randint(500, 599)}"
        temperature = Decimal(rng.randint(-2500, 4500)) / Decimal(100)
        data: dict[str, Any] = {"device_id": device, "temperature_c": temperature}
        if rng.random() < 0.1:
            data["temperature_c"] = int(temperature)
        if rng.random() < 0.7:
            data["humidity_pct"] = Decimal(rng.randint(50, 990)) / Decimal(10)
        if rng.random() < 0.5:
            data["battery_pct"] = rng.randint(0, 100)
        return self.envelope(DEVICE_READING, data, tenant)

    def valid(self) -> dict[str, Any]:
        kind = self.rng.random()
        if kind < 0.35:
            return self.order()
        if kind < 0.7:
            return self.page()
        return self.reading()

    # -- redeliveries ------------------------------------------------------------------------
    def redelivery(self, original: dict[str, Any]) -> bytes:
        """The same event again, byte-identical or spelt differently."""
        rng = self.rng
        style = rng.randrange(6)
        event = json.loads(_dumps(original), parse_float=Decimal)
        if style == 0:
            return _encode(original)
        if style == 1:
            keys = list(event)
            rng.shuffle(keys)
            return _encode({k: event[k] for k in keys}, spaced=True)
        if style == 2:
            event["time"] = _respell_time(event["time"], rng)
            return _encode(event)
        if style == 3:
            for name in ("subject", "dataschema", "datacontenttype"):
                event.setdefault(name, None)
            return _encode(event)
        if style == 4 and event["type"] in (ORDER_V1, ORDER_V2):
            data = event["data"]
            for item in data["items"]:
                item["unit_price"] = _respell_money(item["unit_price"], rng)
            data["total"] = _respell_money(data["total"], rng)
            return _encode(event)
        return b"\xef\xbb\xbf" + _encode(original)

    # -- bad events --------------------------------------------------------------------------
    def bad(self, kind: str) -> bytes:
        return getattr(self, "bad_" + kind)()

    def bad_too_large(self) -> bytes:
        event = self.valid()
        event["padding"] = "x" * (262_144 + self.rng.randint(1, 20_000))
        return _encode(event)

    def bad_invalid_encoding(self) -> bytes:
        event = self.page()
        event["data"]["user_agent"] = "MARKER"
        raw = _encode(event)
        bad = self.rng.choice((b"caf\xe9", b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"))
        return raw.replace(b"MARKER", bad)

    def bad_too_deep(self) -> bytes:
        event = self.reading()
        levels = self.rng.randint(33, 60)  # the event object itself is level 1
        raw = _encode(event)[:-1]
        if self.rng.random() < 0.3:  # deep and also unterminated: depth is checked first
            return raw + b',"nested":' + b"[" * (levels - 1)
        return raw + b',"nested":' + b"[" * (levels - 1) + b"1" + b"]" * (levels - 1) + b"}"

    def bad_malformed_json(self) -> bytes:
        rng = self.rng
        raw = _encode(self.valid())
        choice = rng.randrange(6)
        if choice == 0:
            return raw[: rng.randint(1, len(raw) - 1)].rstrip(b"\r\n")
        if choice == 1:
            return raw + b" trailing"
        if choice == 2:
            event = self.reading()
            event["data"]["temperature_c"] = Decimal("NaN")
            return _encode(event).replace(b"NaN", rng.choice((b"NaN", b"Infinity", b"-Infinity")))
        if choice == 3:
            return raw.replace(b'"', b"'")
        if choice == 4:
            return raw[:-1] + b",}"
        return b"{" + raw

    def bad_not_an_object(self) -> bytes:
        rng = self.rng
        return rng.choice((b"[" + _encode(self.valid()) + b"]", b'"an event"', b"42", b"null", b"true", b"[]"))

    def bad_unsupported_specversion(self) -> bytes:
        event = self.valid()
        event["specversion"] = self.rng.choice(("0.3", "1.1", "2.0", "", Decimal("1.0"), "1.0.0"))
        if self.rng.random() < 0.3:
            del event["id"]  # also a missing field: the specversion is checked first
        return _encode(event)

    def bad_missing_field(self) -> bytes:
        rng = self.rng
        event = self.valid()
        choice = rng.randrange(5)
        if choice == 0:
            del event[rng.choice(("id", "source", "type", "time", "tenantid", "data", "specversion"))]
        elif choice == 1:
            event[rng.choice(("id", "source", "time", "tenantid", "data"))] = None
        elif choice == 2:
            data = event["data"]
            del data[
                rng.choice(
                    [k for k in data if k not in ("discount", "referrer", "user_agent", "humidity_pct", "battery_pct")]
                )
            ]
        elif choice == 3 and event["type"] in (ORDER_V1, ORDER_V2):
            del event["data"]["items"][0][rng.choice(("sku", "quantity", "unit_price"))]
        else:
            del event["id"]
            event["tenantid"] = "NOT VALID"  # missing outranks invalid
        return _encode(event)

    def bad_unknown_type(self) -> bytes:
        event = self.valid()
        event["type"] = self.rng.choice(
            (
                "com.contoso.order.cancelled.v1",
                "com.contoso.order.placed.v3",
                "com.contoso.page.viewed",
                "Com.Contoso.Page.Viewed.V1",
            )
        )
        if self.rng.random() < 0.3:
            event["tenantid"] = "Bad Tenant"  # unknown type outranks invalid fields
        return _encode(event)

    def bad_invalid_field(self) -> bytes:
        rng = self.rng
        mutations: list[Callable[[dict[str, Any]], None]] = [
            lambda e: e.__setitem__("tenantid", rng.choice(("Acme", "a", "acme_corp", "-acme", "acme-"))),
            lambda e: e.__setitem__("id", rng.choice((12345, "", "x" * 129))),
            lambda e: e.__setitem__("source", rng.choice(("has space", "", {"uri": "/x"}, "http://[::1"))),
            lambda e: e.__setitem__(
                "time",
                rng.choice(
                    (
                        "2026-11-01T10:00:00",
                        "2026-11-01 10:00:00Z",
                        "2026-02-30T10:00:00Z",
                        "2026-11-01T10:00Z",
                        "2026-11-01T10:00:00.1234567890Z",
                        "2026-11-01T10:00:00+24:00",
                        1793534400,
                    )
                ),
            ),
            lambda e: e.__setitem__("subject", rng.choice(("", "s" * 257, 7))),
            lambda e: e.__setitem__("datacontenttype", rng.choice(("text/plain", "application/xml", ""))),
            lambda e: e.__setitem__("dataschema", rng.choice(("schema.json", "/schemas/v1", ""))),
            lambda e: e.__setitem__(rng.choice(("Bad_Name", "traceParent", "x" * 21)), "value"),
            lambda e: e.__setitem__("data_base64", "eyJhIjoxfQ=="),
            lambda e: e.__setitem__("priority", rng.choice((1.5, {"level": 1}, [1]))),
            lambda e: e.__setitem__("data", rng.choice(([1, 2], "data", 5))),
            lambda e: e["data"].__setitem__("unexpected_field", 1),
        ]
        event = self.valid()
        if rng.random() < 0.5:
            rng.choice(mutations)(event)
            return _encode(event)
        return _encode(self._invalid_data())

    def _invalid_data(self) -> dict[str, Any]:
        rng = self.rng
        choice = rng.randrange(3)
        if choice == 0:
            event = self.order()
            data = event["data"]
            fix = rng.randrange(6)
            if fix == 0:
                data["currency"] = rng.choice(("eur", "EURO", "E1R"))
            elif fix == 1:
                data["items"][0]["quantity"] = rng.choice(("2", 2.0, 0, 10001, True))
            elif fix == 2:
                data["items"][0]["unit_price"] = rng.choice(("12.505", "-1.00", "1e2", True, "12,50", Decimal("-3")))
            elif fix == 3:
                data["items"] = rng.choice(([], "none"))
            elif fix == 4:
                data["channel"] = "phone"
                event["type"] = ORDER_V2
            else:
                data["total"] = rng.choice(("abc", False, "-5"))
            return event
        if choice == 1:
            event = self.page()
            data = event["data"]
            fix = rng.randrange(4)
            if fix == 0:
                data["url"] = rng.choice(("ftp://files.contoso.com/a", "/relative/page", "https://", "not a url"))
            elif fix == 1:
                data["duration_ms"] = rng.choice((-1, 86_400_001, "1000", 12.5))
            elif fix == 2:
                data["referrer"] = "javascript:alert(1)"
            else:
                data["user_agent"] = "u" * 513
            return event
        event = self.reading()
        data = event["data"]
        fix = rng.randrange(4)
        if fix == 0:
            data["temperature_c"] = rng.choice((Decimal("150.5"), Decimal("-91"), "21.5", True))
        elif fix == 1:
            data["humidity_pct"] = rng.choice((Decimal("100.1"), Decimal(-1)))
        elif fix == 2:
            data["battery_pct"] = rng.choice((101, Decimal("50.0"), "80"))
        else:
            data["device_id"] = ""
        return event

    def bad_time_out_of_range(self) -> bytes:
        event = self.valid()
        event["time"] = self.rng.choice(
            (
                "1999-12-31T23:59:59Z",
                "1970-01-01T00:00:00Z",
                "2999-01-01T00:00:00Z",
                "9999-12-31T23:59:59.999999999+01:00",
                "2000-01-01T00:59:59+01:00",
            )
        )
        return _encode(event)

    def bad_business_rule(self) -> bytes:
        event = self.order()
        data = event["data"]
        total = Decimal(str(data["total"]))
        data["total"] = str(total + Decimal(self.rng.choice(("0.01", "1.00", "10"))))
        return _encode(event)

    def bad_unknown_tenant(self) -> bytes:
        tenant = self.rng.choice(UNKNOWN_TENANTS)
        return _encode(self.rng.choice((self.order, self.page, self.reading))(tenant))

    def bad_unknown_currency(self) -> bytes:
        return _encode(self.order(currency=self.rng.choice(UNKNOWN_CURRENCIES)))

    def conflicting(self, original: dict[str, Any]) -> bytes:
        """A new event reusing an accepted event's identity with different content."""
        event = json.loads(_dumps(original), parse_float=Decimal)
        data = event["data"]
        if event["type"] == PAGE_VIEWED:
            data["duration_ms"] = data["duration_ms"] + 1
        elif event["type"] == DEVICE_READING:
            data["temperature_c"] = Decimal(str(data["temperature_c"])) + Decimal("0.5")
        else:
            data["customer_id"] = data["customer_id"] + "-x"
        return _encode(event)


def _money(rng: random.Random, amount: Decimal) -> Any:
    """An amount as a JSON number or a decimal string, spelt a few ways."""
    amount = amount.quantize(Decimal("0.01"))
    style = rng.randrange(4)
    if style == 0:
        return str(amount)
    if style == 1:
        return amount
    if style == 2:
        return amount.normalize() if amount == amount.to_integral() else amount
    return Decimal(str(amount).rstrip("0").rstrip(".")) if "." in str(amount) else amount


def _respell_money(value: Any, rng: random.Random) -> Any:
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    return rng.choice((str(amount), amount, Decimal(str(amount) + "0")))


def _spell_time(moment: datetime, offset: str, digits: int, nanos: int) -> str:
    """RFC 3339 text of ``moment`` (whole seconds) plus ``nanos``, in a given offset."""
    if offset in ("Z", "z", "-00:00", "+00:00"):
        local = moment
    else:
        sign = 1 if offset[0] == "+" else -1
        local = moment + sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{nanos:09d}"[:digits]
    return text + offset


def _respell_time(text: str, rng: random.Random) -> str:
    """The same instant as ``text`` in another offset, with the fraction padded with zeros."""
    base = text[:19]
    rest = text[19:]
    fraction = ""
    if rest.startswith("."):
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        fraction, rest = rest[1:end], rest[end:]
    offset = rest
    moment = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    if offset not in ("Z", "z", "-00:00", "+00:00"):
        sign = 1 if offset[0] == "+" else -1
        moment -= sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    new_offset = rng.choice(("Z", "+00:00", "+02:00", "-07:00", "+05:45"))
    padded = (fraction + "000")[:9] if fraction else rng.choice(("", ".000"))[1:]
    nanos = int(padded) if padded else 0
    digits = len(padded)
    return _spell_time(moment, new_offset, digits, nanos * 10 ** (9 - digits) if digits else 0)


def generate_labelled(
    count: int,
    *,
    seed: int = 7,
    now: datetime,
    bad_ratio: float = 0.05,
    duplicate_ratio: float = 0.03,
    tenants: Sequence[str] = TENANT_IDS,
    bad_kinds: Sequence[str] = BAD_KINDS,
    window: timedelta = timedelta(hours=3),
    id_prefix: str = "evt-",
    max_oversized: int | None = None,
) -> Iterator[Labelled]:
    """Like :func:`generate_events`, with each event's intended outcome."""
    if not 0 <= bad_ratio + duplicate_ratio <= 1:
        raise ValueError("bad_ratio + duplicate_ratio must be between 0 and 1")
    rng = random.Random(seed)
    gen = _Generator(rng, now, tenants, window, id_prefix)
    kinds = list(bad_kinds)
    next_kind = 0
    oversized = 0
    for _ in range(count):
        draw = rng.random()
        if draw < bad_ratio:
            kind = kinds[next_kind % len(kinds)]
            next_kind += 1
            if kind == "too_large":
                if max_oversized is not None and oversized >= max_oversized:
                    kind = kinds[next_kind % len(kinds)]
                    next_kind += 1
                else:
                    oversized += 1
            if kind == "conflicting_duplicate":
                if not gen.accepted:
                    kind = "business_rule"
                else:
                    yield Labelled(kind, gen.conflicting(rng.choice(gen.accepted)))
                    continue
            yield Labelled(kind, gen.bad(kind))
        elif draw < bad_ratio + duplicate_ratio and gen.accepted:
            yield Labelled("duplicate", gen.redelivery(rng.choice(gen.accepted)))
        else:
            event = gen.valid()
            gen.accepted.append(event)
            yield Labelled("valid", _encode(event))


def generate_events(
    count: int,
    *,
    seed: int = 7,
    now: datetime,
    bad_ratio: float = 0.05,
    duplicate_ratio: float = 0.03,
    tenants: Sequence[str] = TENANT_IDS,
    bad_kinds: Sequence[str] = BAD_KINDS,
    window: timedelta = timedelta(hours=3),
    id_prefix: str = "evt-",
    max_oversized: int | None = None,
) -> Iterator[bytes]:
    """Raw CloudEvents, one ``bytes`` per event (no newline), deterministic for a seed.

    Args:
        count: How many events to yield (bad events and redeliveries included).
        seed: Seed of the generator; the same arguments always give the same bytes.
        now: Event times fall between ``now - window`` and one minute before ``now``.
        bad_ratio: Share of events built to be dead-lettered, cycling through ``bad_kinds``
            (reason codes 1-14: size, encoding, depth, JSON, shape, specversion, missing,
            unknown type, invalid fields, time range, business rule, conflicting duplicate,
            unknown tenant, unknown currency).
        duplicate_ratio: Share of redeliveries of events already yielded (byte-identical or
            the same content spelt differently): stored once, counted as duplicates.
        tenants: Tenant ids of valid events (they should be in the reference data).
        bad_kinds: Reason codes to produce for bad events.
        window: How far back event times reach.
        id_prefix: Prefix of the readable event ids (keep streams apart with different ones).
        max_oversized: At most this many ``too_large`` events (each is over 256 KiB).
    """
    for item in generate_labelled(
        count,
        seed=seed,
        now=now,
        bad_ratio=bad_ratio,
        duplicate_ratio=duplicate_ratio,
        tenants=tenants,
        bad_kinds=bad_kinds,
        window=window,
        id_prefix=id_prefix,
        max_oversized=max_oversized,
    ):
        yield item.raw


def reference_documents() -> dict[str, dict[str, Any]]:
    """The reference data in the contract's shapes, keyed by file name."""
    return {
        "tenants.json": {"tenants": [{"id": i, "name": n, "region": r, "tier": t} for i, n, r, t in TENANTS]},
        "fx_rates.json": {"base": "USD", "rates": dict(FX_RATES)},
        "devices.json": {"devices": [{"id": d, "tenant_id": t, "site": s} for d, t, s in DEVICES]},
    }


#: The committed sample files: (name, events, seed, bad ratio, duplicate ratio, id prefix,
#: most oversized events).
SAMPLE_FILES: tuple[tuple[str, int, int, float, float, str, int], ...] = (
    ("eventhub-sample.ndjson", 1800, 7, 0.06, 0.04, "eh-", 2),
    ("blob-upload.ndjson", 800, 11, 0.05, 0.03, "bl-", 1),
    ("http-batch.json", 400, 13, 0.05, 0.03, "ht-", 0),
)


def write_samples(directory: str | Path) -> dict[str, Counter[str]]:
    """Write ``reference/*.json`` and ``events/*`` under ``directory``; return the labels per file.

    The event times lie in the three hours before :data:`SAMPLE_NOW` (2026-11-01T12:00Z), so the
    committed files stay valid whenever they are processed. Each file has its own ids, so the
    files can be processed together or apart. ``expected.json`` (beside ``events/``, so that a run
    over the folder does not read it) records the intended outcome counts per file.
    """
    root = Path(directory)
    (root / "reference").mkdir(parents=True, exist_ok=True)
    (root / "events").mkdir(parents=True, exist_ok=True)
    for name, doc in reference_documents().items():
        (root / "reference" / name).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    labels: dict[str, Counter[str]] = {}
    for name, count, seed, bad, dup, prefix, oversized in SAMPLE_FILES:
        as_array = name.endswith(".json")
        items = list(
            generate_labelled(
                count,
                seed=seed,
                now=SAMPLE_NOW,
                bad_ratio=bad,
                duplicate_ratio=dup,
                id_prefix=prefix,
                bad_kinds=ARRAY_SAFE_KINDS if as_array else BAD_KINDS,
                max_oversized=oversized,
            )
        )
        labels[name] = Counter(item.label for item in items)
        path = root / "events" / name
        if as_array:  # a byte-order mark belongs at the start of a file, not inside an array
            body = b"[\n" + b",\n".join(b"  " + item.raw.removeprefix(b"\xef\xbb\xbf") for item in items) + b"\n]\n"
        else:
            lines = [item.raw for item in items]
            lines.insert(len(lines) // 3, b"")  # empty lines are skipped and not counted
            lines.insert(2 * len(lines) // 3, b"   ")
            body = b"\n".join(lines) + b"\n"
        path.write_bytes(body)
    summary = {
        "now": SAMPLE_NOW.isoformat().replace("+00:00", "Z"),
        "note": "intended outcome of every event, per file; each file uses its own event ids",
        "files": {name: dict(sorted(counter.items())) for name, counter in labels.items()},
    }
    (root / "expected.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return labels


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "samples"
    for file_name, counts in write_samples(target).items():
        print(file_name, sum(counts.values()), dict(sorted(counts.items())))
