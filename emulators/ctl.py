"""Start and stop the local emulators: Azurite (Blob/Queue/Table) and the Cosmos DB API server.

    python emulators/ctl.py up      # fresh, empty stores; returns once every endpoint answers
    python emulators/ctl.py down    # stops exactly the processes `up` started
    python emulators/ctl.py status

Standard library only, so it runs before the project's virtual environment exists. Each server's PID
is recorded in `.emulators/<name>.pid` together with its command line; `down` signals a PID only while
that process still runs the recorded command, so a recycled PID is never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".emulators"
READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Emulator:
    name: str
    command: tuple[str, ...]
    ports: tuple[int, ...]
    probe_url: str


EMULATORS = (
    Emulator(
        name="azurite",
        command=(
            "node",
            str(ROOT / "node_modules/azurite/dist/src/azurite.js"),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "10000",
            "--queueHost",
            "127.0.0.1",
            "--queuePort",
            "10001",
            "--tableHost",
            "127.0.0.1",
            "--tablePort",
            "10002",
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--loose",
        ),
        ports=(10000, 10001, 10002),
        probe_url="http://127.0.0.1:10000/devstoreaccount1?comp=list",
    ),
    Emulator(
        name="cosmos",
        command=("node", str(ROOT / "emulators/cosmos-server.js"), "--port", "8081", "--host", "127.0.0.1"),
        ports=(8081,),
        probe_url="https://127.0.0.1:8081/",
    ),
)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the Cosmos DB API server uses its own self-signed certificate
    try:
        urllib.request.urlopen(url, timeout=1, context=context)
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is serving
    except (urllib.error.URLError, OSError):
        return False
    return True


def _pid_file(emulator: Emulator) -> Path:
    return STATE / f"{emulator.name}.pid"


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return None


def _recorded_pid(emulator: Emulator) -> int | None:
    """The recorded PID, if that process is still the one that was started."""
    try:
        pid_text, recorded_cmd = _pid_file(emulator).read_text().split("\n", 1)
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    return pid if _cmdline(pid) == recorded_cmd.strip() else None


def _stop(emulator: Emulator) -> bool:
    pid = _recorded_pid(emulator)
    _pid_file(emulator).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while _cmdline(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    if _cmdline(pid) is not None:
        os.kill(pid, signal.SIGKILL)
    return True


def _start(emulator: Emulator) -> subprocess.Popen[bytes]:
    busy = [port for port in emulator.ports if _port_open(port)]
    if busy:
        raise SystemExit(
            f"emulators: port {busy[0]} is taken by a process this script did not start; "
            f"stop it (e.g. `fuser -k {busy[0]}/tcp`) and run `make emulators-up` again."
        )
    log = open(STATE / f"{emulator.name}.log", "wb")  # noqa: SIM115 (handed to the child)
    process = subprocess.Popen(emulator.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _pid_file(emulator).write_text(f"{process.pid}\n{' '.join(emulator.command)}\n")
    return process


def _wait_ready(emulator: Emulator, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (STATE / f"{emulator.name}.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"emulators: {emulator.name} exited during start-up:\n{log}")
        if all(_port_open(port) for port in emulator.ports) and _answers(emulator.probe_url):
            return
        time.sleep(0.1)
    raise SystemExit(f"emulators: {emulator.name} did not answer within {READY_TIMEOUT_S:.0f} s")


def up() -> None:
    if not (ROOT / "node_modules/azurite").is_dir():
        raise SystemExit("emulators: node_modules is missing; run `npm ci` (or `make setup`) first.")
    STATE.mkdir(exist_ok=True)
    for emulator in EMULATORS:
        _stop(emulator)  # a restart guarantees empty stores
    started = time.monotonic()
    processes = {emulator.name: _start(emulator) for emulator in EMULATORS}
    try:
        for emulator in EMULATORS:
            _wait_ready(emulator, processes[emulator.name])
    except SystemExit:
        down(quiet=True)
        raise
    print(
        "emulators: Azurite on 10000-10002 and Cosmos DB on 8081 are ready "
        f"({time.monotonic() - started:.1f} s; PIDs "
        f"{', '.join(f'{name}={process.pid}' for name, process in processes.items())})"
    )


def down(quiet: bool = False) -> None:
    stopped = [emulator.name for emulator in EMULATORS if _stop(emulator)]
    if not quiet:
        print(f"emulators: stopped {', '.join(stopped) if stopped else 'nothing (none was running)'}")


def status() -> None:
    for emulator in EMULATORS:
        pid = _recorded_pid(emulator)
        print(f"{emulator.name}: {'running, PID ' + str(pid) if pid else 'stopped'}")


if __name__ == "__main__":
    commands = {"up": up, "down": down, "status": status}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        raise SystemExit(f"usage: python {sys.argv[0]} {{{'|'.join(commands)}}}")
    commands[sys.argv[1]]()
