"""--call-log FILE: one JSON line per AWS request the stand-in answers.

Not an AWS behaviour but a record of a run (standin/call_log_file.py), for
scripts/soak-strict: in strict mode no admin route can be read, so the
figures come from a file only the one who started the stand-in reads. Each
line is the GET /_standin/call_log entry plus `status`, `error` and
`attempt`. The attempt number is the one the SDK sends in its
`amz-sdk-request: attempt=N; max=M` header (AWS SDKs and Tools Reference
Guide, "Retry behavior"; botocore and the AWS SDK for Rust both send it).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from conftest import BAKE, REGION, admin
from helpers import make_ami
from timing_helpers import timing_standin

# A burst stops at the first refusal; this only bounds a burst that never stops.
MAX_BURST = 2000
# Bound waits that have gone wrong: a line is written within milliseconds of the answer.
LINE_TIMEOUT_SECONDS = 30
HTTP_TIMEOUT_SECONDS = 30


class CallLog:
    """A stand-in's endpoint and its --call-log file, read from a mark on."""

    def __init__(self, endpoint: str, path: Path) -> None:
        self.endpoint = endpoint
        self.path = path
        self.mark = 0

    def lines(self) -> list[dict]:
        """The lines written since the last `start()`."""
        text = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        return [json.loads(line) for line in text.splitlines()[self.mark:]]

    def start(self) -> None:
        self.mark += len(self.lines())

    def client(self, service: str, key: str = BAKE, attempts: int = 1):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=key,
            aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
        )


@pytest.fixture(scope="module")
def default_log(tmp_path_factory) -> Iterator[CallLog]:
    directory = tmp_path_factory.mktemp("call-log")
    path = directory / "calls.jsonl"
    with timing_standin(directory, "--call-log", str(path)) as endpoint:
        yield CallLog(endpoint, path)


@pytest.fixture
def call_log(default_log) -> CallLog:
    admin(default_log.endpoint, "POST", "reset")
    default_log.start()
    return default_log


def test_one_line_per_request_with_its_answer(call_log):
    ec2 = call_log.client("ec2")
    image_id, _ = make_ami(ec2, snapshots=1)
    call_log.start()
    ec2.describe_images(ImageIds=[image_id, image_id],
                        Filters=[{"Name": "state", "Values": ["available", "pending"]}])
    with pytest.raises(ClientError):
        ec2.describe_images(ImageIds=["ami-0123456789abcdef2"])
    with pytest.raises(ClientError):
        call_log.client("kms").describe_key(KeyId="alias/missing")
    call_log.client("sts").get_caller_identity()

    lines = call_log.lines()
    assert [line["action"] for line in lines] == [
        "DescribeImages", "DescribeImages", "DescribeKey", "GetCallerIdentity"]
    polled, missing, kms, sts = lines
    assert polled["account"] == BAKE and polled["region"] == REGION and polled["service"] == "ec2"
    assert polled["status"] == 200 and polled["error"] is None and polled["attempt"] == 1
    assert polled["image_ids"] == 2 and polled["filter_values"] == {"state": 2}
    assert isinstance(polled["t"], float) and polled["t"] <= missing["t"]
    # The error code of each service's own error format: EC2 XML, JSON `__type`.
    assert (missing["status"], missing["error"]) == (400, "InvalidAMIID.NotFound")
    assert missing["image_ids"] == 1 and missing["filter_values"] == {}
    assert (kms["service"], kms["status"], kms["error"]) == ("kms", 400, "NotFoundException")
    assert (sts["service"], sts["status"], sts["error"]) == ("sts", 200, None)
    # The admin requests (reset) are not AWS requests, and are not in the file.
    assert all(line["action"] for line in lines)


def test_a_retried_call_shows_its_attempts(call_log):
    admin(call_log.endpoint, "POST", "faults", {
        "action": "DescribeImages", "error_code": "RequestLimitExceeded", "http_status": 503, "count": 1})
    call_log.client("ec2", attempts=3).describe_images(Owners=["self"])

    first, retry = call_log.lines()
    assert (first["status"], first["error"], first["attempt"], first["faulted"]) == (
        503, "RequestLimitExceeded", 1, True)
    assert (retry["status"], retry["error"], retry["attempt"]) == (200, None, 2)


def test_a_dropped_connection_has_no_status(call_log):
    admin(call_log.endpoint, "POST", "faults", {"action": "DescribeImages", "drop_connection": True, "count": 1})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        call_log.client("ec2").describe_images(Owners=["self"])

    # The stand-in writes the line once it has dropped the connection, so the
    # client may see the reset first.
    deadline = time.monotonic() + LINE_TIMEOUT_SECONDS
    while not call_log.lines() and time.monotonic() < deadline:
        time.sleep(0.05)
    (dropped,) = call_log.lines()
    assert (dropped["action"], dropped["status"], dropped["error"], dropped["faulted"]) == (
        "DescribeImages", None, None, True)


def test_strict_mode_writes_it_and_counts_throttles(tmp_path, accounts):
    """With --strict and --ec2-token-buckets, a RequestLimitExceeded answer is a
    line like any other (and the admin call log cannot be read: 404)."""
    path = tmp_path / "calls.jsonl"
    with timing_standin(tmp_path, "--strict", "--ec2-token-buckets", "--call-log", str(path)) as endpoint:
        log = CallLog(endpoint, path)
        account = next(accounts)
        ec2 = log.client("ec2", key=account)
        for _ in range(MAX_BURST):
            try:
                ec2.describe_images(Owners=["self"])
            except ClientError as err:
                assert err.response["Error"]["Code"] == "RequestLimitExceeded", err
                break
        else:
            pytest.fail(f"no refusal in {MAX_BURST} calls")
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(f"{log.endpoint}/_standin/call_log", timeout=HTTP_TIMEOUT_SECONDS)
        assert excinfo.value.code == 404

        lines = log.lines()
    assert {line["account"] for line in lines} == {account}
    *admitted, refused = lines
    assert len(admitted) >= 100 and all(line["status"] == 200 for line in admitted)
    assert (refused["status"], refused["error"], refused["throttled"]) == (503, "RequestLimitExceeded", True)


def test_a_file_that_cannot_be_written_stops_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="exited early"):
        with timing_standin(tmp_path, "--call-log", str(tmp_path / "missing-dir" / "calls.jsonl")):
            pass
    assert not (tmp_path / "port").exists()
