"""Shared fixtures. Tests marked `emulators` share one emulator session for the whole run: the first
such test starts Azurite and the Cosmos DB server (fresh, empty), and the session stops them at the end."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _ctl(command: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "emulators" / "ctl.py"), command], check=True, cwd=ROOT)


@pytest.fixture(scope="session")
def emulators() -> Iterator[None]:
    _ctl("up")
    try:
        yield
    finally:
        _ctl("down")
