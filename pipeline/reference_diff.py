"""What replacing one set of reference data with another changes: tenants, currencies and devices
added, removed or changed, and the dead-letter reasons the change may cure.

Pure: it compares two :class:`~pipeline.reference.ReferenceData` sections, whoever read them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pipeline.reference import ReferenceData
from schemas import Reason

Fields = dict[str, str]


@dataclass(frozen=True, slots=True)
class SectionDiff:
    """One section's change, entries keyed by id; `changed` holds only the fields that differ."""

    added: dict[str, Fields]
    removed: dict[str, Fields]
    changed: dict[str, dict[str, tuple[str, str]]]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {
                key: {f: {"from": a, "to": b} for f, (a, b) in fields.items()} for key, fields in self.changed.items()
            },
        }


@dataclass(frozen=True, slots=True)
class ReferenceDiff:
    tenants: SectionDiff
    currencies: SectionDiff
    devices: SectionDiff

    @property
    def empty(self) -> bool:
        return self.tenants.empty and self.currencies.empty and self.devices.empty

    def cured_reasons(self) -> list[Reason]:
        """The dead-letter reasons that events may no longer meet: a tenant or a currency was added."""
        reasons = []
        if self.tenants.added:
            reasons.append(Reason.UNKNOWN_TENANT)
        if self.currencies.added:
            reasons.append(Reason.UNKNOWN_CURRENCY)
        return reasons

    def to_json(self) -> dict[str, Any]:
        return {
            "tenants": self.tenants.to_json(),
            "currencies": self.currencies.to_json(),
            "devices": self.devices.to_json(),
        }


def tenant_fields(reference: ReferenceData | None) -> dict[str, Fields]:
    if reference is None:
        return {}
    return {t.id: {"name": t.name, "region": t.region, "tier": t.tier} for t in reference.tenants.values()}


def currency_fields(reference: ReferenceData | None) -> dict[str, Fields]:
    if reference is None:
        return {}
    return {code: {"rate": str(rate)} for code, rate in reference.usd_per_unit.items()}


def device_fields(reference: ReferenceData | None) -> dict[str, Fields]:
    if reference is None:
        return {}
    return {f"{tenant}/{device}": {"site": site} for (tenant, device), site in reference.device_sites.items()}


def diff_reference(before: ReferenceData | None, after: ReferenceData) -> ReferenceDiff:
    """The change from `before` (None: nothing stored) to `after`; rates compare by value ("1.085" is "1.0850")."""
    return ReferenceDiff(
        tenants=diff_section(tenant_fields(before), tenant_fields(after)),
        currencies=diff_section(currency_fields(before), currency_fields(after), same=_same_number),
        devices=diff_section(device_fields(before), device_fields(after)),
    )


def diff_section(
    before: Mapping[str, Fields],
    after: Mapping[str, Fields],
    same: Callable[[str, str], bool] = str.__eq__,
) -> SectionDiff:
    changed: dict[str, dict[str, tuple[str, str]]] = {}
    for key in sorted(before.keys() & after.keys()):
        fields = {
            name: (before[key][name], after[key][name])
            for name in after[key]
            if not same(before[key][name], after[key][name])
        }
        if fields:
            changed[key] = fields
    return SectionDiff(
        added={key: dict(after[key]) for key in sorted(after.keys() - before.keys())},
        removed={key: dict(before[key]) for key in sorted(before.keys() - after.keys())},
        changed=changed,
    )


def _same_number(a: str, b: str) -> bool:
    return Decimal(a) == Decimal(b)
