"""CopyImage across accounts: permissions, encryption, idempotency, names and tags."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, REGION
from helpers import (
    copy,
    error_code,
    image,
    key_policy,
    make_ami,
    root,
    share,
    snapshots_of,
    statement,
    tags_of,
    wait_state,
)


def test_copy_needs_launch_permission(aws):
    """AWS EC2 User Guide, "Copy an Amazon EC2 AMI": only AMIs shared with you can
    be copied; an unshared AMI is InvalidAMIID.NotFound to other accounts."""
    image_id, _ = make_ami(aws("ec2", BAKE))
    with pytest.raises(ClientError) as excinfo:
        copy(aws("ec2", PROD), image_id)
    assert error_code(excinfo) == "InvalidAMIID.NotFound"


def test_copy_needs_create_volume_permission_on_every_snapshot(aws):
    """AWS EC2 User Guide, "Copy an Amazon EC2 AMI": a cross-account copy needs
    read access to every backing snapshot; without it AWS answers "You do not
    have permission to access the storage of this ami"."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, snapshots=2)
    share(bake, image_id, snaps, PROD, snapshots=False)
    bake.modify_snapshot_attribute(SnapshotId=snaps[0], Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[PROD])
    with pytest.raises(ClientError) as excinfo:
        copy(prod, image_id)
    assert error_code(excinfo) == "InvalidRequest"
    assert "permission to access the storage" in excinfo.value.response["Error"]["Message"]
    bake.modify_snapshot_attribute(SnapshotId=snaps[1], Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[PROD])
    assert copy(prod, image_id).startswith("ami-")


def test_copy_is_owned_by_caller_with_new_snapshots_and_source_fields(aws):
    """AWS EC2 API Reference, CopyImage / DescribeImages: the copy and its new
    snapshots belong to the caller; the image reports SourceImageId and SourceImageRegion."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, snapshots=2)
    share(bake, image_id, snaps, PROD)
    copy_id = copy(prod, image_id, Description="prod copy")
    copied = wait_state(prod, copy_id, "available")
    assert copied["OwnerId"] == PROD and copied["Description"] == "prod copy"
    assert copied["SourceImageId"] == image_id and copied["SourceImageRegion"] == REGION
    new_snaps = snapshots_of(prod, copy_id)
    assert len(new_snaps) == 2 and not {s["SnapshotId"] for s in new_snaps} & set(snaps)
    assert all(s["OwnerId"] == PROD and not s["Encrypted"] for s in new_snaps)


@pytest.mark.parametrize("form", ["id", "arn", "alias", "alias_arn"])
def test_encrypted_copy_uses_the_given_key_in_any_form(aws, form):
    """AWS EC2 API Reference, CopyImage, KmsKeyId: key id, key ARN, alias name or
    alias ARN; the new snapshots are encrypted and report the key's ARN."""
    bake, prod, kms = aws("ec2", BAKE), aws("ec2", PROD), aws("kms", PROD)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/ami", TargetKeyId=key["KeyId"])
    alias_arn = f"arn:aws:kms:{REGION}:{PROD}:alias/ami"
    given = {"id": key["KeyId"], "arn": key["Arn"], "alias": "alias/ami", "alias_arn": alias_arn}[form]
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    copy_id = copy(prod, image_id, Encrypted=True, KmsKeyId=given)
    wait_state(prod, copy_id, "available")
    assert [(s["Encrypted"], s["KmsKeyId"]) for s in snapshots_of(prod, copy_id)] == [(True, key["Arn"])] * 2


def test_encrypted_copy_without_key_uses_default_ebs_key(aws):
    """AWS EC2 API Reference, CopyImage, Encrypted: without KmsKeyId the
    account's default EBS key is used (GetEbsDefaultKmsKeyId reports its ARN)."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, snapshots=1)
    share(bake, image_id, snaps, PROD)
    copy_id = copy(prod, image_id, Encrypted=True)
    default_arn = prod.get_ebs_default_kms_key_id()["KmsKeyId"]
    assert default_arn.startswith(f"arn:aws:kms:{REGION}:{PROD}:key/")
    assert [s["KmsKeyId"] for s in snapshots_of(prod, copy_id)] == [default_arn]


def test_kms_key_without_encrypted_is_rejected(aws):
    """AWS EC2 API Reference, CopyImage, KmsKeyId: "If you specify a KMS key, you
    must also set the encrypted state to true" (InvalidParameterDependency)."""
    image_id, _ = make_ami(aws("ec2", BAKE))
    with pytest.raises(ClientError) as excinfo:
        copy(aws("ec2", BAKE), image_id, KmsKeyId="alias/ami")
    assert error_code(excinfo) == "InvalidParameterDependency"


@pytest.mark.parametrize("problem", ["missing", "disabled"])
def test_copy_with_unusable_key_fails(aws, problem):
    """AWS EC2 API Reference, CopyImage: the key must exist and be enabled. AWS
    accepts the request and the copy ends `failed` with a StateReason."""
    bake, prod, kms = aws("ec2", BAKE), aws("ec2", PROD), aws("kms", PROD)
    image_id, snaps = make_ami(bake, snapshots=1)
    share(bake, image_id, snaps, PROD)
    key_id = "alias/nope"
    if problem == "disabled":
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.disable_key(KeyId=key_id)
    copy_id = copy(prod, image_id, Encrypted=True, KmsKeyId=key_id)
    failed = wait_state(prod, copy_id, "failed")
    assert failed["StateReason"]["Code"] and failed["StateReason"]["Message"]


def test_duplicate_name_is_rejected(aws):
    """AWS EC2 API Reference, CopyImage, Name: unique per account and Region
    (InvalidAMIName.Duplicate)."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    copy(prod, image_id, name="same")
    with pytest.raises(ClientError) as excinfo:
        copy(prod, image_id, name="same")
    assert error_code(excinfo) == "InvalidAMIName.Duplicate"


def test_name_is_free_again_after_deregister(aws):
    """AWS EC2 User Guide, "Deregister an Amazon EC2 AMI": deregistering deletes the
    AMI, so its name no longer belongs to an AMI of the account and a new copy may
    take it (without Recycle Bin, which the stand-in does not model)."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    first = copy(prod, image_id, name="same")
    prod.deregister_image(ImageId=first, DeleteAssociatedSnapshots=True)
    second = copy(prod, image_id, name="same")
    assert second != first and image(prod, second)["Name"] == "same"


def test_tag_specifications_tag_image_and_snapshots(aws):
    """AWS EC2 API Reference, CopyImage, TagSpecifications: resource types
    `image` and `snapshot` tag the new AMI and every new snapshot at creation."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, tags={"Team": "core"})
    share(bake, image_id, snaps, PROD)
    copy_id = copy(prod, image_id, TagSpecifications=[
        {"ResourceType": "image", "Tags": [{"Key": "CopiedFromAMI", "Value": image_id}]},
        {"ResourceType": "snapshot", "Tags": [{"Key": "Encrypted", "Value": "true"}]},
    ])
    assert tags_of(image(prod, copy_id)) == {"CopiedFromAMI": image_id}
    assert [tags_of(s) for s in snapshots_of(prod, copy_id)] == [{"Encrypted": "true"}] * 2


def test_copy_image_tags_copies_only_tags_the_caller_can_see(aws):
    """AWS EC2 API Reference, CopyImage, CopyImageTags: user tags of the source
    are copied; a shared AMI's owner tags are not visible to, so not copied by, others."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, tags={"Team": "core"})
    share(bake, image_id, snaps, PROD)
    own = copy(bake, image_id, name="own-copy", CopyImageTags=True)
    theirs = copy(prod, image_id, name="their-copy", CopyImageTags=True)
    assert tags_of(image(bake, own)) == {"Team": "core"}
    assert tags_of(image(prod, theirs)) == {}


def test_source_encrypted_with_aws_managed_key_cannot_be_copied_by_others(aws):
    """AWS EC2 User Guide, "Share an AMI": AMIs encrypted with the AWS managed key
    cannot be shared, so another account's CopyImage fails."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    plain, _ = make_ami(bake)
    encrypted = copy(bake, plain, name="enc-default", Encrypted=True)
    bake.modify_image_attribute(ImageId=encrypted, LaunchPermission={"Add": [{"UserId": PROD}]})
    with pytest.raises(ClientError) as excinfo:
        copy(prod, encrypted)
    assert error_code(excinfo) == "InvalidRequest"


def test_source_encrypted_with_customer_key_can_be_copied_when_shared(aws):
    """AWS EC2 User Guide, "Copy an Amazon EC2 AMI": an AMI encrypted with a
    customer managed key can be copied by accounts it, its snapshots and its key
    (EBS User Guide, "Share an Amazon EBS snapshot"; test_copy_keys.py) are shared with."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    policy = key_policy(BAKE, statement(root(PROD), ["kms:DescribeKey", "kms:CreateGrant", "kms:Decrypt",
                                                     "kms:GenerateDataKey*", "kms:ReEncrypt*"]))
    key_arn = aws("kms", BAKE).create_key(Policy=policy)["KeyMetadata"]["Arn"]
    plain, _ = make_ami(bake, snapshots=1)
    encrypted = copy(bake, plain, name="enc-cmk", Encrypted=True, KmsKeyId=key_arn)
    wait_state(bake, encrypted, "available")
    snap = image(bake, encrypted)["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    share(bake, encrypted, [snap], PROD)
    copy_id = copy(prod, encrypted, Encrypted=True)
    assert snapshots_of(prod, copy_id)[0]["KmsKeyId"] == prod.get_ebs_default_kms_key_id()["KmsKeyId"]
    wait_state(prod, copy_id, "available")
