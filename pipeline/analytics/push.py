"""An optional push semantic model client for Power BI (off by default).

Power BI ends the creation of push and streaming semantic models on 31 Oct 2027, so the durable feed
is the `aggregates` container and the exported files (`docs/power-bi.md`); this client is a live
extra for dashboards while push models last. It keeps to the service's limits on the client side:

- at most 10,000 rows per POST;
- at most 120 POSTs in any 60 seconds, and at most 1,000,000 rows in any hour (sliding windows);
- HTTP 429 is retried after the `Retry-After` the service sends (seconds or an HTTP date), 5xx and
  connection errors after an exponential back-off; both a bounded number of times.

A push table can only be appended to or emptied, and aggregate rows change as late events arrive, so
`replace_rows` empties the table and posts the current rows (for example the last 24 hours of
windows: keep rows × refreshes per hour under the hourly row limit).

The token comes from Microsoft Entra ID through `azure-identity` (`DefaultAzureCredential`, scope
`https://analysis.windows.net/powerbi/api/.default`); the identity needs write access to the dataset.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import aiohttp

from pipeline.analytics.table import COLUMNS, MEASURES, TABLE_NAME, parse_window_start, typed_row

POWERBI_API = "https://api.powerbi.com/v1.0/myorg"
POWERBI_SCOPE = "https://analysis.windows.net/powerbi/api/.default"
MAX_ROWS_PER_POST = 10_000
MAX_POSTS_PER_MINUTE = 120
MAX_ROWS_PER_HOUR = 1_000_000

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class PushError(RuntimeError):
    """The service refused a request, or kept refusing it after the retries."""


class TokenProvider(Protocol):
    async def __call__(self) -> str:
        """A bearer token for the Power BI REST API."""


class EntraToken:
    """Bearer tokens from an `azure-identity` async credential, cached until five minutes before expiry.

    Args:
        credential: an async credential; `azure.identity.aio.DefaultAzureCredential()` when None.
        scope: the Power BI scope.
        clock: seconds since the epoch (tests pass a fake).
    """

    def __init__(self, credential: Any = None, *, scope: str = POWERBI_SCOPE, clock: Clock = time.time) -> None:
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self._credential = credential
        self._scope = scope
        self._clock = clock
        self._token: str | None = None
        self._expires_on = 0.0

    async def __call__(self) -> str:
        if self._token is None or self._clock() > self._expires_on - 300:
            access = await self._credential.get_token(self._scope)
            self._token, self._expires_on = access.token, float(access.expires_on)
        return self._token

    async def close(self) -> None:
        await self._credential.close()


class SlidingWindowLimit:
    """At most `limit` units in any `period` seconds; `acquire` waits until a request fits."""

    def __init__(self, limit: int, period: float, *, clock: Clock, sleep: Sleep) -> None:
        self.limit, self.period = limit, period
        self._clock, self._sleep = clock, sleep
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0

    async def acquire(self, amount: int = 1) -> None:
        if amount > self.limit:
            raise ValueError(f"{amount} exceeds the limit of {self.limit} per {self.period:g} s")
        while True:
            now = self._clock()
            while self._spent and self._spent[0][0] <= now - self.period:
                self._total -= self._spent.popleft()[1]
            if self._total + amount <= self.limit:
                self._spent.append((now, amount))
                self._total += amount
                return
            await self._sleep(self._spent[0][0] + self.period - now)


@dataclass(frozen=True, slots=True)
class PushTarget:
    """Where rows go: a workspace (group) id, a dataset id, and the table."""

    group_id: str
    dataset_id: str
    table: str = TABLE_NAME


@dataclass(frozen=True, slots=True)
class PushSummary:
    rows: int
    posts: int
    retries: int


def push_dataset_definition(name: str = TABLE_NAME) -> dict[str, Any]:
    """The push semantic model: the `WindowAggregates` table with its columns and measures."""
    columns: list[dict[str, Any]] = []
    for column in COLUMNS:
        entry: dict[str, Any] = {"name": column.name, "dataType": column.push_type}
        if column.format_string:
            entry["formatString"] = column.format_string
        columns.append(entry)
    measures = [{"name": m.name, "expression": m.expression, "formatString": m.format_string} for m in MEASURES]
    return {
        "name": name,
        "defaultMode": "Push",
        "tables": [{"name": TABLE_NAME, "columns": columns, "measures": measures}],
    }


def push_rows(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored aggregate rows as push rows: the window start as ISO 8601 UTC, decimals exact."""
    rows = []
    for doc in docs:
        row = typed_row(doc)
        row["window_start"] = doc["window_start"]
        rows.append(row)
    return rows


def recent(docs: Iterable[dict[str, Any]], hours: float, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The rows whose window starts within the last `hours` hours."""
    since = (now or datetime.now(UTC)) - timedelta(hours=hours)
    return [doc for doc in docs if parse_window_start(doc["window_start"]) >= since]


def rows_body(rows: Sequence[dict[str, Any]]) -> bytes:
    """`{"rows": [...]}` with decimals written as exact JSON numbers (never through a float)."""

    def value(v: Any) -> str:
        return format(v, "f") if isinstance(v, Decimal) else json.dumps(v, ensure_ascii=False)

    parts = ("{" + ",".join(f"{json.dumps(k)}:{value(v)}" for k, v in row.items()) + "}" for row in rows)
    return ('{"rows":[' + ",".join(parts) + "]}").encode("utf-8")


class PushClient:
    """Posts rows to a push semantic model's table within the service's limits.

    Args:
        target: the workspace, dataset and table.
        token: returns a bearer token (`EntraToken()` in Azure).
        session: an aiohttp session; one is created (and closed by `close`) when None.
        base_url: the REST API root (a local stand-in in tests).
        rows_per_post: rows per request, at most 10,000.
        posts_per_minute: requests per 60 s, at most 120.
        rows_per_hour: rows per hour, at most 1,000,000.
        max_attempts: attempts per request before `PushError`.
        clock, sleep: monotonic seconds and the sleep to wait with (tests pass fakes).
    """

    def __init__(
        self,
        target: PushTarget,
        token: TokenProvider,
        *,
        session: aiohttp.ClientSession | None = None,
        base_url: str = POWERBI_API,
        rows_per_post: int = MAX_ROWS_PER_POST,
        posts_per_minute: int = MAX_POSTS_PER_MINUTE,
        rows_per_hour: int = MAX_ROWS_PER_HOUR,
        max_attempts: int = 6,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not 1 <= rows_per_post <= MAX_ROWS_PER_POST:
            raise ValueError(f"rows_per_post must be 1..{MAX_ROWS_PER_POST}, not {rows_per_post}")
        if not 1 <= posts_per_minute <= MAX_POSTS_PER_MINUTE:
            raise ValueError(f"posts_per_minute must be 1..{MAX_POSTS_PER_MINUTE}, not {posts_per_minute}")
        if not 1 <= rows_per_hour <= MAX_ROWS_PER_HOUR:
            raise ValueError(f"rows_per_hour must be 1..{MAX_ROWS_PER_HOUR}, not {rows_per_hour}")
        self.target = target
        self._token = token
        self._session = session
        self._owns_session = session is None
        self._base = base_url.rstrip("/")
        self._rows_per_post = rows_per_post
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._posts = SlidingWindowLimit(posts_per_minute, 60.0, clock=clock, sleep=sleep)
        self._rows = SlidingWindowLimit(rows_per_hour, 3600.0, clock=clock, sleep=sleep)

    @property
    def _rows_url(self) -> str:
        t = self.target
        return f"{self._base}/groups/{t.group_id}/datasets/{t.dataset_id}/tables/{t.table}/rows"

    async def post_rows(self, rows: Sequence[dict[str, Any]]) -> PushSummary:
        """Append `rows` (from `push_rows`) in requests of at most `rows_per_post` rows."""
        posts = retries = 0
        for start in range(0, len(rows), self._rows_per_post):
            chunk = rows[start : start + self._rows_per_post]
            await self._rows.acquire(len(chunk))
            retries += await self._request("POST", self._rows_url, rows_body(chunk))
            posts += 1
        return PushSummary(len(rows), posts, retries)

    async def delete_rows(self) -> None:
        """Empty the table."""
        await self._request("DELETE", self._rows_url, None)

    async def replace_rows(self, rows: Sequence[dict[str, Any]]) -> PushSummary:
        """Empty the table, then post `rows`: the table shows the current aggregates."""
        await self.delete_rows()
        return await self.post_rows(rows)

    async def create_dataset(self, definition: dict[str, Any], *, retention: str = "None") -> dict[str, Any]:
        """Create a push semantic model in the workspace; returns the service's answer (with `id`)."""
        url = f"{self._base}/groups/{self.target.group_id}/datasets?defaultRetentionPolicy={retention}"
        answer: dict[str, Any] = {}
        await self._request("POST", url, json.dumps(definition).encode("utf-8"), answer)
        return answer

    async def _request(self, method: str, url: str, body: bytes | None, answer: dict[str, Any] | None = None) -> int:
        """Send one request within the limits; returns how many retries it took."""
        session = self._session_or_new()
        for attempt in range(1, self._max_attempts + 1):
            await self._posts.acquire()
            headers = {"Authorization": f"Bearer {await self._token()}"}
            if body is not None:
                headers["Content-Type"] = "application/json; charset=utf-8"
            try:
                async with session.request(method, url, data=body, headers=headers) as response:
                    text = await response.text()
                    if response.status < 300:
                        if answer is not None and text:
                            answer.update(json.loads(text))
                        return attempt - 1
                    if response.status != 429 and response.status < 500:
                        raise PushError(f"{method} {url} answered {response.status}: {text[:500]}")
                    delay = _retry_after(response.headers.get("Retry-After"), attempt)
                    failure = f"{response.status}: {text[:200]}"
            except aiohttp.ClientError as error:
                delay, failure = _backoff(attempt), f"{type(error).__name__}: {error}"
            if attempt == self._max_attempts:
                raise PushError(f"{method} {url} failed {attempt} times; last: {failure}")
            await self._sleep(delay)
        raise AssertionError("unreachable")

    def _session_or_new(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> PushClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _backoff(attempt: int) -> float:
    return float(min(60, 2 ** (attempt - 1)))


def _retry_after(header: str | None, attempt: int) -> float:
    """Seconds to wait: the `Retry-After` header (seconds or an HTTP date), else a back-off."""
    if header:
        header = header.strip()
        if header.isdigit():
            return float(header)
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return _backoff(attempt)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return _backoff(attempt)
