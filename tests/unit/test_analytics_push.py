"""The push semantic model client against a local stand-in of the Power BI REST API.

The stand-in enforces what the service enforces: a bearer token, the request shape of the committed
model definition, at most 10,000 rows per POST, at most 120 POSTs in any minute and 1,000,000 rows an
hour (429 with Retry-After beyond). Time is a fake clock shared by the client and the stand-in, so
waits of minutes take no time; every loop is bounded by the client's attempts and a test timeout.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from pipeline.analytics.push import (
    MAX_ROWS_PER_POST,
    POWERBI_SCOPE,
    EntraToken,
    PushClient,
    PushError,
    PushTarget,
    _retry_after,
    push_dataset_definition,
    push_rows,
    recent,
    rows_body,
)

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = json.loads((ROOT / "powerbi" / "push" / "WindowAggregates.dataset.json").read_text())
COLUMNS = {c["name"]: c["dataType"] for c in DEFINITION["tables"][0]["columns"]}
TOKEN = "token-1"
GROUP, DATASET = "0f1e2d3c-0000-4000-8000-000000000001", "0f1e2d3c-0000-4000-8000-000000000002"
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class FakeClock:
    """Monotonic time that `sleep` advances instantly."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class StandIn:
    """The Power BI push endpoints, with the service's limits, on 127.0.0.1 and a free port."""

    clock: FakeClock
    throttle_next: int = 0  # answer this many row POSTs 429 regardless of the rate
    fail_next: int = 0  # answer this many row POSTs 503
    retry_after: str = "7"
    table: list[dict[str, Any]] = field(default_factory=list)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    post_times: list[float] = field(default_factory=list)
    row_times: list[tuple[float, int]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        rows = "/v1.0/myorg/groups/{group}/datasets/{dataset}/tables/{table}/rows"
        app.router.add_post(rows, self.post_rows)
        app.router.add_delete(rows, self.delete_rows)
        app.router.add_post("/v1.0/myorg/groups/{group}/datasets", self.create_dataset)
        return app

    def answer(
        self, request: web.Request, status: int, body: Any = None, retry_after: str | None = None
    ) -> web.Response:
        self.log.append((request.method, request.path_qs, status))
        headers = {"Retry-After": retry_after} if retry_after else None
        return web.json_response(body if body is not None else {}, status=status, headers=headers)

    def refuse(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.answer(request, 401, {"error": {"code": "TokenExpired"}})
        info = request.match_info
        if info.get("group") != GROUP or info.get("dataset", DATASET) != DATASET:
            return self.answer(request, 404, {"error": {"code": "ItemNotFound"}})
        return None

    async def post_rows(self, request: web.Request) -> web.Response:
        if (refused := self.refuse(request)) is not None:
            return refused
        now = self.clock()
        self.post_times = [t for t in self.post_times if t > now - 60]
        self.row_times = [(t, n) for t, n in self.row_times if t > now - 3600]
        if self.throttle_next:
            self.throttle_next -= 1
            return self.answer(request, 429, retry_after=self.retry_after)
        if self.fail_next:
            self.fail_next -= 1
            return self.answer(request, 503)
        if len(self.post_times) >= 120:
            wait = math.ceil(self.post_times[0] + 60 - now)
            return self.answer(request, 429, {"error": {"code": "TooManyRequests"}}, retry_after=str(wait))
        self.post_times.append(now)
        if request.content_type != "application/json":
            return self.answer(request, 415)
        body = json.loads(await request.text(), parse_float=Decimal)
        problem = self.check_rows(request.match_info["table"], body)
        if problem:
            return self.answer(request, 400, {"error": {"code": "InvalidRequest", "message": problem}})
        if sum(n for _, n in self.row_times) + len(body["rows"]) > 1_000_000:
            return self.answer(request, 429, retry_after="60")
        self.row_times.append((now, len(body["rows"])))
        self.table.extend(body["rows"])
        return self.answer(request, 200)

    @staticmethod
    def check_rows(table: str, body: Any) -> str | None:
        if table != DEFINITION["tables"][0]["name"]:
            return f"no table {table}"
        if not isinstance(body, dict) or set(body) != {"rows"} or not isinstance(body["rows"], list):
            return 'the body must be {"rows": [...]}'
        if not 1 <= len(body["rows"]) <= MAX_ROWS_PER_POST:
            return f"{len(body['rows'])} rows: 1..10000 per request"
        for row in body["rows"]:
            if not isinstance(row, dict) or set(row) != set(COLUMNS):
                return f"columns {sorted(row)} are not the table's"
            for name, kind in COLUMNS.items():
                value = row[name]
                ok = {
                    "String": isinstance(value, str),
                    "DateTime": isinstance(value, str) and bool(ISO.match(value)),
                    "Int64": isinstance(value, int) and not isinstance(value, bool),
                    "Decimal": isinstance(value, int | Decimal) and not isinstance(value, bool),
                }[kind]
                if not ok:
                    return f"{name}={value!r} is not {kind}"
        return None

    async def delete_rows(self, request: web.Request) -> web.Response:
        if (refused := self.refuse(request)) is not None:
            return refused
        self.table.clear()
        return self.answer(request, 200)

    async def create_dataset(self, request: web.Request) -> web.Response:
        if (refused := self.refuse(request)) is not None:
            return refused
        body = await request.json()
        if body.get("defaultMode") != "Push" or not body.get("tables"):
            return self.answer(request, 400)
        self.datasets.append(body)
        return self.answer(request, 201, {"id": DATASET, "name": body["name"]})


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    server = StandIn(FakeClock())
    runner = web.AppRunner(server.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.base_url = f"http://{host}:{port}/v1.0/myorg"
    try:
        yield server
    finally:
        await runner.cleanup()


async def fixed_token() -> str:
    return TOKEN


def client(server: StandIn, **options: Any) -> PushClient:
    clock = server.clock
    return PushClient(
        PushTarget(GROUP, DATASET), fixed_token, base_url=server.base_url, clock=clock, sleep=clock.sleep, **options
    )


def stored_rows(count: int) -> list[dict[str, Any]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        {
            "tenant_id": f"t{n % 7}",
            "event_type": "order.placed",
            "window_start": (start + timedelta(minutes=n)).strftime("%Y-%m-%dT%H:%M:00Z"),
            "window_minutes": 1,
            "event_count": n % 50 + 1,
            "value_sum": f"{n}.125",
            "value_min": "0.005",
            "value_max": f"{n}.1",
        }
        for n in range(count)
    ]


async def test_rows_go_in_requests_of_at_most_10000_in_order_and_exactly_once(standin: StandIn):
    rows = push_rows(stored_rows(25_001))
    async with asyncio.timeout(60), client(standin) as pusher:
        summary = await pusher.post_rows(rows)

    assert (summary.rows, summary.posts, summary.retries) == (25_001, 3, 0)
    assert [status for _, _, status in standin.log] == [200, 200, 200]
    assert len(standin.table) == 25_001
    assert standin.table[0]["value_sum"] == Decimal("0.12") and standin.table[1]["value_sum"] == Decimal("1.12")
    assert [r["window_start"] for r in standin.table] == [r["window_start"] for r in rows]


async def test_the_client_keeps_under_120_posts_a_minute_so_the_service_never_throttles(standin: StandIn):
    async with asyncio.timeout(60), client(standin, rows_per_post=10) as pusher:
        summary = await pusher.post_rows(push_rows(stored_rows(1_300)))

    assert summary.posts == 130 and len(standin.table) == 1_300
    assert all(status == 200 for _, _, status in standin.log)
    assert standin.clock.now >= 60  # the 121st request waited for the first to leave the window


async def test_the_stand_in_does_throttle_a_121st_post_within_a_minute(standin: StandIn):
    body = rows_body(push_rows(stored_rows(1)))
    url = f"{standin.base_url}/groups/{GROUP}/datasets/{DATASET}/tables/WindowAggregates/rows"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(121):
            async with session.post(url, data=body, headers=headers) as response:
                statuses.append(response.status)
                retry_after = response.headers.get("Retry-After")
        oversize = rows_body(push_rows(stored_rows(10_001)))
        async with session.post(url, data=oversize, headers=headers) as response:
            assert response.status == 429  # still over the rate: the size is not even looked at
        assert statuses == [200] * 120 + [429] and retry_after == "60"
        standin.clock.now += 61
        async with session.post(url, data=oversize, headers=headers) as response:
            assert response.status == 400 and "1..10000" in await response.text()


async def test_a_429_is_retried_after_the_retry_after_the_service_sends(standin: StandIn):
    standin.throttle_next, standin.retry_after = 2, "7"
    async with asyncio.timeout(60), client(standin) as pusher:
        summary = await pusher.post_rows(push_rows(stored_rows(5)))

    assert summary.retries == 2 and len(standin.table) == 5
    assert standin.clock.sleeps == [7.0, 7.0]
    assert [status for _, _, status in standin.log] == [429, 429, 200]


async def test_server_errors_are_retried_with_backoff_and_persistent_throttling_gives_up(standin: StandIn):
    standin.fail_next = 2
    async with asyncio.timeout(60), client(standin, max_attempts=3) as pusher:
        await pusher.post_rows(push_rows(stored_rows(3)))
        assert standin.clock.sleeps == [1.0, 2.0] and len(standin.table) == 3

        standin.throttle_next = 10
        with pytest.raises(PushError, match="failed 3 times"):
            await pusher.post_rows(push_rows(stored_rows(3)))
    assert [status for _, _, status in standin.log][-3:] == [429, 429, 429]
    assert len(standin.table) == 3


async def test_a_request_the_service_refuses_is_not_retried(standin: StandIn):
    bad = push_rows(stored_rows(1))
    del bad[0]["value_max"]
    async with asyncio.timeout(60), client(standin) as pusher:
        with pytest.raises(PushError, match="400"):
            await pusher.post_rows(bad)
    assert len(standin.log) == 1


async def test_replace_rows_empties_the_table_first(standin: StandIn):
    async with asyncio.timeout(60), client(standin) as pusher:
        await pusher.post_rows(push_rows(stored_rows(4)))
        await pusher.replace_rows(push_rows(stored_rows(2)))

    assert len(standin.table) == 2
    assert [method for method, _, _ in standin.log] == ["POST", "DELETE", "POST"]


async def test_the_model_is_created_from_the_committed_definition(standin: StandIn):
    async with asyncio.timeout(60), client(standin) as pusher:
        answer = await pusher.create_dataset(DEFINITION)

    assert answer["id"] == DATASET and standin.datasets == [DEFINITION]
    assert standin.log[0][1].endswith("/datasets?defaultRetentionPolicy=None")
    assert json.loads(json.dumps(push_dataset_definition())) == DEFINITION


async def test_the_create_script_posts_the_definition_with_an_entra_token(standin: StandIn, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "create_push_dataset", ROOT / "scripts/powerbi/create_push_dataset.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    class Token:
        async def __call__(self) -> str:
            return TOKEN

        async def close(self) -> None:
            return None

    monkeypatch.setattr(script, "EntraToken", Token)
    dataset_id = await script.create(GROUP, "Live aggregates", "None", standin.base_url)

    assert dataset_id == DATASET and standin.datasets[0]["name"] == "Live aggregates"


async def test_tokens_come_from_the_credential_for_the_power_bi_scope_and_are_cached():
    @dataclass
    class Access:
        token: str
        expires_on: int

    class Credential:
        def __init__(self) -> None:
            self.scopes: list[str] = []

        async def get_token(self, scope: str) -> Access:
            self.scopes.append(scope)
            return Access(f"t{len(self.scopes)}", 3600)

        async def close(self) -> None:
            return None

    now = [0.0]
    credential = Credential()
    token = EntraToken(credential, clock=lambda: now[0])

    assert [await token(), await token()] == ["t1", "t1"]
    now[0] = 3400  # within five minutes of expiry
    assert await token() == "t2" and credential.scopes == [POWERBI_SCOPE] * 2


def test_limits_cannot_be_raised_above_the_service_limits():
    for option in ({"rows_per_post": 10_001}, {"posts_per_minute": 121}, {"rows_per_hour": 1_000_001}):
        with pytest.raises(ValueError):
            PushClient(PushTarget(GROUP, DATASET), fixed_token, **option)


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert _retry_after("12", 1) == 12.0
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= _retry_after(format_datetime(later, usegmt=True), 1) <= 30
    assert _retry_after(None, 3) == 4.0 and _retry_after("soon", 1) == 1.0


def test_push_rows_carry_exact_decimals_and_the_window_start_as_utc_text():
    (row,) = push_rows(stored_rows(1))
    body = json.loads(rows_body([row]), parse_float=Decimal)

    assert body == {
        "rows": [
            {
                "tenant_id": "t0",
                "event_type": "order.placed",
                "window_start": "2026-11-01T00:00:00Z",
                "window_minutes": 1,
                "event_count": 1,
                "value_sum": Decimal("0.12"),
                "value_min": Decimal("0.00"),
                "value_max": Decimal("0.10"),
            }
        ]
    }
    assert set(body["rows"][0]) == set(COLUMNS)
    assert len(recent(stored_rows(120), 1, now=datetime(2026, 11, 1, 2, tzinfo=UTC))) == 60
