"""`python -m pipeline schemas export|check`: publish the JSON Schemas and guard them.

- `export` writes one JSON Schema per registered type (envelope included) and the reader-side
  document schemas to `schemas/json/`, and the registry tables of `docs/schemas.md`. It refuses
  to overwrite a published schema with a breaking change (`--allow-breaking` overrides, for a
  version that no producer uses yet).
- `check` compares the current models with the committed schemas (the files in `schemas/json/`,
  or those of a git revision with `--against`) and exits 1 with one line per breaking change, as a
  schema registry in backward-compatibility mode would; compatible changes pass.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from schemas.catalog import DOCS_PAGE, with_registry_tables
from schemas.compat import Problem, breaking_changes
from schemas.export import JSON_DIR, all_schemas, read_schemas, stale_files, write_json_schemas

_ROOT = Path(__file__).resolve().parent.parent

EXIT_OK = 0
EXIT_BREAKING = 1
EXIT_ERROR = 2


class BaselineError(RuntimeError):
    """The published schemas to compare with could not be read."""


def add_parser(subparsers: Any) -> None:
    """Add `schemas export|check` to the `python -m pipeline` sub-commands."""
    schemas = subparsers.add_parser("schemas", help="export the JSON Schemas, or check them for breaking changes")
    actions = schemas.add_subparsers(dest="schemas_action", required=True)
    export = actions.add_parser(
        "export", help="write schemas/json/ (one schema per event type, and the document schemas) and the docs tables"
    )
    export.add_argument(
        "--out", type=Path, default=JSON_DIR, metavar="DIR", help="where to write the schemas (default: schemas/json)"
    )
    export.add_argument(
        "--allow-breaking",
        action="store_true",
        help="overwrite published schemas even with breaking changes (only for a version no producer uses yet)",
    )
    check = actions.add_parser("check", help="fail on a breaking change to a published schema")
    check.add_argument(
        "--against",
        metavar="GIT_REF",
        help="compare with the schemas committed at this git revision (e.g. origin/main) "
        "instead of the files in schemas/json",
    )


def run(args: argparse.Namespace) -> int:
    """Run `schemas export` or `schemas check`; returns the exit code."""
    if args.schemas_action == "export":
        return export(args.out, allow_breaking=args.allow_breaking)
    return check(args.against)


def export(directory: Path = JSON_DIR, *, allow_breaking: bool = False, docs: Path | None = DOCS_PAGE) -> int:
    """Write the schemas (and the docs tables); refuse breaking changes unless allowed."""
    problems = breaking_changes(read_schemas(directory), all_schemas()) if directory.is_dir() else []
    if problems and not allow_breaking:
        _report(problems, sys.stderr)
        print(
            f"schemas export: refused, {len(problems)} breaking change(s) to published schemas. Keep the "
            "published version compatible and register the change as a new version (docs/schemas.md), "
            "or pass --allow-breaking if no producer uses this version yet.",
            file=sys.stderr,
        )
        return EXIT_BREAKING
    written = write_json_schemas(directory)
    for path in written:
        print(f"wrote {_shown(path)}")
    if docs is not None and docs.exists():
        page = docs.read_text(encoding="utf-8")
        updated = with_registry_tables(page)
        if updated != page:
            docs.write_text(updated, encoding="utf-8")
            print(f"wrote {_shown(docs)}")
            written.append(docs)
    if not written:
        print("schemas export: every schema is current")
    return EXIT_OK


def check(against: str | None = None, directory: Path = JSON_DIR) -> int:
    """Compare the current models with the published schemas; 1 when something breaks.

    Args:
        against: A git revision whose committed schemas are the published ones; by default the
            files in ``directory`` are.
        directory: Where the published schema files are (``schemas/json``).
    """
    try:
        published = read_schemas(directory) if against is None else git_schemas(against)
    except BaselineError as error:
        print(f"schemas check: {error}", file=sys.stderr)
        return EXIT_ERROR
    where = _shown(directory) if against is None else f"schemas/json at {against}"
    problems = breaking_changes(published, all_schemas())
    if problems:
        _report(problems, sys.stdout)
        print(
            f"schemas check: {len(problems)} breaking change(s) against {where}. A published version must "
            "stay compatible: revert the change, or register it as a new version (docs/schemas.md)."
        )
        return EXIT_BREAKING
    stale = stale_files(directory)
    print(f"schemas check: no breaking change against {where} ({len(published)} published schemas)")
    if stale:
        print(
            f"  {len(stale)} file(s) differ compatibly or are new ({', '.join(stale)}): "
            "run `python -m pipeline schemas export` and commit them"
        )
    return EXIT_OK


def git_schemas(revision: str) -> dict[str, dict[str, Any]]:
    """The schema files committed at a git revision, keyed like `schemas.export.all_schemas`."""
    prefix = JSON_DIR.relative_to(_ROOT).as_posix()
    listing = _git("ls-tree", "-r", "--name-only", revision, "--", prefix)
    out: dict[str, dict[str, Any]] = {}
    for name in listing.splitlines():
        relative = name[len(prefix) + 1 :]
        if not name.endswith(".schema.json") or relative.count("/") > 1:
            continue
        try:
            out[relative] = json.loads(_git("show", f"{revision}:{name}"))
        except ValueError as error:
            raise BaselineError(f"{name} at {revision} is not JSON: {error}") from None
    return out


def _git(*arguments: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(_ROOT), *arguments], capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BaselineError(f"git is not usable here: {error}") from None
    if done.returncode != 0:
        raise BaselineError(f"git {' '.join(arguments)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def _report(problems: list[Problem], stream: Any) -> None:
    for problem in problems:
        print(f"  BREAKING {problem}", file=stream)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(_ROOT).as_posix()
    except ValueError:
        return str(path)
