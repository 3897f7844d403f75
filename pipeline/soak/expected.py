"""What a stream must produce, computed apart from the pipeline's code, streaming over its files.

The same computation as the test suite's oracle, kept here because the soak runs outside the tests
and over a million events: it takes framing (`pipeline.framing`) and validation
(`schemas.validate_event`) as given, each tested on its own, and recomputes everything after them
from the raw JSON: identity and duplicates in input order, unknown tenants and currencies, USD
amounts, windows and exact sums. The pipeline's enrich, store and aggregate modules are not used.
Identities and contents are kept as digests, so a million events cost ~100 MB.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from pipeline.framing import split_ndjson
from schemas import Rejection, validate_event

CENT = Decimal("0.01")
CSV_HEADER = "tenant_id,event_type,window_start,window_minutes,event_count,value_sum,value_min,value_max"


@dataclass
class Expected:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rows: dict[tuple[str, str, str], list[Decimal]] = field(default_factory=dict)  # count, sum, min, max

    @property
    def dead_lettered(self) -> int:
        return sum(self.reasons.values())

    def csv_lines(self, window_minutes: int) -> list[str]:
        """The aggregates table as `OUT/analytics/aggregates.csv` must hold it."""
        lines = [CSV_HEADER]
        for (tenant, family, window), (count, total, low, high) in sorted(self.rows.items()):
            cents = [str(v.quantize(CENT, rounding=ROUND_HALF_EVEN)) for v in (total, low, high)]
            lines.append(",".join([tenant, family, window, str(window_minutes), str(int(count)), *cents]))
        return lines


def ndjson_events(files: Iterable[Path]) -> Iterator[bytes]:
    """Every event of NDJSON files, in order, framed as the runner frames them."""
    for file in files:
        with file.open("rb") as handle:
            for line in handle:
                yield from (framed.body for framed in split_ndjson(line))


def expected(events: Iterable[bytes], reference_dir: Path, window_minutes: int, now: datetime) -> Expected:
    tenants = {t["id"] for t in json.loads((reference_dir / "tenants.json").read_text())["tenants"]}
    rates = {k: Decimal(v) for k, v in json.loads((reference_dir / "fx_rates.json").read_text())["rates"].items()}
    result = Expected()
    accepted: dict[bytes, bytes] = {}  # digest of the identity -> digest of the content
    for raw in events:
        result.received += 1
        valid = validate_event(raw, now=now)
        if isinstance(valid, Rejection):
            result.reasons[valid.reason.value] += 1
            continue
        identity = hashlib.blake2b("\x1f".join((valid.tenantid, valid.source, valid.id)).encode(), digest_size=16)
        key = identity.digest()
        content = bytes.fromhex(valid.content_key())
        if key in accepted:
            if accepted[key] == content:
                result.duplicates += 1
            else:
                result.reasons["conflicting_duplicate"] += 1
            continue
        event = json.loads(raw.decode("utf-8-sig"), parse_float=Decimal, parse_int=Decimal)
        data = event["data"]
        if event["tenantid"] not in tenants:
            result.reasons["unknown_tenant"] += 1
            continue
        if valid.family == "order.placed":
            if data["currency"] not in rates:
                result.reasons["unknown_currency"] += 1
                continue
            value = (Decimal(str(data["total"])) * rates[data["currency"]]).quantize(CENT, rounding=ROUND_HALF_EVEN)
        elif valid.family == "page.viewed":
            value = Decimal(data["duration_ms"])
        else:
            value = Decimal(str(data["temperature_c"]))
        accepted[key] = content
        result.stored += 1
        seconds = int(datetime.strptime(valid.time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())
        start = seconds - seconds % (window_minutes * 60)
        window = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:00Z")
        row = result.rows.get((valid.tenantid, valid.family, window))
        if row is None:
            result.rows[(valid.tenantid, valid.family, window)] = [Decimal(1), value, value, value]
        else:
            row[0] += 1
            row[1] += value
            row[2] = min(row[2], value)
            row[3] = max(row[3], value)
    return result
