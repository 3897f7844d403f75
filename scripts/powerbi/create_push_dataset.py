"""Create the optional push semantic model `WindowAggregates` in a Power BI workspace.

    python scripts/powerbi/create_push_dataset.py --workspace <workspace id> [--name WindowAggregates]
    python scripts/powerbi/create_push_dataset.py --dry-run      # print the definition only

Signs in with `DefaultAzureCredential` (Azure CLI login, managed identity, environment…); the identity
needs to be a member of the workspace (Contributor or higher) and the tenant must allow service
principals to use Power BI APIs when it is one. Prints the new dataset id: use it, with the workspace
id, for `scripts/powerbi/push_window_aggregates.py`. Power BI no longer creates push semantic models
after 31 Oct 2027: the durable feeds are the `aggregates` container and the exported files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.analytics.push import POWERBI_API, EntraToken, PushClient, PushError, PushTarget  # noqa: E402

DEFINITION = ROOT / "powerbi" / "push" / "WindowAggregates.dataset.json"


async def create(workspace: str, name: str, retention: str, base_url: str) -> str:
    definition = json.loads(DEFINITION.read_text(encoding="utf-8"))
    definition["name"] = name
    token = EntraToken()
    try:
        async with PushClient(PushTarget(workspace, dataset_id="-"), token, base_url=base_url) as client:
            answer = await client.create_dataset(definition, retention=retention)
    finally:
        await token.close()
    return str(answer.get("id", ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", help="the workspace (group) id")
    parser.add_argument("--name", default="WindowAggregates", help="the semantic model's name")
    parser.add_argument("--retention", default="None", choices=["None", "basicFIFO"], help="row retention policy")
    parser.add_argument("--base-url", default=POWERBI_API, help=argparse.SUPPRESS)
    parser.add_argument("--dry-run", action="store_true", help="print the definition and exit")
    args = parser.parse_args(argv)
    if args.dry_run:
        print(DEFINITION.read_text(encoding="utf-8"), end="")
        return 0
    if not args.workspace:
        parser.error("--workspace is required (or use --dry-run)")
    try:
        dataset_id = asyncio.run(create(args.workspace, args.name, args.retention, args.base_url))
    except PushError as error:
        print(f"could not create the push semantic model: {error}", file=sys.stderr)
        return 1
    print(dataset_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
