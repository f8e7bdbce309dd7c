"""Copy timing: pending with snapshot progress, then available or failed."""

from __future__ import annotations

from conftest import PROD, REGION
from helpers import image, wait_state


def start_copy(ec2, source: str, name: str = "copy") -> str:
    return ec2.copy_image(SourceImageId=source, SourceRegion=REGION, Name=name, Encrypted=True)["ImageId"]


def test_copy_is_pending_with_progress_then_available(aws, ctl, shared_source):
    """AWS EC2 API Reference, DescribeImages (State pending|available) and
    DescribeSnapshots (State pending|completed, Progress as a percentage): a copy
    stays pending for the configured duration while its snapshots progress."""
    # The pending checks must run within the copy's duration: 5 s leaves a busy
    # machine ample room for the three calls after CopyImage.
    ctl("POST", "config", {"copy_duration_seconds": 5.0})
    prod = aws("ec2", PROD)
    copy_id = start_copy(prod, shared_source)
    pending = image(prod, copy_id)
    assert pending["State"] == "pending"
    snap_ids = [m["Ebs"]["SnapshotId"] for m in pending["BlockDeviceMappings"]]
    snaps = prod.describe_snapshots(SnapshotIds=snap_ids)["Snapshots"]
    assert {s["State"] for s in snaps} == {"pending"}
    assert all(s["Progress"].endswith("%") and int(s["Progress"][:-1]) < 100 for s in snaps)

    wait_state(prod, copy_id, "available")
    done = prod.describe_snapshots(SnapshotIds=snap_ids)["Snapshots"]
    assert {(s["State"], s["Progress"]) for s in done} == {("completed", "100%")}


def test_copy_duration_is_configurable(aws, ctl, shared_source):
    """Contract: POST /_standin/config copy_duration_seconds (default 0.5 s)."""
    assert ctl("GET", "config")["copy_duration_seconds"] == 0.5
    ctl("POST", "config", {"copy_duration_seconds": 0})
    prod = aws("ec2", PROD)
    assert image(prod, start_copy(prod, shared_source))["State"] == "available"


def test_fail_copy_by_image_id(aws, ctl, shared_source):
    """AWS EC2 API Reference, DescribeImages: a failed image has State `failed`
    and a StateReason (Code, Message); its snapshots end in state `error`."""
    ctl("POST", "config", {"copy_duration_seconds": 30})
    prod = aws("ec2", PROD)
    copy_id = start_copy(prod, shared_source)
    ctl("POST", "fail_copy", {"image_id": copy_id, "reason": "Copy image failed with an internal error"})
    failed = image(prod, copy_id)
    assert failed["State"] == "failed"
    assert failed["StateReason"] == {"Code": "Server.InternalError",
                                     "Message": "Copy image failed with an internal error"}
    snap_ids = [m["Ebs"]["SnapshotId"] for m in failed["BlockDeviceMappings"]]
    snaps = prod.describe_snapshots(SnapshotIds=snap_ids)["Snapshots"]
    assert {(s["State"], s.get("StateMessage")) for s in snaps} == {
        ("error", "Copy image failed with an internal error")}


def test_fail_next_copy(aws, ctl, shared_source):
    """Contract: fail_copy {"next": true} makes only the next CopyImage end failed."""
    ctl("POST", "fail_copy", {"next": True, "reason": "quota", "code": "Client.InternalError"})
    prod = aws("ec2", PROD)
    first = wait_state(prod, start_copy(prod, shared_source, "one"), "failed")
    assert first["StateReason"] == {"Code": "Client.InternalError", "Message": "quota"}
    wait_state(prod, start_copy(prod, shared_source, "two"), "available")


def test_deregistering_a_pending_copy_cancels_it(aws, ctl, shared_source):
    """AWS EC2 User Guide, "Copy an Amazon EC2 AMI": deregistering a pending copy
    stops it; the copy is gone from DescribeImages (Owners=self)."""
    ctl("POST", "config", {"copy_duration_seconds": 30})
    prod = aws("ec2", PROD)
    copy_id = start_copy(prod, shared_source)
    prod.deregister_image(ImageId=copy_id, DeleteAssociatedSnapshots=True)
    assert prod.describe_images(Owners=["self"])["Images"] == []
    assert prod.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
