"""``com.contoso.order.placed.v1`` and ``.v2``: an order placed in a shop.

Both versions are stored in the v2 shape; a v1 order is upcast with ``channel="unknown"``
and ``discount=0``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictInt
from pydantic_core import CoreSchema
from pydantic_core import core_schema as cs

from schemas.fast import SlowPath, constant_field, converted, model_schema_of
from schemas.money import AMOUNT_LOOKUP, MONEY_STRING_RE, Money, MoneyError, WireMoney, canonical_money, net_total
from schemas.numbers import plain
from schemas.registration import EventFamily, RegisteredType
from schemas.strict import NORMALISED_CONFIG, WIRE_CONFIG, CentsText, text

FAMILY = "order.placed"
TYPE_V1 = "com.contoso.order.placed.v1"
TYPE_V2 = "com.contoso.order.placed.v2"

CURRENCY_PATTERN = r"^[A-Z]{3}$"
#: The channel recorded for v1 orders, which did not have one.
UNKNOWN_CHANNEL = "unknown"

Quantity = Annotated[StrictInt, Field(ge=1, le=10_000)]


class OrderItemWire(BaseModel):
    """An order line as producers send it."""

    model_config = WIRE_CONFIG

    sku: Annotated[str, text(1, 32)]
    quantity: Quantity
    unit_price: WireMoney


class OrderPlacedV1Data(BaseModel):
    """``com.contoso.order.placed.v1`` data."""

    model_config = WIRE_CONFIG

    order_id: Annotated[str, text(1, 64)]
    customer_id: Annotated[str, text(1, 64)]
    currency: Annotated[str, text(3, 3, CURRENCY_PATTERN)]
    items: Annotated[list[OrderItemWire], Field(min_length=1, max_length=100)]
    total: WireMoney


class OrderPlacedV2Data(OrderPlacedV1Data):
    """``com.contoso.order.placed.v2`` data: v1 plus the sales channel and a discount."""

    channel: Literal["web", "store", "mobile"]
    discount: WireMoney | None = None


class OrderItem(BaseModel):
    """A stored order line."""

    model_config = NORMALISED_CONFIG

    sku: str
    quantity: int
    unit_price: Money


class OrderPlaced(BaseModel):
    """A stored order, always in the v2 shape, amounts as canonical decimals."""

    model_config = NORMALISED_CONFIG

    order_id: str
    customer_id: str
    currency: str
    channel: Literal["web", "store", "mobile", "unknown"]
    items: tuple[OrderItem, ...]
    total: Money
    discount: Money


class OrderEnrichment(BaseModel):
    """What enrichment adds to a curated order."""

    model_config = NORMALISED_CONFIG

    amount_usd: Annotated[
        CentsText,
        Field(description="total x the USD rate of the currency, rounded half-even to cents (the aggregated value)"),
    ]
    item_count: Annotated[StrictInt, Field(ge=1, description="sum of the quantities of the order lines")]


_NO_DISCOUNT = Decimal("0.00")


def _normalise(wire: OrderPlacedV1Data, channel: str, exact: dict[str, Any]) -> OrderPlaced | list[tuple[str, str]]:
    """The stored order, its amounts read from their literals in ``exact`` (the parsed ``data``)."""
    errors: list[tuple[str, str]] = []

    def money(value: Any, loc: str) -> Decimal:
        try:
            return canonical_money(value)
        except MoneyError as exc:
            errors.append((loc, str(exc)))
            return _NO_DISCOUNT

    items = tuple(
        OrderItem.model_construct(
            sku=item.sku, quantity=item.quantity, unit_price=money(line["unit_price"], f"data.items.{index}.unit_price")
        )
        for index, (item, line) in enumerate(zip(wire.items, exact["items"], strict=True))
    )
    total = money(exact["total"], "data.total")
    discount = _NO_DISCOUNT if exact.get("discount") is None else money(exact["discount"], "data.discount")
    if errors:
        return errors
    return OrderPlaced.model_construct(
        order_id=wire.order_id,
        customer_id=wire.customer_id,
        currency=wire.currency,
        channel=channel,
        items=items,
        total=total,
        discount=discount,
    )


def upcast_v1(wire: OrderPlacedV1Data, exact: dict[str, Any]) -> OrderPlaced | list[tuple[str, str]]:
    """A v1 order in the v2 shape: ``channel="unknown"``, ``discount=0``."""
    return _normalise(wire, UNKNOWN_CHANNEL, exact)


def normalise_v2(wire: OrderPlacedV2Data, exact: dict[str, Any]) -> OrderPlaced | list[tuple[str, str]]:
    """A v2 order with canonical amounts (a missing or null discount is 0)."""
    return _normalise(wire, wire.channel, exact)


def business_rule_errors(order: OrderPlaced) -> list[tuple[str, str]]:
    """``total == sum(quantity * unit_price) - discount``, exactly, or the error saying why not."""
    expected = net_total(order.items, order.discount)
    if expected == order.total:
        return []
    return [
        (
            "data.total",
            f"total {plain(order.total)} does not equal sum(quantity x unit_price) - discount = {plain(expected)}",
        )
    ]


def exact_errors(exact: dict[str, Any]) -> list[tuple[str, str]]:
    """Money errors visible only on the exact values (for events already rejected)."""
    errors: list[tuple[str, str]] = []
    candidates: list[tuple[str, Any]] = [("data.total", exact.get("total"))]
    candidates.append(("data.discount", exact.get("discount")))
    items = exact.get("items")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                candidates.append((f"data.items.{index}.unit_price", item.get("unit_price")))
    for loc, value in candidates:
        number = isinstance(value, int | Decimal) and not isinstance(value, bool)
        if number or (isinstance(value, str) and MONEY_STRING_RE.fullmatch(value)):
            try:
                canonical_money(value)
            except MoneyError as exc:
                errors.append((loc, str(exc)))
    return errors


def _one_pass_data(wire_model: type[OrderPlacedV1Data]) -> CoreSchema:
    """The wire schema of an order that builds the stored :class:`OrderPlaced` (see :mod:`schemas.fast`)."""
    item = model_schema_of(OrderItemWire)
    item_fields = item["schema"]["fields"]
    item_fields["unit_price"]["schema"] = converted(AMOUNT_LOOKUP, item_fields["unit_price"]["schema"])
    if list(item_fields) != list(OrderItem.model_fields):
        raise TypeError("OrderItemWire and OrderItem no longer have the same fields")
    item["cls"] = OrderItem

    schema = model_schema_of(wire_model)
    wire = schema["schema"]["fields"]
    items = wire["items"]["schema"]
    if items["type"] != "list":
        raise TypeError("items is not a list")
    # the wire list (its limits and errors) of stored lines, then the stored tuple
    lines = converted(tuple, {**items, "items_schema": item})
    fields = {name: wire[name] for name in ("order_id", "customer_id", "currency")}
    if "channel" in wire:
        discount = wire["discount"]["schema"]  # default(nullable(money), None)
        if discount["type"] != "default" or discount.get("default", "") is not None:
            raise TypeError("discount is not an optional amount")
        fields["channel"] = wire["channel"]
    else:
        fields["channel"] = constant_field(UNKNOWN_CHANNEL, name="channel")
    fields["items"] = {**wire["items"], "schema": lines}
    fields["total"] = {**wire["total"], "schema": converted(AMOUNT_LOOKUP, wire["total"]["schema"])}
    if "channel" in wire:
        # null is looked up too: it is no discount
        fields["discount"] = {
            **wire["discount"],
            "schema": cs.with_default_schema(converted(AMOUNT_LOOKUP, discount["schema"]), default=_NO_DISCOUNT),
        }
    else:
        fields["discount"] = constant_field(_NO_DISCOUNT, name="discount")
    if set(wire) - set(fields) or list(fields) != list(OrderPlaced.model_fields):
        raise TypeError(f"{wire_model.__name__} and OrderPlaced no longer match")
    schema["schema"]["fields"] = fields
    schema["cls"] = OrderPlaced
    return converted(_total_adds_up, schema)


def _total_adds_up(order: OrderPlaced) -> OrderPlaced:
    """The one-pass schema refuses an order whose total does not add up: the general path names
    the reason (a time out of range outranks the business rule)."""
    if net_total(order.items, order.discount) != order.total:
        raise SlowPath
    return order


FAMILY_SPEC = EventFamily(name=FAMILY, stored=OrderPlaced, enrichment=OrderEnrichment, value_field="amount_usd")

V1 = RegisteredType(
    name=TYPE_V1,
    family_spec=FAMILY_SPEC,
    wire_data=OrderPlacedV1Data,
    normalise=upcast_v1,
    has_decimals=True,
    exact_errors=exact_errors,
    business_rules=business_rule_errors,
    one_pass_data=partial(_one_pass_data, OrderPlacedV1Data),
)
V2 = RegisteredType(
    name=TYPE_V2,
    family_spec=FAMILY_SPEC,
    wire_data=OrderPlacedV2Data,
    normalise=normalise_v2,
    has_decimals=True,
    exact_errors=exact_errors,
    business_rules=business_rule_errors,
    one_pass_data=partial(_one_pass_data, OrderPlacedV2Data),
)
