"""Run the real stand-in server once per session; reset it before every test."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

STANDIN_DIR = Path(__file__).resolve().parents[1]
REGION = "eu-west-1"
BAKE, PROD, STAGE = "111111111111", "222222222222", "333333333333"
# Deadlines only bound a wait that has gone wrong, so they are generous: the
# machine may be busy (a 2-core box compiling Rust) and nothing here is a speed target.
STARTUP_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
HTTP_TIMEOUT_SECONDS = 30


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "strict: runs against the --strict stand-in (no admin API, no reset)")


def log_of(port_file: Path) -> Path:
    """Where a stand-in started for `port_file` writes its stderr."""
    return port_file.with_name(port_file.name + ".log")


def start_standin(port_file: Path, stdout: int = subprocess.DEVNULL,
                  args: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start a stand-in with extra command-line `args` (`--strict`); stdout is
    discarded unless a test reads it (an unread pipe could fill and block the
    server), stderr goes to `log_of(port_file)`."""
    env = dict(os.environ, PYTHONPATH=str(STANDIN_DIR))
    with open(log_of(port_file), "w", encoding="utf-8") as log:
        # The child holds its own copy of the log's descriptor once started.
        return subprocess.Popen(
            [sys.executable, "-m", "standin", "--host", "127.0.0.1", "--port", "0",
             "--port-file", str(port_file), *args],
            env=env, stdout=stdout, stderr=log, text=True,
        )


def wait_for_port(proc: subprocess.Popen, port_file: Path,
                  timeout: float = STARTUP_TIMEOUT_SECONDS) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stand-in exited early with {proc.returncode}: {_log_tail(port_file)}")
        if port_file.exists():
            return int(port_file.read_text())
        time.sleep(0.02)
    raise RuntimeError(f"stand-in did not write its port file in {timeout} s: {_log_tail(port_file)}")


def _log_tail(port_file: Path, lines: int = 20) -> str:
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


@contextlib.contextmanager
def running_standin(port_file: Path, stdout: int = subprocess.DEVNULL,
                    startup_timeout: float = STARTUP_TIMEOUT_SECONDS, args: tuple[str, ...] = ()
                    ) -> Iterator[tuple[subprocess.Popen, int]]:
    """A started stand-in and its port, stopped on the way out however the block
    ends: a failing test, a start-up that times out or exits early, Ctrl-C."""
    proc = start_standin(port_file, stdout, args)
    try:
        yield proc, wait_for_port(proc, port_file, startup_timeout)
    finally:
        stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory) -> Iterator[str]:
    with running_standin(tmp_path_factory.mktemp("standin") / "port") as (_, port):
        yield f"http://127.0.0.1:{port}"


def admin(endpoint: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{endpoint}/_standin/{path}", data=data, method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(autouse=True)
def fresh(request):
    """Reset the default stand-in before each test. Strict-mode tests
    (marked `strict`) have no admin API: they use fresh accounts instead."""
    if request.node.get_closest_marker("strict") is None:
        admin(request.getfixturevalue("endpoint"), "POST", "reset")


@pytest.fixture(scope="session")
def strict_endpoint(tmp_path_factory) -> Iterator[str]:
    """One `--strict` stand-in for the session. It cannot be reset, so each
    test works in accounts of its own (`accounts`)."""
    with running_standin(tmp_path_factory.mktemp("strict") / "port", args=("--strict",)) as (_, port):
        yield f"http://127.0.0.1:{port}"


# Account ids no other strict test uses: a random base per session, then counting.
_ACCOUNTS = itertools.count(random.randrange(100_000_000_000, 800_000_000_000, 1_000_000))


@pytest.fixture
def accounts() -> Iterator[str]:
    """An endless supply of fresh 12-digit account ids (each its root's access key)."""
    return (str(next(_ACCOUNTS)) for _ in itertools.count())


@pytest.fixture
def strict_aws(strict_endpoint):
    """strict_aws(service, key, secret=, token=) -> a boto3 client against the strict
    stand-in; validate=False lets a test send what the SDK would refuse."""

    def make(service: str, key: str, secret: str = "x", token: str | None = None,
             region: str = REGION, retries: int = 1, validate: bool = True):
        return boto3.client(
            service, endpoint_url=strict_endpoint, region_name=region,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"mode": "standard", "total_max_attempts": retries},
                          parameter_validation=validate),
        )

    return make


@pytest.fixture
def aws(endpoint):
    """aws(service, account_or_key, ...) -> a boto3 client against the stand-in."""

    def make(service: str, key: str = BAKE, region: str = REGION, secret: str = "x",
             token: str | None = None, retries: int = 1):
        return boto3.client(
            service, endpoint_url=endpoint, region_name=region,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"mode": "standard", "total_max_attempts": retries}),
        )

    return make


@pytest.fixture
def ctl(endpoint):
    """ctl(method, path, body) -> JSON from the admin API."""
    return lambda method, path, body=None: admin(endpoint, method, path, body)


@pytest.fixture
def shared_source(aws):
    """A bake-account AMI with two snapshots, shared with PROD (launch permission and
    createVolumePermission); its id. Modules with another source define their own."""
    from helpers import make_ami, share  # helpers imports this module
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, snapshots=2)
    share(bake, image_id, snaps, PROD)
    return image_id
