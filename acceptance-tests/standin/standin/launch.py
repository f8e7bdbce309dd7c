"""Starting and stopping the stand-in from outside it: the one way its tests (tests/conftest.py),
the benchmarks (benchmarks/common.py) and the demo (scripts/demo) do it.

From Python (with acceptance-tests/standin on sys.path; importing this starts nothing and needs
no moto):

    with launch.running(tmp / "port", args=("--strict",)) as server:
        server.endpoint, server.admin("POST", "reset"), server.proc

or `server = launch.started(...)` and `server.close()` where a `with` block does not fit.

From a shell (scripts/demo):

    python -m standin.launch start DIR [STAND-IN FLAGS...]   prints "PID ENDPOINT" once serving
    python -m standin.launch stop PID                        SIGTERM, then SIGKILL

The server is `python -m standin --host 127.0.0.1 --port 0 --port-file PORT_FILE`: the port
is read from PORT_FILE once the stand-in writes it; its stderr goes to PORT_FILE.log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Union

STANDIN_DIR = Path(__file__).resolve().parents[1]
# Deadlines only bound a wait that has gone wrong, so they are generous: the
# machine may be busy (a 2-core box compiling Rust) and nothing here is a speed target.
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
HTTP_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.02

# What subprocess accepts for a child's stdout: DEVNULL, PIPE, a descriptor or a file.
Stdout = Union[int, IO[Any], None]


def log_of(port_file: Path) -> Path:
    """Where a stand-in started for `port_file` writes its stderr."""
    return port_file.with_name(port_file.name + ".log")


def start(port_file: Path, stdout: Stdout = subprocess.DEVNULL, args: Sequence[str] = (),
          python: str = sys.executable, new_session: bool = False) -> subprocess.Popen:
    """Start a stand-in with extra command-line `args` (`--strict`) under `python`; stdout is
    discarded unless the caller reads it (an unread pipe could fill and block the server),
    stderr goes to `log_of(port_file)`. `new_session`: out of the caller's process group, so
    a terminal's Ctrl-C reaches only whoever stops it (scripts/demo's clean-up)."""
    env = dict(os.environ, PYTHONPATH=str(STANDIN_DIR))
    port_file.unlink(missing_ok=True)  # a port file left by an earlier stand-in is not this one's
    with open(log_of(port_file), "w", encoding="utf-8") as log:
        # The child holds its own copy of the log's descriptor once started.
        return subprocess.Popen(
            [python, "-m", "standin", "--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file), *args],
            env=env, stdout=stdout, stderr=log, text=True, start_new_session=new_session,
        )


def wait_for_port(proc: subprocess.Popen, port_file: Path, timeout: float = STARTUP_TIMEOUT_SECONDS) -> int:
    """The port the stand-in wrote to `port_file`; RuntimeError with its log's tail if it exits
    first or has not written it within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stand-in exited early with {proc.returncode}: {log_tail(port_file)}")
        if port_file.exists():
            return int(port_file.read_text())
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"stand-in did not write its port file in {timeout} s: {log_tail(port_file)}")


def log_tail(port_file: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log_of(port_file).read_text(encoding="utf-8").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT_SECONDS;
    the exit status. Safe to call again on a process that has already ended."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=STOP_TIMEOUT_SECONDS)


def admin(endpoint: str, method: str, path: str, body: dict | None = None) -> dict:
    """JSON from the admin API (`/_standin/PATH`); urllib's HTTPError for a non-2xx answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{endpoint}/_standin/{path}", data=data, method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return json.loads(response.read() or b"{}")


class StandIn:
    """A stand-in that is serving: its process, port and endpoint."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc = proc
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        return admin(self.endpoint, method, path, body)

    def close(self) -> int:
        """Stops it (see `stop`); its exit status."""
        status = stop(self.proc)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return status


def started(port_file: Path, stdout: Stdout = subprocess.DEVNULL, args: Sequence[str] = (),
            startup_timeout: float = STARTUP_TIMEOUT_SECONDS, python: str = sys.executable,
            new_session: bool = False) -> StandIn:
    """A stand-in started and serving, for the caller to close(); one that does not come up
    is stopped before the error is raised."""
    proc = start(port_file, stdout, args, python, new_session)
    try:
        return StandIn(proc, wait_for_port(proc, port_file, startup_timeout))
    except BaseException:
        stop(proc)
        raise


@contextlib.contextmanager
def running(port_file: Path, stdout: Stdout = subprocess.DEVNULL, args: Sequence[str] = (),
            startup_timeout: float = STARTUP_TIMEOUT_SECONDS, python: str = sys.executable) -> Iterator[StandIn]:
    """A started stand-in, stopped on the way out however the block ends: a failing test,
    a start-up that times out or exits early, Ctrl-C."""
    proc = start(port_file, stdout, args, python)
    try:
        yield StandIn(proc, wait_for_port(proc, port_file, startup_timeout))
    finally:
        stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """`stop` for a stand-in this process did not start (`start` from a shell): SIGTERM, then
    SIGKILL if it is still running after `timeout` seconds. Gone, or a zombie, counts as stopped."""

    def running_still() -> bool:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while running_still() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS * 5)
        if not running_still():
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m standin.launch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    start_command = commands.add_parser("start", help="start a stand-in in the background; print PID ENDPOINT")
    start_command.add_argument("dir", type=Path, help="where its port file (DIR/port) and log (DIR/port.log) go")
    start_command.add_argument("--timeout", type=float, default=STARTUP_TIMEOUT_SECONDS,
                               help="seconds to wait for it to serve")
    stop_command = commands.add_parser("stop", help="stop a stand-in started by `start`")
    stop_command.add_argument("pid", type=int)
    args, flags = parser.parse_known_args(argv)
    if args.command == "stop":
        if flags:
            parser.error(f"unrecognized arguments: {' '.join(flags)}")
        stop_pid(args.pid)
        return 0
    try:
        server = started(args.dir / "port", args=flags, startup_timeout=args.timeout, new_session=True)
    except RuntimeError as error:
        print(f"standin.launch: {error}", file=sys.stderr)
        return 1
    print(server.proc.pid, server.endpoint, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
