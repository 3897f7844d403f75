"""Reading the runner's input: files and folders of NDJSON / JSON-array events, streamed.

Events are routed to partitions by their identity, as a producer using the identity as partition key
would: every copy of an event lands in the same partition, in input order, so "the first accepted
version stays" means the first in the input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.framing import Framed, split_file, split_ndjson

INPUT_SUFFIXES = (".ndjson", ".jsonl", ".json")


@dataclass(frozen=True, slots=True)
class InputEvent:
    body: bytes
    file: Path
    position: int  # line number (NDJSON) or element number (JSON array), 1-based
    partition: int
    identity: int  # a hash of (tenantid, source, id): copies of an event share it (and their partition)


class InputError(ValueError):
    """An input path does not exist or holds no event files."""


def input_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not found:
                raise InputError(f"{path} holds no {', '.join(INPUT_SUFFIXES)} files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{path} does not exist")
    return files


def identity_of(body: bytes, position: int) -> int:
    """A hash of the event's (tenantid, source, id) when readable, else of its position."""
    try:
        event = json.loads(body.decode("utf-8-sig"))
        key = "\x1f".join(str(event[k]) for k in ("tenantid", "source", "id")).encode()
    except (ValueError, TypeError, KeyError, RecursionError, UnicodeDecodeError):
        return position
    return int.from_bytes(hashlib.blake2b(key, digest_size=4).digest(), "big")


def read_events(files: list[Path], partitions: int) -> Iterator[InputEvent]:
    """Every event of every file, in order. NDJSON streams line by line (memory stays bounded by the
    batches in flight, not the file); a `.json` file is read whole, as a JSON array must be."""
    for file in files:
        for framed in _frames(file):
            identity = identity_of(framed.body, framed.position)
            yield InputEvent(framed.body, file, framed.position, identity % partitions, identity)


def _frames(file: Path) -> Iterator[Framed]:
    if file.suffix.lower() == ".json":
        yield from split_file(file.name, file.read_bytes())
        return
    with file.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            yield from (Framed(f.body, number) for f in split_ndjson(line))
