"""Start and stop the local emulators: Azurite (Blob/Queue/Table) and the Cosmos DB API server.

    python emulators/ctl.py up      # fresh, empty stores; returns once every endpoint answers
    python emulators/ctl.py down    # stops exactly the processes `up` started
    python emulators/ctl.py status

    python emulators/ctl.py up --azurite-port 20000 --cosmos-port 18081   # a second pair, beside the first

Standard library only, so it runs before the project's virtual environment exists. Each server's PID
is recorded in `.emulators/<name>.pid` together with its command line; `down` signals a PID only while
that process still runs the recorded command, so a recycled PID is never touched. Other ports than
the defaults (Azurite on P, P+1 and P+2 for Blob, Queue and Table; Cosmos DB on its own) keep their
PID files in `.emulators/ports-<azurite>-<cosmos>/`, so `down` with those ports stops that pair only
and `down` without them never touches it. The code reaches non-default ports through the settings'
environment variables (`DataStorage`, `CosmosDB__accountEndpoint`, ...; see `pipeline/settings.py`).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".emulators"
READY_TIMEOUT_S = 30.0
AZURITE_PORT = 10000  # Blob; Queue and Table on the next two
COSMOS_PORT = 8081


@dataclass(frozen=True)
class Emulator:
    name: str
    command: tuple[str, ...]
    ports: tuple[int, ...]
    probe_url: str


def emulators(azurite_port: int = AZURITE_PORT, cosmos_port: int = COSMOS_PORT) -> tuple[Emulator, ...]:
    blob, queue, table = azurite_port, azurite_port + 1, azurite_port + 2
    return (
        Emulator(
            name="azurite",
            command=(
                "node",
                "--require",
                str(ROOT / "emulators/azurite-at-scale.js"),  # keeps it usable with many blobs: see the file
                str(ROOT / "node_modules/azurite/dist/src/azurite.js"),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                str(blob),
                "--queueHost",
                "127.0.0.1",
                "--queuePort",
                str(queue),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                str(table),
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--loose",
            ),
            ports=(blob, queue, table),
            probe_url=f"http://127.0.0.1:{blob}/devstoreaccount1?comp=list",
        ),
        Emulator(
            name="cosmos",
            command=(
                "node",
                str(ROOT / "emulators/cosmos-server.js"),
                "--port",
                str(cosmos_port),
                "--host",
                "127.0.0.1",
            ),
            ports=(cosmos_port,),
            probe_url=f"https://127.0.0.1:{cosmos_port}/",
        ),
    )


def state_dir(azurite_port: int = AZURITE_PORT, cosmos_port: int = COSMOS_PORT) -> Path:
    """Where the PID files and logs of the emulators on these ports live."""
    if (azurite_port, cosmos_port) == (AZURITE_PORT, COSMOS_PORT):
        return STATE
    return STATE / f"ports-{azurite_port}-{cosmos_port}"


EMULATORS = emulators()


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


def _pid_file(emulator: Emulator, state: Path) -> Path:
    return state / f"{emulator.name}.pid"


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return None


def _recorded_pid(emulator: Emulator, state: Path) -> int | None:
    """The recorded PID, if that process is still the one that was started."""
    try:
        pid_text, recorded_cmd = _pid_file(emulator, state).read_text().split("\n", 1)
    except (OSError, ValueError):
        return None
    pid = int(pid_text)
    return pid if _cmdline(pid) == recorded_cmd.strip() else None


def _stop(emulator: Emulator, state: Path) -> bool:
    pid = _recorded_pid(emulator, state)
    _pid_file(emulator, state).unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while _cmdline(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    if _cmdline(pid) is not None:
        os.kill(pid, signal.SIGKILL)
    return True


def _start(emulator: Emulator, state: Path) -> subprocess.Popen[bytes]:
    busy = [port for port in emulator.ports if _port_open(port)]
    if busy:
        raise SystemExit(
            f"emulators: port {busy[0]} is taken by a process this script did not start; "
            f"stop it (e.g. `fuser -k {busy[0]}/tcp`) and run `make emulators-up` again."
        )
    log = open(state / f"{emulator.name}.log", "wb")  # noqa: SIM115 (handed to the child)
    process = subprocess.Popen(emulator.command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _pid_file(emulator, state).write_text(f"{process.pid}\n{' '.join(emulator.command)}\n")
    return process


def _wait_ready(emulator: Emulator, process: subprocess.Popen[bytes], state: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (state / f"{emulator.name}.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"emulators: {emulator.name} exited during start-up:\n{log}")
        if all(_port_open(port) for port in emulator.ports) and _answers(emulator.probe_url):
            return
        time.sleep(0.1)
    raise SystemExit(f"emulators: {emulator.name} did not answer within {READY_TIMEOUT_S:.0f} s")


def up(azurite_port: int = AZURITE_PORT, cosmos_port: int = COSMOS_PORT) -> None:
    if not (ROOT / "node_modules/azurite").is_dir():
        raise SystemExit("emulators: node_modules is missing; run `npm ci` (or `make setup`) first.")
    state = state_dir(azurite_port, cosmos_port)
    state.mkdir(parents=True, exist_ok=True)
    pair = emulators(azurite_port, cosmos_port)
    for emulator in pair:
        _stop(emulator, state)  # a restart guarantees empty stores
    started = time.monotonic()
    processes = {emulator.name: _start(emulator, state) for emulator in pair}
    try:
        for emulator in pair:
            _wait_ready(emulator, processes[emulator.name], state)
    except SystemExit:
        down(azurite_port, cosmos_port, quiet=True)
        raise
    print(
        f"emulators: Azurite on {azurite_port}-{azurite_port + 2} and Cosmos DB on {cosmos_port} are ready "
        f"({time.monotonic() - started:.1f} s; PIDs "
        f"{', '.join(f'{name}={process.pid}' for name, process in processes.items())})"
    )


def down(azurite_port: int = AZURITE_PORT, cosmos_port: int = COSMOS_PORT, quiet: bool = False) -> None:
    state = state_dir(azurite_port, cosmos_port)
    stopped = [emulator.name for emulator in emulators(azurite_port, cosmos_port) if _stop(emulator, state)]
    if not quiet:
        print(f"emulators: stopped {', '.join(stopped) if stopped else 'nothing (none was running)'}")


def status(azurite_port: int = AZURITE_PORT, cosmos_port: int = COSMOS_PORT) -> None:
    state = state_dir(azurite_port, cosmos_port)
    for emulator in emulators(azurite_port, cosmos_port):
        pid = _recorded_pid(emulator, state)
        print(f"{emulator.name}: {'running, PID ' + str(pid) if pid else 'stopped'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="emulators/ctl.py", description="Start and stop the local emulators.")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--azurite-port", type=int, default=AZURITE_PORT, help="Blob; Queue and Table on the next two")
    parser.add_argument("--cosmos-port", type=int, default=COSMOS_PORT)
    args = parser.parse_args(argv)
    commands = {"up": up, "down": down, "status": status}
    commands[args.command](args.azurite_port, args.cosmos_port)


if __name__ == "__main__":
    main()
