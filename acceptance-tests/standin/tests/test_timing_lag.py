"""--consistency-lag: writes are seen by reads only after a delay.

EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API"
(https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html):
a resource just created may be unknown to the next Describe, which answers
the NotFound error, and other changes show up after a while. EC2 API
Reference, DescribeImages
(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html):
recently deregistered images still appear in results for a short interval.
KMS Developer Guide, "Using a grant token"
(https://docs.aws.amazon.com/kms/latest/developerguide/using-grant-token.html),
and the CreateGrant / RetireGrant / RevokeGrant references: a grant takes
effect after a brief delay (seconds, usually under five minutes), and a
request carrying its grant token may use it at once.

One default-mode stand-in started with `--consistency-lag 2 --seed SEED`,
reset (and so reseeded) before each test: every write below is unseen for
at least 0.6 s and seen within 2 s (timing_helpers). The lag runs on the
stand-in's clock, so most tests let it pass by moving that clock 2 s ahead
(`lag_passes`) rather than waiting; the first test and the strict-mode ones
(test_timing_strict.py) wait for real.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, STAGE, admin
from helpers import ZONE, make_ami
from timing_helpers import (
    LAG_SECONDS,
    SAFE_FRACTION,
    SEED,
    client,
    error_of,
    eventually,
    found,
    reset,
    seed_draws,
    timing_standin,
)


@pytest.fixture(scope="module")
def lag_endpoint(tmp_path_factory):
    with timing_standin(tmp_path_factory.mktemp("lag"), "--consistency-lag", str(LAG_SECONDS),
                        "--seed", str(SEED)) as endpoint:
        yield endpoint


@pytest.fixture
def lagged(lag_endpoint):
    """lagged(service, account) -> a client of the lagging stand-in, reset for this test."""
    reset(lag_endpoint)
    return lambda service, account=BAKE: client(lag_endpoint, service, account)


@pytest.fixture
def lag_passes(lag_endpoint):
    """lag_passes() moves the stand-in's clock past every write made so far."""
    return lambda: admin(lag_endpoint, "POST", "clock", {"advance_seconds": LAG_SECONDS})


def image_seen(ec2, image_id):
    answer = found(ec2.describe_images, "InvalidAMIID.NotFound", ImageIds=[image_id])
    return answer["Images"][0] if answer and answer["Images"] else None


def made_and_seen(ec2, lag_passes, **kwargs):
    """make_ami, then let its writes be seen."""
    image_id, snaps = make_ami(ec2, **kwargs)
    lag_passes()
    return image_id, snaps


def test_seed_draws_are_not_short():
    """The premise of every test here: the first draws are long enough to read before them."""
    assert min(seed_draws()) >= SAFE_FRACTION


def test_new_snapshot_is_not_found_until_seen(lagged):
    ec2 = lagged("ec2")
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=8)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    assert error_of(ec2.describe_snapshots, SnapshotIds=[snap])[0] == "InvalidSnapshot.NotFound"
    assert ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []
    assert error_of(ec2.describe_snapshot_attribute, SnapshotId=snap,
                    Attribute="createVolumePermission")[0] == "InvalidSnapshot.NotFound"
    # Waited for in real time: at most LAG_SECONDS.
    seen = eventually(lambda: found(ec2.describe_snapshots, "InvalidSnapshot.NotFound", SnapshotIds=[snap]),
                      snap)
    assert [s["SnapshotId"] for s in seen["Snapshots"]] == [snap]
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]] == [snap]


def test_new_image_and_copy_are_not_found_until_seen(lagged, lag_passes):
    ec2 = lagged("ec2")
    image_id, snaps = make_ami(ec2)
    assert error_of(ec2.describe_images, ImageIds=[image_id])[0] == "InvalidAMIID.NotFound"
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    assert ec2.describe_images(Filters=[{"Name": "image-id", "Values": [image_id]}])["Images"] == []
    assert error_of(ec2.describe_image_attribute, ImageId=image_id,
                    Attribute="description")[0] == "InvalidAMIID.NotFound"
    lag_passes()
    assert image_seen(ec2, image_id)["ImageId"] == image_id

    copy_id = ec2.copy_image(SourceImageId=image_id, SourceRegion="eu-west-1", Name="copy")["ImageId"]
    assert error_of(ec2.describe_images, ImageIds=[copy_id])[0] == "InvalidAMIID.NotFound"
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]] == [image_id]
    # The copy's snapshots are new too: the listing holds only the source's.
    assert sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]) \
        == sorted(snaps)
    lag_passes()
    copy = image_seen(ec2, copy_id)
    copy_snaps = [m["Ebs"]["SnapshotId"] for m in copy["BlockDeviceMappings"]]
    assert len(ec2.describe_snapshots(SnapshotIds=copy_snaps)["Snapshots"]) == 2


def test_tag_writes_are_seen_after_the_lag(lagged, lag_passes):
    ec2 = lagged("ec2")
    image_id, _ = made_and_seen(ec2, lag_passes, tags={"Team": "bake"})
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": "Stage", "Value": "prod"}])
    assert tags_of(image_seen(ec2, image_id)) == {"Team": "bake"}
    by_tag = [{"Name": "tag:Stage", "Values": ["prod"]}]
    assert ec2.describe_images(Owners=["self"], Filters=by_tag)["Images"] == []
    lag_passes()
    assert tags_of(image_seen(ec2, image_id)) == {"Team": "bake", "Stage": "prod"}
    assert [i["ImageId"] for i in ec2.describe_images(Owners=["self"], Filters=by_tag)["Images"]] == [image_id]

    ec2.delete_tags(Resources=[image_id], Tags=[{"Key": "Team"}])
    assert tags_of(image_seen(ec2, image_id)) == {"Team": "bake", "Stage": "prod"}
    lag_passes()
    assert tags_of(image_seen(ec2, image_id)) == {"Stage": "prod"}


def test_launch_permission_changes_reach_the_grantee_after_the_lag(lagged, lag_passes):
    bake, prod = lagged("ec2", BAKE), lagged("ec2", PROD)
    image_id, _ = made_and_seen(bake, lag_passes)
    bake.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": PROD}]})
    assert error_of(prod.describe_images, ImageIds=[image_id])[0] == "InvalidAMIID.NotFound"
    assert prod.describe_images(ExecutableUsers=["self"])["Images"] == []
    # CopyImage by the grantee finds no AMI it may launch yet.
    assert error_of(prod.copy_image, SourceImageId=image_id, SourceRegion="eu-west-1",
                    Name="early")[0] == "InvalidAMIID.NotFound"
    attribute = bake.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attribute["LaunchPermissions"] == []
    lag_passes()
    assert image_seen(prod, image_id)["ImageId"] == image_id
    assert bake.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")[
        "LaunchPermissions"] == [{"UserId": PROD}]

    bake.modify_image_attribute(ImageId=image_id, LaunchPermission={"Remove": [{"UserId": PROD}]})
    assert [i["ImageId"] for i in prod.describe_images(ExecutableUsers=["self"])["Images"]] == [image_id]
    lag_passes()
    assert prod.describe_images(ExecutableUsers=["self"])["Images"] == []
    assert error_of(prod.describe_images, ImageIds=[image_id])[0] == "InvalidAMIID.NotFound"


def test_create_volume_permission_changes_reach_the_grantee_after_the_lag(lagged, lag_passes):
    bake, prod = lagged("ec2", BAKE), lagged("ec2", PROD)
    _, snaps = made_and_seen(bake, lag_passes, snapshots=1)
    bake.modify_snapshot_attribute(SnapshotId=snaps[0], Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[PROD])
    assert error_of(prod.describe_snapshots, SnapshotIds=snaps)[0] == "InvalidSnapshot.NotFound"
    assert prod.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"] == []
    assert bake.describe_snapshot_attribute(SnapshotId=snaps[0], Attribute="createVolumePermission")[
        "CreateVolumePermissions"] == []
    lag_passes()
    assert [s["SnapshotId"] for s in prod.describe_snapshots(RestorableByUserIds=["self"])["Snapshots"]] \
        == snaps
    assert bake.describe_snapshot_attribute(SnapshotId=snaps[0], Attribute="createVolumePermission")[
        "CreateVolumePermissions"] == [{"UserId": PROD}]


def test_deregistered_image_stays_listed_and_holds_its_snapshots(lagged, lag_passes):
    ec2 = lagged("ec2")
    image_id, snaps = made_and_seen(ec2, lag_passes, snapshots=1)
    ec2.deregister_image(ImageId=image_id)
    assert image_seen(ec2, image_id)["State"] == "deregistered"
    assert [(i["ImageId"], i["State"]) for i in ec2.describe_images(Owners=["self"])["Images"]] == [
        (image_id, "deregistered")]
    with pytest.raises(ClientError) as excinfo:
        ec2.delete_snapshot(SnapshotId=snaps[0])
    assert excinfo.value.response["Error"]["Code"] == "InvalidSnapshot.InUse"
    assert image_id in excinfo.value.response["Error"]["Message"]
    lag_passes()
    assert ec2.describe_images(Owners=["self"])["Images"] == []
    # As without the flag: a deregistered id answers nothing, and its snapshots are free.
    assert ec2.describe_images(ImageIds=[image_id])["Images"] == []
    ec2.delete_snapshot(SnapshotId=snaps[0])


def test_kms_grants_take_effect_and_end_after_the_lag(lagged, lag_passes):
    bake_kms, prod_kms = lagged("kms", BAKE), lagged("kms", PROD)
    key_arn = bake_kms.create_key()["KeyMetadata"]["Arn"]
    grant = bake_kms.create_grant(KeyId=key_arn, GranteePrincipal=f"arn:aws:iam::{PROD}:root",
                                  Operations=["DescribeKey", "RetireGrant"])
    assert error_of(prod_kms.describe_key, KeyId=key_arn)[0] == "AccessDeniedException"
    assert bake_kms.list_grants(KeyId=key_arn)["Grants"] == []
    # The grant token lets the grantee use the grant at once.
    assert prod_kms.describe_key(KeyId=key_arn, GrantTokens=[grant["GrantToken"]])["KeyMetadata"]["Arn"] \
        == key_arn
    lag_passes()
    assert prod_kms.describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn
    assert [g["GrantId"] for g in bake_kms.list_grants(KeyId=key_arn)["Grants"]] == [grant["GrantId"]]

    prod_kms.retire_grant(KeyId=key_arn, GrantId=grant["GrantId"])
    assert prod_kms.describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn
    assert [g["GrantId"] for g in bake_kms.list_grants(KeyId=key_arn)["Grants"]] == [grant["GrantId"]]
    lag_passes()
    assert bake_kms.list_grants(KeyId=key_arn)["Grants"] == []
    assert error_of(prod_kms.describe_key, KeyId=key_arn)[0] == "AccessDeniedException"


def test_revoked_grant_still_allows_a_copy_until_seen(lagged, lag_passes):
    """A grant on a CMK lets another account copy an AMI encrypted with it
    (EBS User Guide, "Share an Amazon EBS snapshot"); revoking it stops
    that only once the revocation is seen."""
    bake, stage = lagged("ec2", BAKE), lagged("ec2", STAGE)
    bake_kms = lagged("kms", BAKE)
    key_arn = bake_kms.create_key()["KeyMetadata"]["Arn"]
    image_id, snaps = make_ami(bake, snapshots=1, encrypted=True, kms_key_id=key_arn)
    bake.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": STAGE}]})
    bake.modify_snapshot_attribute(SnapshotId=snaps[0], Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[STAGE])
    operations = ["DescribeKey", "CreateGrant", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                  "ReEncryptFrom", "Decrypt"]
    grant = bake_kms.create_grant(KeyId=key_arn, GranteePrincipal=f"arn:aws:iam::{STAGE}:root",
                                  Operations=operations)
    lag_passes()
    bake_kms.revoke_grant(KeyId=key_arn, GrantId=grant["GrantId"])
    during = stage.copy_image(SourceImageId=image_id, SourceRegion="eu-west-1", Name="during")["ImageId"]
    lag_passes()
    after = stage.copy_image(SourceImageId=image_id, SourceRegion="eu-west-1", Name="after")["ImageId"]
    lag_passes()
    assert bake_kms.list_grants(KeyId=key_arn)["Grants"] == []
    ended = {image_id: eventually(lambda i=image_id: (image := image_seen(stage, i))
                                  and image["State"] != "pending" and image["State"], image_id)
             for image_id in (during, after)}
    assert ended == {during: "available", after: "failed"}


def test_stand_in_clock_moves_every_lag_past(lagged, lag_endpoint):
    """The lag runs on the stand-in's clock, which POST /_standin/clock moves."""
    ec2 = lagged("ec2")
    image_id, _ = make_ami(ec2)
    assert error_of(ec2.describe_images, ImageIds=[image_id])[0] == "InvalidAMIID.NotFound"
    admin(lag_endpoint, "POST", "clock", {"advance_seconds": LAG_SECONDS})
    assert image_seen(ec2, image_id)["ImageId"] == image_id


def tags_of(image: dict) -> dict:
    return {t["Key"]: t["Value"] for t in image.get("Tags", [])}
