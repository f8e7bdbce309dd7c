"""Strict mode: block public access for AMIs and snapshots is on in every
account until switched off through the EC2 API."""

from __future__ import annotations

import pytest

from helpers import make_ami
from strict_helpers import allow, client, refused, user

pytestmark = pytest.mark.strict


def test_strict_image_block_public_access_is_on_and_refuses_public_sharing(strict_aws, accounts):
    """EC2 User Guide, "Understand block public access for AMIs": enabled by
    default for new accounts; while enabled, making an AMI public fails
    (OperationNotPermitted, "You can't publicly share this image because block
    public access for AMIs is enabled for this account...", the error AWS
    answers), in both ModifyImageAttribute forms; sharing with an account
    still works. DisableImageBlockPublicAccess answers `unblocked`
    (API Reference), after which the AMI can be made public."""
    account, partner = next(accounts), next(accounts)
    ec2 = strict_aws("ec2", account)
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing"
    image_id, _ = make_ami(ec2, name="bpa-image", snapshots=1)
    code, message, _ = refused(ec2.modify_image_attribute, ImageId=image_id,
                               LaunchPermission={"Add": [{"Group": "all"}]})
    assert code == "OperationNotPermitted" and "block public access for AMIs is enabled" in message
    assert refused(ec2.modify_image_attribute, ImageId=image_id, Attribute="launchPermission",
                   OperationType="add", UserGroups=["all"])[0] == "OperationNotPermitted"
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": partner}]})
    assert ec2.disable_image_block_public_access()["ImageBlockPublicAccessState"] == "unblocked"
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "unblocked"
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["Public"] is True
    assert ec2.enable_image_block_public_access(ImageBlockPublicAccessState="block-new-sharing")[
        "ImageBlockPublicAccessState"] == "block-new-sharing"


def test_strict_block_public_access_is_per_account_and_region(strict_aws, accounts):
    """EC2 User Guide, "Understand block public access for AMIs": the setting
    is per account and per Region."""
    account, other = next(accounts), next(accounts)
    strict_aws("ec2", account).disable_image_block_public_access()
    assert strict_aws("ec2", account, region="us-east-1").get_image_block_public_access_state()[
        "ImageBlockPublicAccessState"] == "block-new-sharing"
    assert strict_aws("ec2", other).get_image_block_public_access_state()[
        "ImageBlockPublicAccessState"] == "block-new-sharing"


def test_strict_snapshot_block_public_access(strict_aws, accounts):
    """EBS User Guide, "Block public access for Amazon EBS snapshots", and
    EnableSnapshotBlockPublicAccess (State block-all-sharing, block-new-sharing
    or unblocked) / GetSnapshotBlockPublicAccessState: while blocked, sharing a
    snapshot with group all (createVolumePermission) fails; private sharing
    never does. AWS documents no error code; the stand-in answers
    OperationNotPermitted, as for AMIs."""
    account, partner = next(accounts), next(accounts)
    ec2 = strict_aws("ec2", account)
    assert ec2.get_snapshot_block_public_access_state()["State"] == "block-new-sharing"
    _, (snap_id,) = make_ami(ec2, name="bpa-snapshot", snapshots=1)
    public = {"SnapshotId": snap_id, "Attribute": "createVolumePermission",
              "CreateVolumePermission": {"Add": [{"Group": "all"}]}}
    assert refused(ec2.modify_snapshot_attribute, **public)[0] == "OperationNotPermitted"
    assert refused(ec2.modify_snapshot_attribute, SnapshotId=snap_id, Attribute="createVolumePermission",
                   OperationType="add", GroupNames=["all"])[0] == "OperationNotPermitted"
    ec2.modify_snapshot_attribute(SnapshotId=snap_id, Attribute="createVolumePermission",
                                  OperationType="add", UserIds=[partner])
    assert ec2.enable_snapshot_block_public_access(State="block-all-sharing")["State"] == "block-all-sharing"
    assert refused(ec2.modify_snapshot_attribute, **public)[0] == "OperationNotPermitted"
    assert ec2.disable_snapshot_block_public_access()["State"] == "unblocked"
    ec2.modify_snapshot_attribute(**public)


def test_strict_block_public_access_actions_need_permission(strict_aws, accounts):
    """Service Authorization Reference, Amazon EC2: the block public access
    actions have no resource type (Resource `*`) and are evaluated like any
    other; DryRun answers DryRunOperation when allowed."""
    account = next(accounts)
    reader = user(strict_aws, account, "reader", allow("ec2:GetImageBlockPublicAccessState"))
    ec2 = client(strict_aws, "ec2", reader)
    assert ec2.get_image_block_public_access_state()["ImageBlockPublicAccessState"] == "block-new-sharing"
    code, message, _ = refused(ec2.disable_image_block_public_access)
    assert code == "UnauthorizedOperation" and "ec2:DisableImageBlockPublicAccess on resource: *" in message
    assert refused(strict_aws("ec2", account).disable_image_block_public_access, DryRun=True)[0] == \
        "DryRunOperation"
    assert strict_aws("ec2", account).get_image_block_public_access_state()["ImageBlockPublicAccessState"] == \
        "block-new-sharing"
