"""CopyImage across accounts and Regions: the copy is made in the Region the call
is sent to, from the AMI in SourceRegion."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, REGION
from helpers import copy, error_code, image, make_ami, share, snapshots_of, wait_state

DESTINATION = "us-east-1"
HOLD_SECONDS = 600


@pytest.fixture
def shared_source(aws):
    """A bake-account AMI in REGION (eu-west-1) with two snapshots, shared with PROD
    by launch permission and createVolumePermission."""
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, snapshots=2)
    share(bake, image_id, snaps, PROD)
    return image_id, snaps


@pytest.mark.parametrize("form", ["id", "arn", "alias"])
def test_cross_region_copy_lands_in_the_calling_region_encrypted_with_its_key(aws, ctl, shared_source, form):
    """AWS EC2 API Reference, CopyImage: the copy is initiated in, and made in, the
    destination Region (the Region the request is sent to); SourceRegion names the
    Region that holds the source AMI; KmsKeyId names a key that must be in the
    destination Region. DescribeImages reports SourceImageId and SourceImageRegion.
    The copy's snapshots are the caller's, in the destination Region, and its
    snapshot copies count against the caller's quota there ("Quotas for Amazon EBS",
    concurrent snapshot copies per destination Region)."""
    source, source_snaps = shared_source
    ctl("POST", "config", {"copy_duration_seconds": HOLD_SECONDS})
    here, there = aws("ec2", PROD), aws("ec2", PROD, region=DESTINATION)
    kms = aws("kms", PROD, region=DESTINATION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/ami-copies", TargetKeyId=key["KeyId"])
    given = {"id": key["KeyId"], "arn": key["Arn"], "alias": "alias/ami-copies"}[form]

    copy_id = there.copy_image(SourceImageId=source, SourceRegion=REGION, Name="app-copy",
                               Encrypted=True, KmsKeyId=given)["ImageId"]
    pending = image(there, copy_id)
    assert (pending["State"], pending["OwnerId"]) == ("pending", PROD)
    assert (pending["SourceImageId"], pending["SourceImageRegion"]) == (source, REGION)
    snaps = snapshots_of(there, copy_id)
    assert len(snaps) == 2 and not {s["SnapshotId"] for s in snaps} & set(source_snaps)
    assert [(s["OwnerId"], s["Encrypted"], s["KmsKeyId"]) for s in snaps] == [(PROD, True, key["Arn"])] * 2
    # Nothing of the copy is in the source Region.
    assert here.describe_images(Owners=["self"])["Images"] == []
    assert here.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    assert ctl("GET", "copy_quota")["in_flight"] == {f"{PROD}/{DESTINATION}": 2}

    ctl("POST", "fail_copy", {"image_id": copy_id, "reason": "ended for the test"})
    assert ctl("GET", "copy_quota")["in_flight"] == {f"{PROD}/{DESTINATION}": 0}


@pytest.mark.parametrize("form", ["arn", "id"])
def test_key_outside_the_destination_region_is_accepted_and_the_copy_fails(aws, shared_source, form):
    """AWS EC2 API Reference, CopyImage, KmsKeyId: the key must be in the destination
    Region, and AWS checks the key asynchronously, so a request naming an unusable key
    can appear to succeed and fail later. A key of the caller's in the source Region
    (by ARN, or by an id the destination Region does not know) is such a key: the call
    answers an AMI id, and the copy ends `failed`."""
    source, _ = shared_source
    key = aws("kms", PROD).create_key()["KeyMetadata"]  # in REGION, the source Region
    there = aws("ec2", PROD, region=DESTINATION)
    copy_id = copy(there, source, Encrypted=True, KmsKeyId=key["Arn"] if form == "arn" else key["KeyId"])
    failed = wait_state(there, copy_id, "failed")
    assert failed["StateReason"]["Code"] and failed["StateReason"]["Message"]


def test_source_must_be_in_source_region(aws, shared_source):
    """Error codes for the Amazon EC2 API, InvalidAMIID.NotFound: the AMI does not
    exist in the Region looked in. CopyImage looks for the source in SourceRegion, so
    naming the wrong SourceRegion finds no AMI, and nothing is created."""
    source, _ = shared_source
    there = aws("ec2", PROD, region=DESTINATION)
    with pytest.raises(ClientError) as excinfo:
        there.copy_image(SourceImageId=source, SourceRegion="ap-southeast-2", Name="app-copy")
    assert error_code(excinfo) == "InvalidAMIID.NotFound"
    assert there.describe_images(Owners=["self"])["Images"] == []
