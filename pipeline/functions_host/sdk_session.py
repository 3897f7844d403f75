"""The durable client's module-global aiohttp session, made safe for several event loops in one process.

`azure.durable_functions.models.utils.http_utils` creates one `aiohttp.ClientSession` (and one
`asyncio.Lock`) at module level and reuses it for every `DurableOrchestrationClient` call. Both belong to
the event loop that first used them: after that loop closes (the end of an `asyncio.run`, or of a pytest
test), the next client call fails with "Event loop is closed" or "attached to a different loop". The host
resets them on entry and closes them on exit; call `reset_client_session()` yourself when driving
starters without `LocalFunctionsHost`.
"""

from __future__ import annotations

import asyncio
import contextlib

from azure.durable_functions.models.utils import http_utils


def reset_client_session() -> None:
    """Forget the SDK's session and lock so the next client call creates them on the running loop."""
    http_utils._client_session = None
    http_utils._session_lock = asyncio.Lock()


async def close_client_session() -> None:
    """Close the SDK's session if it belongs to the running loop, then reset it."""
    session = http_utils._client_session
    if session is not None and not session.closed and getattr(session, "_loop", None) is asyncio.get_running_loop():
        with contextlib.suppress(Exception):
            await session.close()
    reset_client_session()
