"""`python -m pipeline deadletter list|replay`: triage and replay against the configured stores.

`replay` goes through the app's own HTTP route (`POST /api/deadletter/replay`) on the local host
stand-in, so it runs the same code as in Azure, then waits for the orchestrations it started.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from pipeline.functions_host import LocalFunctionsHost, RuntimeStatus
from pipeline.replay import list_dead_letters, summarise
from pipeline.runtime import Runtime, install_runtime, uninstall_runtime
from pipeline.settings import Settings


async def list_command(reason: str | None, as_json: bool, settings: Settings | None = None) -> str:
    runtime = Runtime.from_settings(settings or Settings.from_env())
    try:
        entries = await list_dead_letters(runtime.blobs, reason, all_reasons=True)
    finally:
        await runtime.close()
    if as_json:
        return json.dumps({"counts": summarise(entries), "records": [{"name": e.name, **e.record} for e in entries]})
    lines = [f"{count:>8,}  {code}" for code, count in summarise(entries).items()] or ["no dead letters"]
    for entry in entries[:50]:
        message = entry.record["errors"][0]["msg"] if entry.record.get("errors") else ""
        lines.append(f"  {entry.name}  {entry.record.get('source_ref', '')}  {message[:100]}")
    if len(entries) > 50:
        lines.append(f"  … and {len(entries) - 50:,} more (use --json for all)")
    return "\n".join(lines)


async def replay_command(
    reason: str | None, settings: Settings | None = None, timer_scale: float = 1.0
) -> dict[str, Any]:
    from function_app import app

    runtime = Runtime.from_settings(settings or Settings.from_env())
    install_runtime(runtime)
    try:
        await runtime.ensure_stores()
        async with LocalFunctionsHost(app, verify=False, timer_scale=timer_scale) as host:
            params = {"reason": reason} if reason else None
            response = await host.call_http("deadletter_replay", "POST", "deadletter/replay", params=params)
            summary = json.loads(response.get_body())
            if response.status_code != 202:
                raise RuntimeError(summary.get("detail", f"replay answered {response.status_code}"))
            outcome: Counter[str] = Counter()
            for batch_id in summary["batches"]:
                if batch_id not in host.instances:
                    continue  # nothing in that batch passed validation again
                record = await host.wait_for(batch_id, timeout=None)
                if record.runtime_status is not RuntimeStatus.COMPLETED:
                    raise RuntimeError(f"replay batch {batch_id} ended {record.runtime_status.value}: {record.output}")
                outcome["stored"] += record.output["stored"]
                outcome["duplicates"] += record.output["duplicates"]
                for code, count in record.output["dead_letter_reasons"].items():
                    summary["rejected_again"][code] = summary["rejected_again"].get(code, 0) + count
        return {**summary, "stored": outcome["stored"], "duplicates": outcome["duplicates"]}
    finally:
        uninstall_runtime()
        await runtime.close()
