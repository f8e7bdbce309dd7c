"""Which AMIs and snapshots ExecutableUsers and RestorableByUserIds select: what
an owner lists to learn, in one paged call, what one account may use."""

from __future__ import annotations

from conftest import BAKE, PROD, STAGE
from helpers import ZONE, make_ami, share, tags_of

ORG = "arn:aws:organizations::111111111111:organization/o-abc123"
OU = "arn:aws:organizations::111111111111:ou/o-abc123/ou-ab12-prod"


def ids(answer: dict, key: str = "Images") -> list[str]:
    field = "ImageId" if key == "Images" else "SnapshotId"
    return sorted(i[field] for i in answer[key])


def test_executable_users_account_selects_only_explicit_grants_to_that_account(aws, ctl):
    """AWS EC2 API Reference, DescribeImages, ExecutableUsers: for an account id that is
    not your own, only AMIs shared with that specific account are returned, not AMIs
    shared with its organization or OU; `all` returns the public AMIs (EC2 User Guide,
    "Find shared AMIs": your own public AMIs included). The owner sees its own tags,
    BlockDeviceMappings and the Public flag on each."""
    bake = aws("ec2", BAKE)
    ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "ou_arns": [OU]})
    explicit, snaps = make_ami(bake, name="explicit", snapshots=2, tags={"CopiedFromAMI": "x"})
    share(bake, explicit, snaps, PROD)
    by_org, _ = make_ami(bake, name="by-org", snapshots=1)
    bake.modify_image_attribute(ImageId=by_org, LaunchPermission={"Add": [{"OrganizationArn": ORG}]})
    by_ou, _ = make_ami(bake, name="by-ou", snapshots=1)
    bake.modify_image_attribute(ImageId=by_ou, LaunchPermission={"Add": [{"OrganizationalUnitArn": OU}]})
    public, _ = make_ami(bake, name="public", snapshots=1)
    bake.modify_image_attribute(ImageId=public, LaunchPermission={"Add": [{"Group": "all"}]})
    to_stage, stage_snaps = make_ami(bake, name="stage", snapshots=1)
    share(bake, to_stage, stage_snaps, STAGE)
    make_ami(bake, name="private", snapshots=1)

    answer = bake.describe_images(Owners=["self"], ExecutableUsers=[PROD], MaxResults=1000)
    assert ids(answer) == [explicit]
    (seen,) = answer["Images"]
    assert tags_of(seen) == {"CopiedFromAMI": "x"} and seen["Public"] is False
    assert [m["Ebs"]["SnapshotId"] for m in seen["BlockDeviceMappings"]] == snaps
    assert ids(bake.describe_images(Owners=["self"], ExecutableUsers=[PROD, STAGE])) == sorted(
        [explicit, to_stage])
    answer = bake.describe_images(Owners=["self"], ExecutableUsers=["all"])
    assert ids(answer) == [public] and answer["Images"][0]["Public"] is True


def test_executable_users_self_is_what_is_shared_with_the_caller_never_its_own(aws, ctl):
    """AWS EC2 API Reference, DescribeImages, ExecutableUsers: `self` or your own account
    id returns AMIs shared with your account and with the organization or OU you are a
    member of; EC2 User Guide, "Find shared AMIs": that list does not include AMIs you
    own. Another account's grants on AMIs you do not own are not yours to list."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    ctl("POST", "org", {"account": PROD, "organization_arn": ORG, "ou_arns": [OU]})
    explicit, snaps = make_ami(bake, name="explicit", snapshots=1)
    share(bake, explicit, snaps, PROD)
    share(bake, explicit, snaps, STAGE)
    by_org, _ = make_ami(bake, name="by-org", snapshots=1)
    bake.modify_image_attribute(ImageId=by_org, LaunchPermission={"Add": [{"OrganizationArn": ORG}]})
    own, _ = make_ami(prod, name="prod-own", snapshots=1)

    assert ids(prod.describe_images(ExecutableUsers=["self"])) == sorted([explicit, by_org])
    assert ids(prod.describe_images(ExecutableUsers=[PROD])) == sorted([explicit, by_org])
    assert own not in ids(prod.describe_images(ExecutableUsers=["self"]))
    assert ids(prod.describe_images(ExecutableUsers=[STAGE])) == []
    assert ids(bake.describe_images(ExecutableUsers=["self"])) == []


def test_restorable_by_account_selects_the_callers_snapshots_shared_with_it(aws):
    """AWS EC2 API Reference, DescribeSnapshots: with restorable users, only snapshots
    with create volume permission for those users are returned: account ids (if you own
    the snapshots), `self` for snapshots you own or have explicit permission on, `all`
    for public snapshots. The owner sees its own tags."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)

    def snapshot(tags: dict | None = None) -> str:
        volume = bake.create_volume(AvailabilityZone=ZONE, Size=8)
        spec = [{"ResourceType": "snapshot",
                 "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
        return bake.create_snapshot(VolumeId=volume["VolumeId"], TagSpecifications=spec)["SnapshotId"]

    shared, public, to_stage, private = (snapshot({"CopiedFromAMI": "x"}), snapshot(), snapshot(), snapshot())
    bake.modify_snapshot_attribute(SnapshotId=shared, Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[PROD])
    bake.modify_snapshot_attribute(SnapshotId=public, Attribute="createVolumePermission",
                                   OperationType="add", GroupNames=["all"])
    bake.modify_snapshot_attribute(SnapshotId=to_stage, Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[STAGE])
    theirs = prod.create_snapshot(
        VolumeId=prod.create_volume(AvailabilityZone=ZONE, Size=8)["VolumeId"])["SnapshotId"]
    prod.modify_snapshot_attribute(SnapshotId=theirs, Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[BAKE])

    answer = bake.describe_snapshots(OwnerIds=["self"], RestorableByUserIds=[PROD], MaxResults=1000)
    assert ids(answer, "Snapshots") == [shared]
    assert tags_of(answer["Snapshots"][0]) == {"CopiedFromAMI": "x"}
    assert ids(bake.describe_snapshots(RestorableByUserIds=[PROD]), "Snapshots") == [shared]
    assert ids(bake.describe_snapshots(OwnerIds=["self"], RestorableByUserIds=["all"]),
               "Snapshots") == [public]
    assert ids(bake.describe_snapshots(RestorableByUserIds=["self"]), "Snapshots") == sorted(
        [shared, public, to_stage, private, theirs])
    # PROD owns none of BAKE's snapshots, so it cannot list them by BAKE's grants.
    assert ids(prod.describe_snapshots(RestorableByUserIds=[STAGE]), "Snapshots") == []
    assert ids(prod.describe_snapshots(RestorableByUserIds=["self"]), "Snapshots") == sorted(
        [shared, theirs])
