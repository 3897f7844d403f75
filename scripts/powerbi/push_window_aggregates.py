"""Push the last hours of `WindowAggregates` rows from Cosmos DB to the optional push semantic model.

    python scripts/powerbi/push_window_aggregates.py --workspace <id> --dataset <id> [--hours 24]

Reads the `aggregates` container with the app's settings (`CosmosDB__accountEndpoint` …, see
`pipeline/settings.py`), empties the push table and posts the rows whose window started in the last
`--hours` hours, within the push limits (10,000 rows a POST, 120 POSTs a minute, 1M rows an hour).
Run it on a schedule for a live dashboard; the durable feeds are documented in `docs/power-bi.md`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.analytics.push import EntraToken, PushClient, PushError, PushTarget, push_rows, recent  # noqa: E402
from pipeline.runtime import Runtime  # noqa: E402
from pipeline.settings import COSMOS_AGGREGATES, Settings  # noqa: E402


async def push(workspace: str, dataset: str, hours: float) -> str:
    runtime = Runtime.from_settings(Settings.from_env())
    token = EntraToken()
    try:
        docs = recent(await runtime.documents.query_all(COSMOS_AGGREGATES), hours)
        async with PushClient(PushTarget(workspace, dataset), token) as client:
            summary = await client.replace_rows(push_rows(docs))
    finally:
        await token.close()
        await runtime.close()
    return f"pushed {summary.rows:,} rows in {summary.posts} requests ({summary.retries} retried)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", required=True, help="the workspace (group) id")
    parser.add_argument("--dataset", required=True, help="the push semantic model's id")
    parser.add_argument("--hours", type=float, default=24.0, help="push the windows of the last N hours")
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(push(args.workspace, args.dataset, args.hours)))
    except PushError as error:
        print(f"push failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
