"""Run the real stand-in server once per session; reset it before every test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
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


def start_standin(port_file: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(STANDIN_DIR))
    return subprocess.Popen(
        [sys.executable, "-m", "standin", "--host", "127.0.0.1", "--port", "0",
         "--port-file", str(port_file)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )


def wait_for_port(proc: subprocess.Popen, port_file: Path) -> int:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stand-in exited early with {proc.returncode}")
        if port_file.exists():
            return int(port_file.read_text())
        time.sleep(0.02)
    raise RuntimeError("stand-in did not write its port file in time")


def stop(proc: subprocess.Popen) -> int:
    proc.terminate()
    try:
        return proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=STOP_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory) -> str:
    port_file = tmp_path_factory.mktemp("standin") / "port"
    proc = start_standin(port_file)
    try:
        port = wait_for_port(proc, port_file)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def admin(endpoint: str, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{endpoint}/_standin/{path}", data=data, method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(autouse=True)
def fresh(endpoint):
    admin(endpoint, "POST", "reset")


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
