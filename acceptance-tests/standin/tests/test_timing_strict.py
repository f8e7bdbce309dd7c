"""The timing flags with --strict: no admin route, so only AWS's own answers
show them, as they would against real accounts.

- EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API"
  (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html):
  a new AMI is NotFound for a while; a share reaches the grantee later.
- EC2 User Guide, "Copy an Amazon EC2 AMI"; EC2 API Reference, DescribeSnapshots
  (State, Progress): a copy is pending while its snapshots progress to 100%.
- Amazon EC2 Developer Guide, "Request throttling for the Amazon EC2 API"
  (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html):
  buckets are per account and Region, whoever in the account calls.

Each test starts its own strict stand-in, so its seeded delays start from
the first draw (timing_helpers).
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from conftest import REGION
from helpers import make_ami, share
from strict_helpers import allow, user
from strict_helpers import client as principal_client
from timing_helpers import LAG_SECONDS, SEED, client, error_of, eventually, found, timing_standin

pytestmark = pytest.mark.strict

COPY_SECONDS = (3.0, 4.0)  # longer than the lag, so the copy is still pending when first seen


def _factory(endpoint):
    """strict_helpers' client factory signature, against this stand-in."""
    import boto3
    from botocore.config import Config

    def make(service, key, secret="x", token=None, region=REGION, retries=1, validate=True):
        return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                            aws_secret_access_key=secret, aws_session_token=token,
                            config=Config(retries={"mode": "standard", "total_max_attempts": retries},
                                          parameter_validation=validate))

    return make


def test_lag_and_copy_duration_in_strict_mode(tmp_path, accounts):
    owner, grantee = next(accounts), next(accounts)
    flags = ("--strict", "--consistency-lag", str(LAG_SECONDS), "--copy-duration",
             f"{COPY_SECONDS[0]}-{COPY_SECONDS[1]}", "--seed", str(SEED))
    with timing_standin(tmp_path, *flags) as endpoint:
        bake, prod = client(endpoint, "ec2", owner), client(endpoint, "ec2", grantee)
        image_id, snaps = make_ami(bake)
        assert error_of(bake.describe_images, ImageIds=[image_id]) == ("InvalidAMIID.NotFound", 400)
        share(bake, image_id, snaps, grantee)
        assert prod.describe_images(ExecutableUsers=["self"])["Images"] == []
        eventually(lambda: prod.describe_images(ExecutableUsers=["self"])["Images"], "the share")
        eventually(lambda: found(prod.describe_snapshots, "InvalidSnapshot.NotFound", SnapshotIds=snaps),
                   "the snapshots' share")

        copy_id = prod.copy_image(SourceImageId=image_id, SourceRegion=REGION, Name="copy")["ImageId"]
        assert error_of(prod.describe_images, ImageIds=[copy_id])[0] == "InvalidAMIID.NotFound"
        started = time.monotonic()
        first = eventually(lambda: found(prod.describe_images, "InvalidAMIID.NotFound", ImageIds=[copy_id]),
                           copy_id)["Images"][0]
        assert first["State"] == "pending"
        copy_snaps = [m["Ebs"]["SnapshotId"] for m in first["BlockDeviceMappings"]]
        progress: list[int] = []

        def ended():
            image = prod.describe_images(ImageIds=[copy_id])["Images"][0]
            listed = found(prod.describe_snapshots, "InvalidSnapshot.NotFound", SnapshotIds=copy_snaps)
            if listed:
                progress.append(min(int(s["Progress"].rstrip("%")) for s in listed["Snapshots"]))
            return image["State"] != "pending" and (image, listed)

        image, listed = eventually(ended, "the copy")
        assert image["State"] == "available"
        assert {(s["State"], s["Progress"]) for s in listed["Snapshots"]} == {("completed", "100%")}
        # Pending for at least the shortest duration, with progress never going back.
        assert time.monotonic() - started >= COPY_SECONDS[0] - LAG_SECONDS
        assert progress == sorted(progress) and progress[0] < 100 and progress[-1] == 100


def test_token_buckets_in_strict_mode(tmp_path, accounts):
    account = next(accounts)
    with timing_standin(tmp_path, "--strict", "--ec2-token-buckets") as endpoint:
        make = _factory(endpoint)
        reader = user(make, account, "reader", allow("ec2:DescribeImages"))
        # The bucket is the account's, whoever in it calls: root and its IAM user
        # take turns and together get one bucket's worth, not two.
        callers = [client(endpoint, "ec2", account), principal_client(make, "ec2", reader)]
        successes = 0
        started = time.monotonic()
        while True:
            try:
                callers[successes % 2].describe_images(Owners=["self"])
            except ClientError as err:
                assert (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]) \
                    == ("RequestLimitExceeded", 503)
                break
            successes += 1
            assert successes < 2000, "never throttled"
        assert 100 <= successes <= 100 + 20 * (time.monotonic() - started) + 1
