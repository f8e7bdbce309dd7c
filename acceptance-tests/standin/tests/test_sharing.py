"""Cross-account visibility of shared AMIs and snapshots, and snapshot permissions."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, STAGE
from helpers import error_code, image, make_ami, share, tags_of

ORG = "arn:aws:organizations::111111111111:organization/o-abc123"
OU = "arn:aws:organizations::111111111111:ou/o-abc123/ou-ab12-prod"


def test_shared_ami_visible_by_id_and_executable_users_without_owner_tags(aws):
    """AWS EC2 User Guide, "Share an AMI with specific AWS accounts": the AMI is
    describable by the account it is shared with (DescribeImages by id and with
    ExecutableUsers=self); "Tag your Amazon EC2 resources": tags are not shared."""
    bake, prod, stage = aws("ec2", BAKE), aws("ec2", PROD), aws("ec2", STAGE)
    image_id, snaps = make_ami(bake, tags={"Team": "core"})
    with pytest.raises(ClientError) as excinfo:
        prod.describe_images(ImageIds=[image_id])
    assert error_code(excinfo) == "InvalidAMIID.NotFound"
    share(bake, image_id, snaps, PROD)

    seen = image(prod, image_id)
    assert seen["OwnerId"] == BAKE and seen["Name"] == "app-1"
    assert "Tags" not in seen or seen["Tags"] == []
    assert tags_of(image(bake, image_id)) == {"Team": "core"}
    assert [i["ImageId"] for i in prod.describe_images(ExecutableUsers=["self"])["Images"]] == [image_id]
    assert prod.describe_images(Owners=["self"])["Images"] == []
    assert [i["ImageId"] for i in prod.describe_images(Owners=[BAKE])["Images"]] == [image_id]
    with pytest.raises(ClientError):
        stage.describe_images(ImageIds=[image_id])

    bake.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"UserId": PROD}]})
    assert prod.describe_images(ExecutableUsers=["self"])["Images"] == []


def test_tag_filter_does_not_match_owner_tags_from_another_account(aws):
    """AWS EC2 User Guide, "Tag your Amazon EC2 resources": another account's
    tags are invisible, so a tag filter cannot select the shared AMI by them."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, tags={"Team": "core"})
    share(bake, image_id, snaps, PROD)
    flt = [{"Name": "tag:Team", "Values": ["core"]}]
    assert prod.describe_images(ExecutableUsers=["self"], Filters=flt)["Images"] == []
    assert len(bake.describe_images(Owners=["self"], Filters=flt)["Images"]) == 1


def test_shared_by_organization_and_ou(aws, ctl):
    """AWS EC2 User Guide, "Share an AMI with organizations or OUs": accounts in
    the organization or OU may launch it. The stand-in learns membership via
    POST /_standin/org."""
    bake, prod, stage = aws("ec2", BAKE), aws("ec2", PROD), aws("ec2", STAGE)
    org_image, _ = make_ami(bake, name="by-org")
    ou_image, _ = make_ami(bake, name="by-ou")
    bake.modify_image_attribute(ImageId=org_image, LaunchPermission={"Add": [{"OrganizationArn": ORG}]})
    bake.modify_image_attribute(ImageId=ou_image, LaunchPermission={"Add": [{"OrganizationalUnitArn": OU}]})
    ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "ou_arns": [OU]})
    ctl("POST", "org", {"account": STAGE, "organization_arn": ORG, "ou_arns": []})

    assert {i["ImageId"] for i in prod.describe_images(ExecutableUsers=["self"])["Images"]} == {org_image, ou_image}
    assert {i["ImageId"] for i in stage.describe_images(ExecutableUsers=["self"])["Images"]} == {org_image}
    with pytest.raises(ClientError):
        stage.describe_images(ImageIds=[ou_image])


def test_shared_snapshot_describable_by_id_and_restorable_by_self(aws):
    """AWS EC2 API Reference, DescribeSnapshots: snapshots shared through
    createVolumePermission are returned by id and by RestorableByUserIds=self,
    without the owner's tags."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    _, snaps = make_ami(bake, snapshots=1)
    bake.create_tags(Resources=snaps, Tags=[{"Key": "Team", "Value": "core"}])
    with pytest.raises(ClientError) as excinfo:
        prod.describe_snapshots(SnapshotIds=snaps)
    assert error_code(excinfo) == "InvalidSnapshot.NotFound"

    bake.modify_snapshot_attribute(SnapshotId=snaps[0], Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[PROD])
    seen = prod.describe_snapshots(SnapshotIds=snaps)["Snapshots"][0]
    assert seen["OwnerId"] == BAKE and seen.get("Tags", []) == []
    assert [s["SnapshotId"] for s in prod.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]] == snaps
    assert prod.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


@pytest.mark.parametrize("form", ["operation_type", "structured"])
def test_modify_snapshot_attribute_both_request_forms(aws, form):
    """AWS EC2 API Reference, ModifySnapshotAttribute: createVolumePermission is
    changed with OperationType + UserId.N, or with CreateVolumePermission.Add.N /
    .Remove.N; DescribeSnapshotAttribute reports the result."""
    bake = aws("ec2", BAKE)
    _, (snap,) = make_ami(bake, snapshots=1)

    def change(op: str) -> None:
        if form == "operation_type":
            bake.modify_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission",
                                           OperationType=op, UserIds=[PROD, STAGE])
        else:
            key = "Add" if op == "add" else "Remove"
            bake.modify_snapshot_attribute(SnapshotId=snap, CreateVolumePermission={
                key: [{"UserId": PROD}, {"UserId": STAGE}]})

    def users() -> set[str]:
        perms = bake.describe_snapshot_attribute(SnapshotId=snap, Attribute="createVolumePermission")
        return {p["UserId"] for p in perms["CreateVolumePermissions"] if "UserId" in p}

    change("add")
    assert users() == {PROD, STAGE}
    change("remove")
    assert users() == set()


def test_snapshot_encrypted_with_aws_managed_key_cannot_be_shared(aws):
    """AWS EC2 User Guide, "Share an Amazon EBS snapshot": snapshots encrypted
    with the AWS managed key cannot be shared (InvalidParameter)."""
    bake = aws("ec2", BAKE)
    source, _ = make_ami(bake, snapshots=1)
    encrypted = bake.copy_image(SourceImageId=source, SourceRegion="eu-west-1",
                                Name="enc-default", Encrypted=True)["ImageId"]
    snap = image(bake, encrypted)["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    with pytest.raises(ClientError) as excinfo:
        bake.modify_snapshot_attribute(SnapshotId=snap, CreateVolumePermission={"Add": [{"UserId": PROD}]})
    assert error_code(excinfo) == "InvalidParameter"
