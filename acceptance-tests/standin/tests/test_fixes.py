"""Error answers for missing resources, DeregisterImage with snapshots, RegisterImage mappings."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE
from helpers import ZONE, error_code, image, make_ami, tags_of

MISSING_AMI = "ami-0123456789abcdef0"
MISSING_SNAP = "snap-0123456789abcdef0"

MISSING_CALLS = {
    "DescribeImages": (lambda c: c.describe_images(ImageIds=[MISSING_AMI]), "InvalidAMIID.NotFound"),
    "DescribeImageAttribute": (lambda c: c.describe_image_attribute(
        ImageId=MISSING_AMI, Attribute="launchPermission"), "InvalidAMIID.NotFound"),
    "DescribeImageAttribute-malformed": (lambda c: c.describe_image_attribute(
        ImageId="not-an-ami", Attribute="launchPermission"), "InvalidAMIID.Malformed"),
    "ModifyImageAttribute": (lambda c: c.modify_image_attribute(
        ImageId=MISSING_AMI, LaunchPermission={"Add": [{"UserId": "222222222222"}]}), "InvalidAMIID.NotFound"),
    "DeregisterImage": (lambda c: c.deregister_image(ImageId=MISSING_AMI), "InvalidAMIID.NotFound"),
    "DescribeSnapshotAttribute": (lambda c: c.describe_snapshot_attribute(
        SnapshotId=MISSING_SNAP, Attribute="createVolumePermission"), "InvalidSnapshot.NotFound"),
    "ModifySnapshotAttribute": (lambda c: c.modify_snapshot_attribute(
        SnapshotId=MISSING_SNAP, CreateVolumePermission={"Add": [{"UserId": "222222222222"}]}),
        "InvalidSnapshot.NotFound"),
    "DeleteSnapshot": (lambda c: c.delete_snapshot(SnapshotId=MISSING_SNAP), "InvalidSnapshot.NotFound"),
    "CreateTags": (lambda c: c.create_tags(Resources=[MISSING_AMI], Tags=[{"Key": "k", "Value": "v"}]),
                   "InvalidAMIID.NotFound"),
    "DeleteTags-ami": (lambda c: c.delete_tags(Resources=[MISSING_AMI], Tags=[{"Key": "k"}]),
                       "InvalidAMIID.NotFound"),
    "DeleteTags-snapshot": (lambda c: c.delete_tags(Resources=[MISSING_SNAP], Tags=[{"Key": "k"}]),
                            "InvalidSnapshot.NotFound"),
}


@pytest.mark.parametrize("call", sorted(MISSING_CALLS))
def test_missing_resources_answer_ec2_errors(aws, call):
    """AWS EC2 API Reference, "Error codes": a missing AMI is InvalidAMIID.NotFound
    (a malformed id InvalidAMIID.Malformed), a missing snapshot InvalidSnapshot.NotFound,
    each a 400 with a message - never moto's HTTP 500 HTML page."""
    invoke, code = MISSING_CALLS[call]
    with pytest.raises(ClientError) as excinfo:
        invoke(aws("ec2", BAKE))
    assert error_code(excinfo) == code
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert excinfo.value.response["Error"].get("Message")


def test_describe_tags_of_missing_resource_is_empty(aws):
    """AWS EC2 API Reference, DescribeTags: filters that match nothing return no tags."""
    tags = aws("ec2", BAKE).describe_tags(Filters=[{"Name": "resource-id", "Values": [MISSING_AMI]}])
    assert tags["Tags"] == []


def test_deregister_with_delete_associated_snapshots(aws):
    """AWS EC2 API Reference, DeregisterImage, DeleteAssociatedSnapshots: the
    AMI's snapshots are deleted too, except one another AMI still uses."""
    ec2 = aws("ec2", BAKE)
    image_id, snaps = make_ami(ec2, name="first", snapshots=2)
    other = ec2.register_image(Name="second", RootDeviceName="/dev/sda1",
                               BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snaps[1]}}])
    result = ec2.deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
    assert {r["SnapshotId"]: r["ReturnCode"] for r in result["DeleteSnapshotResults"]} == {
        snaps[0]: "success", snaps[1]: "skipped"}
    remaining = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert remaining == {snaps[1]}
    assert image(ec2, other["ImageId"])["State"] == "available"


def test_deregister_without_flag_keeps_snapshots(aws):
    """AWS EC2 API Reference, DeregisterImage: by default snapshots are kept."""
    ec2 = aws("ec2", BAKE)
    image_id, snaps = make_ami(ec2, snapshots=2)
    ec2.deregister_image(ImageId=image_id)
    assert {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]} == set(snaps)


def test_delete_snapshot_in_use_by_registered_ami(aws):
    """AWS EC2 API Reference, DeleteSnapshot: a snapshot used by a registered AMI
    cannot be deleted (InvalidSnapshot.InUse) until the AMI is deregistered."""
    ec2 = aws("ec2", BAKE)
    image_id, snaps = make_ami(ec2, snapshots=1)
    with pytest.raises(ClientError) as excinfo:
        ec2.delete_snapshot(SnapshotId=snaps[0])
    assert error_code(excinfo) == "InvalidSnapshot.InUse"
    ec2.deregister_image(ImageId=image_id)
    ec2.delete_snapshot(SnapshotId=snaps[0])


def test_register_image_uses_block_device_mappings_and_tag_specifications(aws):
    """AWS EC2 API Reference, RegisterImage: BlockDeviceMapping.N.Ebs.SnapshotId
    backs the AMI with those snapshots; TagSpecifications tag image and snapshots."""
    ec2 = aws("ec2", BAKE)
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=20)
    snap = ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    image_id = ec2.register_image(
        Name="registered", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"SnapshotId": snap}}],
        TagSpecifications=[{"ResourceType": "image", "Tags": [{"Key": "a", "Value": "1"}]},
                           {"ResourceType": "snapshot", "Tags": [{"Key": "b", "Value": "2"}]}],
    )["ImageId"]
    registered = image(ec2, image_id)
    assert [(m["DeviceName"], m["Ebs"]["SnapshotId"], m["Ebs"]["VolumeSize"])
            for m in registered["BlockDeviceMappings"]] == [("/dev/xvda", snap, 20)]
    assert tags_of(registered) == {"a": "1"}
    assert tags_of(ec2.describe_snapshots(SnapshotIds=[snap])["Snapshots"][0]) == {"b": "2"}
    assert len(ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]) == 1  # no stray moto snapshot


def test_snapshot_of_encrypted_volume_keeps_its_key(aws):
    """AWS EBS User Guide, "Amazon EBS encryption": snapshots of encrypted volumes
    are encrypted with the volume's KMS key."""
    ec2 = aws("ec2", BAKE)
    key_arn = aws("kms", BAKE).create_key()["KeyMetadata"]["Arn"]
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=8, Encrypted=True, KmsKeyId=key_arn)
    snap = ec2.create_snapshot(VolumeId=volume["VolumeId"])
    described = ec2.describe_snapshots(SnapshotIds=[snap["SnapshotId"]])["Snapshots"][0]
    assert (described["Encrypted"], described["KmsKeyId"]) == (True, key_arn)
