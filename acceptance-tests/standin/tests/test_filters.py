"""DescribeImages filters the layer adds to moto."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import copy, error_code, make_ami, share


def ids(answer: dict) -> list[str]:
    return sorted(i["ImageId"] for i in answer["Images"])


def test_block_device_mapping_snapshot_id_finds_every_ami_using_a_snapshot(aws):
    """AWS EC2 API Reference, DescribeImages, Filters: `block-device-mapping.snapshot-id`
    is "the ID of the snapshot used for the Amazon EBS volume", so it selects each AMI
    whose block device mappings use that snapshot, and only those."""
    bake = aws("ec2", BAKE)
    first, snaps = make_ami(bake, name="first", snapshots=2)
    mappings = [{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snaps[1]}}]
    second = bake.register_image(Name="second", RootDeviceName="/dev/sda1",
                                 BlockDeviceMappings=mappings)["ImageId"]
    other, _ = make_ami(bake, name="other", snapshots=1)
    by = lambda snapshot: [{"Name": "block-device-mapping.snapshot-id", "Values": [snapshot]}]  # noqa: E731

    assert ids(bake.describe_images(Owners=["self"], Filters=by(snaps[0]))) == [first]
    assert ids(bake.describe_images(Owners=["self"], Filters=by(snaps[1]))) == sorted([first, second])
    assert ids(bake.describe_images(Owners=["self"], Filters=by("snap-0123456789abcdef0"))) == []
    bake.deregister_image(ImageId=first)
    assert ids(bake.describe_images(Owners=["self"], Filters=by(snaps[1]))) == [second]
    assert other not in ids(bake.describe_images(Owners=["self"], Filters=by(snaps[1])))


def test_snapshot_filter_applies_to_shared_images_as_the_viewer_sees_them(aws):
    """AWS EC2 API Reference, DescribeImages: filters apply to every image the caller
    may describe, shared ones included."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, snapshots=1)
    share(bake, image_id, snaps, PROD)
    filters = [{"Name": "block-device-mapping.snapshot-id", "Values": [snaps[0]]}]
    assert ids(prod.describe_images(ExecutableUsers=["self"], Filters=filters)) == [image_id]
    assert ids(prod.describe_images(Owners=["self"], Filters=filters)) == []


def test_block_device_mapping_encrypted_tells_encrypted_copies_from_plain_amis(aws, ctl):
    """AWS EC2 API Reference, DescribeImages, Filters: `block-device-mapping.encrypted`
    is "a Boolean that indicates whether the Amazon EBS volume is encrypted", so `true`
    selects the AMIs with an encrypted EBS volume (an encrypted copy) and `false` those
    with an unencrypted one."""
    ctl("POST", "config", {"copy_duration_seconds": 0})
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    source, snaps = make_ami(bake, snapshots=1)
    share(bake, source, snaps, PROD)
    encrypted = prod.copy_image(SourceImageId=source, SourceRegion=prod.meta.region_name,
                                Name="enc", Encrypted=True)["ImageId"]
    plain, _ = make_ami(prod, name="plain", snapshots=1)
    by = lambda value: [{"Name": "block-device-mapping.encrypted", "Values": [value]}]  # noqa: E731
    assert ids(prod.describe_images(Owners=["self"], Filters=by("true"))) == [encrypted]
    assert ids(prod.describe_images(Owners=["self"], Filters=by("false"))) == [plain]


def unknown_ami(n: int) -> str:
    return f"ami-{n:017x}"


def test_owners_self_with_image_id_filter_returns_exactly_the_callers_listed_images(aws, ctl):
    """AWS EC2 API Reference, DescribeImages: Owners `self` scopes the answer to the
    caller's AMIs; the `image-id` filter keeps images whose id is one of its values
    ("Filter": values are ORed); State is pending|available|failed. A filter value
    that matches no image only matches nothing, so unknown ids add no error. This is
    how one call polls every in-flight copy of an account in a Region."""
    ctl("POST", "config", {"copy_duration_seconds": 600})
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    source, snaps = make_ami(bake, snapshots=1)
    share(bake, source, snaps, PROD)
    ctl("POST", "config", {"copy_duration_seconds": 0})
    done = [copy(prod, source, name=f"done-{i}") for i in range(3)]
    ctl("POST", "config", {"copy_duration_seconds": 600})
    pending = [copy(prod, source, name=f"pending-{i}") for i in range(8)]
    unlisted = copy(prod, source, name="unlisted")
    asked = pending + done + [source] + [unknown_ami(i) for i in range(30)]

    answer = prod.describe_images(Owners=["self"], Filters=[{"Name": "image-id", "Values": asked}])
    states = {i["ImageId"]: i["State"] for i in answer["Images"]}
    assert states == {**{i: "pending" for i in pending}, **{i: "available" for i in done}}
    assert unlisted not in states and source not in states  # not listed / not the caller's
    calls = [c for c in ctl("GET", "call_log")["calls"] if c["action"] == "DescribeImages"]
    assert calls[-1]["filter_values"] == {"image-id": len(asked)}


def test_image_ids_naming_an_unknown_ami_fail_the_whole_call(aws):
    """Error codes for the Amazon EC2 API, InvalidAMIID.NotFound: the specified AMI
    does not exist; AWS EC2 API Reference, DescribeImages (ImageIds): naming an AMI
    that does not exist is a fault, not a shorter answer. So one unknown id among
    known ones fails the call (moto answered the known ones), and the error names it."""
    bake = aws("ec2", BAKE)
    first, _ = make_ami(bake, name="first", snapshots=1)
    second, _ = make_ami(bake, name="second", snapshots=1)
    assert ids(bake.describe_images(ImageIds=[first, second])) == sorted([first, second])
    with pytest.raises(ClientError) as excinfo:
        bake.describe_images(ImageIds=[first, unknown_ami(7), second])
    assert error_code(excinfo) == "InvalidAMIID.NotFound"
    assert unknown_ami(7) in excinfo.value.response["Error"]["Message"]
    assert first not in excinfo.value.response["Error"]["Message"]
