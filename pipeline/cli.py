"""The command line: `python -m pipeline <command>`; each command lives beside the code it drives."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pipeline import instances_commands, reference_commands, schema_commands
from pipeline.errors import TransientError
from pipeline.functions_host.workers import default_worker_processes
from pipeline.reference import ReferenceDataError
from pipeline.settings import SettingsError
from schemas import Reason


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline", description="The event pipeline: run it locally, feed it, measure it, operate it."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline locally over event files")
    run.add_argument(
        "--input",
        action="append",
        required=True,
        type=Path,
        metavar="PATH",
        help="an NDJSON / JSON-array file or a folder of them (repeatable)",
    )
    run.add_argument(
        "--reference",
        type=Path,
        default=Path("samples/reference"),
        metavar="DIR",
        help="folder with tenants.json, fx_rates.json and devices.json (default: %(default)s)",
    )
    run.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR", help="output folder (default: %(default)s)"
    )
    run.add_argument(
        "--via",
        choices=("eventhub", "blob", "http"),
        default="eventhub",
        help="the trigger that receives the events (default: %(default)s)",
    )
    run.add_argument(
        "--batch-size", type=_positive, default=100, metavar="N", help="events per batch (default: %(default)s)"
    )
    run.add_argument(
        "--window-minutes",
        type=_positive,
        default=1,
        metavar="N",
        help="aggregate window length (default: %(default)s)",
    )
    run.add_argument(
        "--partitions",
        type=_positive,
        default=8,
        metavar="N",
        help="partitions processed side by side (default: %(default)s)",
    )
    run.add_argument(
        "--workers",
        type=_non_negative,
        default=default_worker_processes(),
        metavar="N",
        help="Python worker processes running the activities, as the Functions host's language workers; "
        "0 runs them in the runner's process (default: the CPUs, %(default)s)",
    )
    run.add_argument(
        "--durable-state",
        choices=("azurite", "memory"),
        default="azurite",
        help="where the Durable task hub lives: Azurite's Table service, so a crashed run resumes "
        "(default), or process memory (gone with the process)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="level of the JSON log lines; DEBUG adds one per stored event (default: %(default)s)",
    )
    run.add_argument("--log-file", type=Path, metavar="FILE", help="JSON log lines (default: OUT/logs.ndjson)")
    run.add_argument(
        "--status-file",
        type=Path,
        metavar="FILE",
        help="rewrite FILE every second with a JSON snapshot of the run (counts so far, batches in flight, "
        "Cosmos DB requests, process ids), for watching long runs",
    )
    report = commands.add_parser(
        "report", help="draw OUT/report.html and OUT/charts/*.png from what `pipeline run` wrote to OUT"
    )
    report.add_argument(
        "--out", type=Path, default=Path("out"), metavar="DIR", help="the run's output folder (default: %(default)s)"
    )
    from pipeline.cost import add_cost_parser
    from pipeline.producer import add_generate_parser, add_send_parser

    add_generate_parser(commands)
    add_send_parser(commands)
    add_cost_parser(commands)

    bench = commands.add_parser("bench", help="measure the pipeline against the floor (needs the emulators)")
    bench.add_argument("--out", type=Path, default=Path("bench/results.json"), help="(default: %(default)s)")
    bench.add_argument("--sizes", default="1000,10000,100000", help="scale curve sizes (default: %(default)s)")
    bench.add_argument("--batch-size", type=_positive, default=100, help="(default: %(default)s)")

    soak = commands.add_parser(
        "soak", help="a long generated stream through the local pipeline, sampled; is it flat? (`make soak`)"
    )
    soak.add_argument("--events", type=_positive, default=1_000_000, help="stream length (default: %(default)s)")
    soak.add_argument("--out", type=Path, default=Path("soak"), help="results folder (default: %(default)s)")
    soak.add_argument(
        "--chart", type=Path, default=Path("docs/images/soak.png"), help="chart file (default: %(default)s)"
    )
    soak.add_argument(
        "--azurite-port", type=_positive, default=10000, help="Azurite's Blob port; Queue and Table on the next two"
    )
    soak.add_argument("--cosmos-port", type=_positive, default=8081, help="the Cosmos DB server's port")
    soak.add_argument("--partitions", type=_positive, default=4, help="Event Hubs partitions (default: %(default)s)")
    soak.add_argument(
        "--workers", type=_non_negative, default=0, help="activity worker processes (default: 0, one per CPU)"
    )
    soak.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default: %(default)s)")
    soak.add_argument(
        "--floor-documents", type=_positive, default=10_000, help="upserts per floor measurement (default: %(default)s)"
    )

    schema_commands.add_parser(commands)
    reference_commands.add_parser(commands)
    instances_commands.add_parser(commands)

    deadletter = commands.add_parser("deadletter", help="list or replay dead-lettered events")
    actions = deadletter.add_subparsers(dest="action", required=True)
    reasons = [r.value for r in Reason]
    listing = actions.add_parser("list", help="count and show dead letters by reason")
    listing.add_argument("--reason", choices=reasons, help="only this reason code")
    listing.add_argument("--json", action="store_true", help="every record, as JSON")
    replaying = actions.add_parser("replay", help="send dead letters through the pipeline again")
    replaying.add_argument(
        "--reason",
        choices=reasons,
        help="only this reason (default: unknown_tenant, unknown_currency, processing_failed)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pipeline.observability import configure_logging

    configure_logging("WARNING", fmt="text")
    try:
        if args.command == "generate":
            from pipeline.producer import run_generate

            return run_generate(args)
        if args.command == "send":
            from pipeline.producer import run_send

            return run_send(args)
        if args.command == "cost":
            from pipeline.cost import run_cost

            return run_cost(args)
        if args.command == "run":
            return _run(args)
        if args.command == "report":
            return _report(args)
        if args.command == "deadletter":
            return _deadletter(args)
        if args.command == "schemas":
            return schema_commands.run(args)
        if args.command == "reference":
            return reference_commands.run(args)
        if args.command == "instances":
            return instances_commands.run(args)
        if args.command == "soak":
            from pipeline.soak.command import SoakOptions, run_soak

            return run_soak(
                SoakOptions(
                    events=args.events,
                    out=args.out,
                    chart=args.chart,
                    azurite_port=args.azurite_port,
                    cosmos_port=args.cosmos_port,
                    partitions=args.partitions,
                    workers=args.workers,
                    interval_s=args.interval,
                    floor_documents=args.floor_documents,
                )
            )
        if args.command == "bench":
            from pipeline.bench.command import run_benchmarks

            sizes = [int(size) for size in args.sizes.split(",") if size]
            run_benchmarks(args.out, sizes, args.batch_size)
            return 0
    except TransientError as error:
        print(
            f"pipeline {args.command}: {error} (is it running? `make emulators-up` starts the local ones)",
            file=sys.stderr,
        )
        return 3
    return 2


def _report(args: argparse.Namespace) -> int:
    from pipeline.runner.html_report import ReportInputMissing, report_from_run

    try:
        path = report_from_run(args.out)
    except ReportInputMissing as error:
        print(f"pipeline report: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} and {args.out / 'charts'}/")
    return 0


def _deadletter(args: argparse.Namespace) -> int:
    from pipeline.runner.deadletters import list_command, replay_command

    if args.action == "list":
        print(asyncio.run(list_command(args.reason, args.json)))
        return 0
    summary = asyncio.run(replay_command(args.reason))
    rejected = ", ".join(f"{code} {n}" for code, n in summary["rejected_again"].items()) or "none"
    print(
        f"replayed {summary['replayed']:,} dead letters in {len(summary['batches'])} batches: "
        f"stored {summary['stored']:,}, duplicates {summary['duplicates']:,}, dead-lettered again: {rejected}"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    from pipeline.runner.inputs import InputError
    from pipeline.runner.run import RunFailed, RunOptions, print_summary, run

    log_path = args.log_file or args.out / "logs.ndjson"
    options = RunOptions(
        inputs=args.input,
        reference=args.reference,
        out=args.out,
        via=args.via,
        batch_size=args.batch_size,
        window_minutes=args.window_minutes,
        partitions=args.partitions,
        quiet=args.quiet,
        workers=args.workers,
        log_file=log_path,
        log_level=args.log_level,
        durable_state=args.durable_state,
        status_file=args.status_file,
    )
    from pipeline.observability import configure_logging

    args.out.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", encoding="utf-8")
    log_file = log_path.open("a", encoding="utf-8")  # appending: the worker processes write to it too
    configure_logging(args.log_level, stream=log_file)
    try:
        report = asyncio.run(run(options))
    except (InputError, ReferenceDataError, SettingsError, RunFailed) as error:
        print(f"pipeline run: {error}", file=sys.stderr)
        return 2
    print_summary(report, args.out)
    return 0
