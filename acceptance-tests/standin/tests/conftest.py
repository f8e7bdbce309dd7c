"""Run the real stand-in server once per session (started as standin/launch.py starts every
stand-in); reset it before every test."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from standin import launch
from standin.launch import admin

REGION = "eu-west-1"
BAKE, PROD, STAGE = "111111111111", "222222222222", "333333333333"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "strict: runs against the --strict stand-in (no admin API, no reset)")


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory) -> Iterator[str]:
    with launch.running(tmp_path_factory.mktemp("standin") / "port") as server:
        yield server.endpoint


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
    with launch.running(tmp_path_factory.mktemp("strict") / "port", args=("--strict",)) as server:
        yield server.endpoint


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
