"""DeregisterImage DeleteAssociatedSnapshots results other than success and
skipped, armed with POST /_standin/snapshot_delete_result."""

from __future__ import annotations

import urllib.error

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE
from helpers import make_ami


def results(answer: dict) -> dict:
    return {r["SnapshotId"]: r["ReturnCode"] for r in answer["DeleteSnapshotResults"]}


def remaining(ec2) -> set[str]:
    return {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}


@pytest.mark.parametrize("code", ["missing-permissions", "internal-error", "client-error"])
def test_armed_code_is_reported_and_the_snapshot_stays(aws, ctl, code):
    """AWS EC2 API Reference, DeregisterImage DeleteSnapshotResults and the
    DeleteSnapshotReturnCode data type: ReturnCode is success, skipped,
    missing-permissions, internal-error or client-error; the last three mean the
    snapshot was not deleted. The AMI is deregistered all the same, the other
    snapshot is deleted (`success`), and the armed code is used once."""
    ec2 = aws("ec2", BAKE)
    image_id, snaps = make_ami(ec2, snapshots=2)
    armed = ctl("POST", "snapshot_delete_result", {"snapshot_id": snaps[0], "code": code})
    assert armed == {"results": {snaps[0]: {"code": code, "remaining": 1}}}
    answer = ec2.deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
    assert results(answer) == {snaps[0]: code, snaps[1]: "success"}
    assert remaining(ec2) == {snaps[0]}
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert ctl("GET", "snapshot_delete_result") == {"results": {}}


def test_count_covers_several_deregistrations_and_delete_clears(aws, ctl):
    """Contract: `count` (default 1) deletions of that snapshot fail; GET lists
    what is still armed; DELETE (and reset) disarm everything. A snapshot another
    AMI still uses is `skipped` without using up the armed result."""
    ec2 = aws("ec2", BAKE)
    first, snaps = make_ami(ec2, name="first", snapshots=1)
    second = ec2.register_image(Name="second", RootDeviceName="/dev/sda1", BlockDeviceMappings=[
        {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snaps[0]}}])["ImageId"]
    third = ec2.register_image(Name="third", RootDeviceName="/dev/sda1", BlockDeviceMappings=[
        {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snaps[0]}}])["ImageId"]
    ctl("POST", "snapshot_delete_result", {"snapshot_id": snaps[0], "code": "client-error", "count": 2})
    assert results(ec2.deregister_image(ImageId=first, DeleteAssociatedSnapshots=True)) == {
        snaps[0]: "skipped"}
    assert ctl("GET", "snapshot_delete_result")["results"][snaps[0]]["remaining"] == 2
    assert results(ec2.deregister_image(ImageId=second, DeleteAssociatedSnapshots=True)) == {
        snaps[0]: "skipped"}
    assert results(ec2.deregister_image(ImageId=third, DeleteAssociatedSnapshots=True)) == {
        snaps[0]: "client-error"}
    assert ctl("GET", "snapshot_delete_result")["results"][snaps[0]]["remaining"] == 1
    assert ctl("DELETE", "snapshot_delete_result") == {"results": {}}
    assert remaining(ec2) == {snaps[0]}


@pytest.mark.parametrize("body", [
    {"snapshot_id": "snap-0123456789abcdef0", "code": "success"},
    {"snapshot_id": "snap-0123456789abcdef0", "code": "skipped"},
    {"snapshot_id": "ami-0123456789abcdef0", "code": "internal-error"},
    {"snapshot_id": "snap-0123456789abcdef0", "code": "internal-error", "count": 0},
    {"snapshot_id": "snap-0123456789abcdef0", "code": "internal-error", "extra": 1},
])
def test_bad_hooks_are_refused(ctl, body):
    """Contract: only the three failure codes, a snapshot id and a count >= 1 (400 otherwise)."""
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        ctl("POST", "snapshot_delete_result", body)
    assert excinfo.value.code == 400


def test_protected_ami_deletes_no_snapshot_even_when_armed(aws, ctl):
    """AWS EC2 User Guide, "Protect an Amazon EC2 AMI from deregistration": the
    refused deregistration changes nothing, so no snapshot is deleted and an armed
    result stays armed."""
    ec2 = aws("ec2", BAKE)
    image_id, snaps = make_ami(ec2, snapshots=2)
    ctl("POST", "snapshot_delete_result", {"snapshot_id": snaps[0], "code": "internal-error"})
    ec2.enable_image_deregistration_protection(ImageId=image_id)
    with pytest.raises(ClientError):
        ec2.deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
    assert remaining(ec2) == set(snaps)
    assert ctl("GET", "snapshot_delete_result")["results"][snaps[0]]["remaining"] == 1
