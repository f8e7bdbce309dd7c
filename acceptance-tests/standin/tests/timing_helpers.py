"""Stand-ins started with the timing flags (--consistency-lag, --copy-duration,
--ec2-token-buckets, --seed), for tests/test_timing_*.py.

The random delays are drawn from one generator seeded with --seed, in the
order of the requests, and a fresh stand-in (or, in the default mode, a
reset) starts the sequence again; so a test that starts from a fresh one
sees the same delays on every run. SEED is chosen so that its first
SAFE_DRAWS draws are all at least SAFE_FRACTION of the bound
(`test_seed_draws_are_not_short` checks it): with a 2 s lag every write of
such a test is unseen for at least 0.6 s, far longer than the read that
follows it, and seen within 2 s.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import REGION, admin
from standin import launch

LAG_SECONDS = 2.0
SEED = 765073
SAFE_DRAWS = 40
SAFE_FRACTION = 0.3
# Bounds a wait for a lag to pass; the lag itself is at most LAG_SECONDS.
SEEN_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.1


def seed_draws(seed: int = SEED, count: int = SAFE_DRAWS) -> list[float]:
    """The first draws of the stand-in's generator as fractions of their bound
    (random.uniform(0, b) is b * random())."""
    rng = random.Random(seed)
    return [rng.random() for _ in range(count)]


@contextlib.contextmanager
def timing_standin(directory: Path, *flags: str) -> Iterator[str]:
    """A stand-in started with `flags` on 127.0.0.1; its endpoint. Stopped on the way out."""
    with launch.running(directory / "port", args=flags) as server:
        yield server.endpoint


def client(endpoint: str, service: str, key: str, region: str = REGION):
    """A boto3 client that never retries, so a throttled or not-found answer is seen as sent."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
        aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def reset(endpoint: str) -> None:
    admin(endpoint, "POST", "reset")


def error_of(call, **kwargs) -> tuple[str, int]:
    """(code, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def eventually(check, what: str, timeout: float = SEEN_TIMEOUT_SECONDS):
    """Poll `check()` until it returns a true value (returned); the deadline only
    bounds a wait that has gone wrong."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not seen within {timeout} s")
        time.sleep(POLL_SECONDS)


def found(call, code: str, **kwargs):
    """The answer of `call`, or None while it fails with `code` (not seen yet)."""
    try:
        return call(**kwargs)
    except ClientError as err:
        if err.response["Error"]["Code"] == code:
            return None
        raise
