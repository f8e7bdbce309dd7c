"""The concurrent snapshot-copy quota: per account and destination Region, each
snapshot of a pending CopyImage holds one slot until the copy ends."""

from __future__ import annotations

import urllib.error

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, REGION, STAGE
from helpers import copy, error_code, make_ami, owned_counts, share, wait_state

OTHER_REGION = "us-east-1"
# Long enough that no copy started by a test ends while the test still needs it
# pending, even on a busy machine; the tests end copies themselves when they must.
HOLD_SECONDS = 600


@pytest.fixture
def shared_source(aws):
    """A bake-account AMI with two snapshots, shared with PROD and STAGE: each copy
    of it is two snapshot copies."""
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, snapshots=2)
    share(bake, image_id, snaps, PROD)
    share(bake, image_id, snaps, STAGE)
    return image_id


def key(account: str, region: str = REGION) -> str:
    return f"{account}/{region}"


def test_default_limit_is_twenty_and_the_twenty_first_snapshot_copy_is_refused(aws, ctl, shared_source):
    """Amazon EBS User Guide, "Quotas for Amazon EBS": concurrent snapshot copies per
    destination Region, default 20. Amazon EC2 User Guide, "How Amazon EC2 AMI copy
    works": each backing snapshot of an EBS-backed AMI is copied to a new snapshot, so
    ten copies of a two-snapshot AMI fill the quota. "Error codes for the Amazon EC2
    API": ResourceLimitExceeded is the error for too many snapshot copies in progress.
    The refused call creates nothing: no AMI, no snapshot, the name stays free."""
    assert ctl("GET", "config")["concurrent_snapshot_copies"] == 20
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS})
    prod = aws("ec2", PROD)
    first = [copy(prod, shared_source, name=f"copy-{i}") for i in range(10)]
    before = owned_counts(prod)
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="one-too-many")
    assert error_code(excinfo) == "ResourceLimitExceeded"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "snapshot copies" in excinfo.value.response["Error"]["Message"]
    assert owned_counts(prod) == before == (10, 20)
    quota = ctl("GET", "copy_quota")
    assert quota["limit"] == 20
    assert quota["in_flight"][key(PROD)] == 20 and quota["peak"][key(PROD)] == 20
    assert quota["refused"][key(PROD)] == 1

    # A copy that ends (here: fails) frees its two slots; the name was never taken.
    ctl("POST", "fail_copy", {"image_id": first[0], "reason": "freed for the test"})
    assert copy(prod, shared_source, name="one-too-many").startswith("ami-")


def test_a_refused_copy_records_no_client_token(aws, ctl, shared_source):
    """Amazon EC2 Developer Guide, "Ensuring idempotency": a token belongs to a request
    that succeeded; "Error codes for the Amazon EC2 API": ResourceLimitExceeded. A call
    refused for the quota leaves its token unused, so the same call succeeds once there
    is room, and a retry of that success answers the same AMI even at the limit."""
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS, "concurrent_snapshot_copies": 2})
    prod = aws("ec2", PROD)
    holder = copy(prod, shared_source, name="holder")
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="tokened", ClientToken="token-1")
    assert error_code(excinfo) == "ResourceLimitExceeded"
    ctl("POST", "fail_copy", {"image_id": holder, "reason": "freed for the test"})
    made = copy(prod, shared_source, name="tokened", ClientToken="token-1")
    assert made != holder
    # At the limit again (the new copy holds both slots), the retry creates nothing.
    assert copy(prod, shared_source, name="tokened", ClientToken="token-1") == made
    assert owned_counts(prod) == (2, 4)


def test_deregistering_a_pending_copy_frees_its_slots(aws, ctl, shared_source):
    """Amazon EC2 User Guide, "Copy an Amazon EC2 AMI": deregistering a pending copy
    stops it; "Quotas for Amazon EBS": only copies in progress count, so its snapshot
    copies no longer hold the quota."""
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS, "concurrent_snapshot_copies": 2})
    prod = aws("ec2", PROD)
    pending = copy(prod, shared_source, name="pending")
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="waiting")
    assert error_code(excinfo) == "ResourceLimitExceeded"
    prod.deregister_image(ImageId=pending, DeleteAssociatedSnapshots=True)
    assert copy(prod, shared_source, name="waiting").startswith("ami-")


def test_a_copy_that_completes_frees_its_slots(aws, ctl, shared_source):
    """Amazon EBS User Guide, "Quotas for Amazon EBS": the quota counts concurrent
    copies, so a copy that has completed (AMI available, snapshots completed) no
    longer holds slots."""
    # The second CopyImage must come while the first is still pending: 10 s leaves a
    # busy machine ample room for one call, and the wait below is bounded generously.
    ctl("POST", "config", {"copy_duration_seconds": 10, "concurrent_snapshot_copies": 2})
    prod = aws("ec2", PROD)
    first = copy(prod, shared_source, name="first")
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="second")
    assert error_code(excinfo) == "ResourceLimitExceeded"
    wait_state(prod, first, "available", timeout=120)
    assert copy(prod, shared_source, name="second").startswith("ami-")
    assert ctl("GET", "copy_quota")["in_flight"][key(PROD)] == 2


def test_quota_is_per_account_and_destination_region(aws, ctl, shared_source):
    """Amazon EBS User Guide, "Quotas for Amazon EBS": quotas are per account and,
    unless noted, per Region; this one counts copies into one destination Region.
    CopyImage (EC2 API Reference) runs in the destination Region, so a copy from
    eu-west-1 made in us-east-1 counts there, and another account has its own quota."""
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS, "concurrent_snapshot_copies": 2})
    copy(aws("ec2", PROD), shared_source, name="prod-here")
    copy(aws("ec2", PROD, region=OTHER_REGION), shared_source, name="prod-there")
    copy(aws("ec2", STAGE), shared_source, name="stage-here")
    with pytest.raises(ClientError) as excinfo:
        copy(aws("ec2", PROD), shared_source, name="prod-here-again")
    assert error_code(excinfo) == "ResourceLimitExceeded"
    quota = ctl("GET", "copy_quota")
    assert quota["in_flight"] == {key(PROD): 2, key(PROD, OTHER_REGION): 2, key(STAGE): 2}
    assert quota["refused"] == {key(PROD): 1, key(PROD, OTHER_REGION): 0, key(STAGE): 0}


def test_limit_is_configurable_and_zero_or_null_means_unlimited(aws, ctl, shared_source):
    """Contract: POST /_standin/config concurrent_snapshot_copies sets the limit (an
    integer >= 0; 0 or null: no limit); GET /_standin/copy_quota reports it with the
    snapshot copies in flight now and the most ever in flight at once, per
    "ACCOUNT/REGION" (every key seen appears in all three maps)."""
    prod = aws("ec2", PROD)
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS})
    for limit in (0, None):
        assert ctl("POST", "config", {"concurrent_snapshot_copies": limit})["concurrent_snapshot_copies"] is None
    for i in range(11):
        copy(prod, shared_source, name=f"copy-{i}")
    quota = ctl("GET", "copy_quota")
    assert (quota["limit"], quota["in_flight"], quota["peak"]) == (None, {key(PROD): 22}, {key(PROD): 22})
    assert ctl("POST", "config", {"concurrent_snapshot_copies": 3})["concurrent_snapshot_copies"] == 3
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="over")
    assert error_code(excinfo) == "ResourceLimitExceeded"
    for bad in (-1, 2.5, "20", True):
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            ctl("POST", "config", {"concurrent_snapshot_copies": bad})
        assert excinfo.value.code == 400
    assert ctl("GET", "config")["concurrent_snapshot_copies"] == 3


def test_quota_counters_reset(aws, ctl, shared_source):
    """Contract: DELETE /_standin/copy_quota starts a new measurement (peaks become the
    copies in flight now, refusals zero); POST /_standin/reset forgets everything and
    puts the limit back to 20."""
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS, "concurrent_snapshot_copies": 4})
    prod = aws("ec2", PROD)
    first = copy(prod, shared_source, name="first")
    copy(prod, shared_source, name="second")
    with pytest.raises(ClientError):
        copy(prod, shared_source, name="third")
    ctl("POST", "fail_copy", {"image_id": first, "reason": "done"})
    quota = ctl("GET", "copy_quota")
    assert (quota["in_flight"], quota["peak"], quota["refused"]) == (
        {key(PROD): 2}, {key(PROD): 4}, {key(PROD): 1})
    quota = ctl("DELETE", "copy_quota")
    assert (quota["in_flight"], quota["peak"], quota["refused"]) == ({key(PROD): 2}, {key(PROD): 2}, {key(PROD): 0})
    ctl("POST", "reset")
    assert ctl("GET", "copy_quota") == {"limit": 20, "in_flight": {}, "peak": {}, "refused": {}}
