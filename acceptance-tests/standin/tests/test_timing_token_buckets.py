"""--ec2-token-buckets: EC2's request token buckets per account and Region.

Amazon EC2 Developer Guide, "Request throttling for the Amazon EC2 API"
(https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
each API action of an account in a Region has a token bucket; a request
takes one token, a bucket refills at a set rate up to its maximum, and a
request finding it empty fails with RequestLimitExceeded without acting.
Sizes by category: non-mutating 100 (20/s), unfiltered and unpaginated
non-mutating (DescribeSnapshots, ...) 50 (10/s), mutating 50 (5/s), and
uncategorized actions their own (CreateTags 100, 10/s; CopyImage 100, 1/s).

No test here asserts a speed: each burst counts its successes, which lie
between the bucket's size and that size plus what it refilled meanwhile.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import make_ami
from timing_helpers import client, error_of, reset, timing_standin

# A burst stops at the first refusal; this only bounds a burst that never stops.
MAX_BURST = 2000
NEXT_YEAR = (datetime.now(timezone.utc) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:00Z")


@pytest.fixture(scope="module")
def buckets_endpoint(tmp_path_factory):
    with timing_standin(tmp_path_factory.mktemp("buckets"), "--ec2-token-buckets") as endpoint:
        yield endpoint


@pytest.fixture
def throttled(buckets_endpoint):
    reset(buckets_endpoint)
    return lambda account=BAKE, region="eu-west-1": client(buckets_endpoint, "ec2", account, region)


def burst(call, **kwargs) -> tuple[int, float, ClientError]:
    """Call until refused: (successes, seconds taken, the refusal)."""
    started = time.monotonic()
    for successes in range(MAX_BURST):
        try:
            call(**kwargs)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "RequestLimitExceeded", err
            return successes, time.monotonic() - started, err
    pytest.fail(f"no refusal in {MAX_BURST} calls")


def assert_bucket(successes: int, seconds: float, capacity: int, refill: float) -> None:
    assert capacity <= successes <= capacity + refill * seconds + 1


def test_non_mutating_bucket_and_the_refusal(throttled):
    ec2 = throttled()
    successes, seconds, err = burst(ec2.describe_images, Owners=["self"])
    assert_bucket(successes, seconds, 100, 20)
    assert err.response["Error"]["Code"] == "RequestLimitExceeded"
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    # Limits are per action: another non-mutating action still has its tokens.
    assert ec2.describe_launch_templates()["LaunchTemplates"] == []
    # The bucket refills: a token comes back within a second (20 a second).
    deadline = time.monotonic() + 30
    while True:
        try:
            ec2.describe_images(Owners=["self"])
            break
        except ClientError as err:
            assert err.response["Error"]["Code"] == "RequestLimitExceeded"
            assert time.monotonic() < deadline, "the bucket never refilled"
            time.sleep(0.05)


def test_unfiltered_describe_snapshots_takes_from_the_smaller_bucket(throttled):
    ec2 = throttled()
    successes, seconds, err = burst(ec2.describe_snapshots)
    assert_bucket(successes, seconds, 50, 10)
    # Filtered or paginated requests take from the action's standard bucket.
    ec2.describe_snapshots(Filters=[{"Name": "status", "Values": ["completed"]}])
    ec2.describe_snapshots(OwnerIds=["self"], MaxResults=5)


def test_a_throttled_call_does_not_act(throttled):
    """Each CreateTags of the burst writes its own number; the refused one's is never written."""
    ec2 = throttled()
    image_id, _ = make_ami(ec2, snapshots=1)
    started = time.monotonic()
    for n in range(MAX_BURST):
        try:
            ec2.create_tags(Resources=[image_id], Tags=[{"Key": "n", "Value": str(n)}])
        except ClientError as err:
            assert err.response["Error"]["Code"] == "RequestLimitExceeded"
            break
    else:
        pytest.fail(f"no refusal in {MAX_BURST} calls")
    assert_bucket(n, time.monotonic() - started, 100, 10)
    tags = {t["Key"]: t["Value"] for t in ec2.describe_images(ImageIds=[image_id])["Images"][0]["Tags"]}
    assert tags == {"n": str(n - 1)}


def test_mutating_bucket_per_account_and_region(throttled):
    ec2 = throttled()
    image_id, _ = make_ami(ec2, snapshots=1)
    # EnableImageDeprecation is a mutating action of no other category: 50, 5 a second.
    successes, seconds, _ = burst(ec2.enable_image_deprecation, ImageId=image_id,
                                  DeprecateAt=NEXT_YEAR)
    assert_bucket(successes, seconds, 50, 5)
    # Another account, and the same account in another Region, have buckets of their own.
    other = throttled(PROD)
    other_image, _ = make_ami(other, snapshots=1)
    other.enable_image_deprecation(ImageId=other_image, DeprecateAt=NEXT_YEAR)
    elsewhere = throttled(BAKE, "us-west-2")
    assert error_of(elsewhere.enable_image_deprecation, ImageId="ami-12345678",
                    DeprecateAt=NEXT_YEAR)[0] == "InvalidAMIID.NotFound"


def _admitted_before_refusal(call, **kwargs) -> tuple[int, float]:
    started = time.monotonic()
    for admitted in range(MAX_BURST):
        try:
            call(**kwargs)
        except ClientError as err:
            if err.response["Error"]["Code"] == "RequestLimitExceeded":
                return admitted, time.monotonic() - started
    pytest.fail(f"no RequestLimitExceeded in {MAX_BURST} calls")


def test_copy_image_has_a_bucket_of_its_own_size(throttled):
    """CopyImage is an uncategorized action: 100 tokens, 1 a second. Every call
    takes a token, one EC2 then refuses (no such source AMI) included."""
    ec2 = throttled()
    admitted, seconds = _admitted_before_refusal(ec2.copy_image, SourceImageId="ami-12345678",
                                                 SourceRegion="eu-west-1", Name="nothing")
    assert_bucket(admitted, seconds, 100, 1)
