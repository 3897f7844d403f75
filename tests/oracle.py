"""An independent computation of what a run must produce, written apart from the pipeline's code.

It takes validation as given (`schemas.validate_event`, tested on its own) and recomputes everything
after it from the raw JSON: identity and duplicates in input order, enrichment failures, USD amounts,
windows and exact sums. The pipeline's enrich/store/aggregate modules are not used.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from schemas import Rejection, validate_event


@dataclass
class Expected:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    reasons: Counter = field(default_factory=Counter)
    rows: dict = field(default_factory=dict)  # (tenant, family, window) -> [count, sum, min, max]

    def csv_lines(self, window_minutes: int) -> list[str]:
        lines = ["tenant_id,event_type,window_start,window_minutes,event_count,value_sum,value_min,value_max"]
        for (tenant, family, window), (count, total, low, high) in sorted(self.rows.items()):
            cents = [str(v.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)) for v in (total, low, high)]
            lines.append(",".join([tenant, family, window, str(window_minutes), str(count), *cents]))
        return lines


def expected(lines: list[bytes], reference_dir: Path, window_minutes: int, now: datetime) -> Expected:
    tenants = {t["id"] for t in json.loads((reference_dir / "tenants.json").read_text())["tenants"]}
    rates = {k: Decimal(v) for k, v in json.loads((reference_dir / "fx_rates.json").read_text())["rates"].items()}
    result = Expected()
    accepted: dict[tuple[str, str, str], str] = {}
    for line in lines:
        result.received += 1
        valid = validate_event(line, now=now)
        if isinstance(valid, Rejection):
            result.reasons[valid.reason.value] += 1
            continue
        identity = (valid.tenantid, valid.source, valid.id)
        if identity in accepted:
            if accepted[identity] == valid.content_key():
                result.duplicates += 1
            else:
                result.reasons["conflicting_duplicate"] += 1
            continue
        event = json.loads(line.decode("utf-8-sig"), parse_float=Decimal, parse_int=Decimal)
        data = event["data"]
        if event["tenantid"] not in tenants:
            result.reasons["unknown_tenant"] += 1
            continue
        if valid.family == "order.placed":
            if data["currency"] not in rates:
                result.reasons["unknown_currency"] += 1
                continue
            value = (Decimal(str(data["total"])) * rates[data["currency"]]).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_EVEN
            )
        elif valid.family == "page.viewed":
            value = Decimal(data["duration_ms"])
        else:
            value = Decimal(str(data["temperature_c"]))
        accepted[identity] = valid.content_key()
        result.stored += 1
        seconds = int(datetime.strptime(valid.time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
        start = seconds - seconds % (window_minutes * 60)
        window = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:00Z")
        key = (valid.tenantid, valid.family, window)
        if key in result.rows:
            row = result.rows[key]
            result.rows[key] = [row[0] + 1, row[1] + value, min(row[2], value), max(row[3], value)]
        else:
            result.rows[key] = [1, value, value, value]
    return result
