"""DescribeImages filters the layer adds to moto."""

from __future__ import annotations

from conftest import BAKE, PROD

from helpers import make_ami, share


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
