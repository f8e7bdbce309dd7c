"""Building blocks for tests: a bake-account AMI backed by real snapshots,
KMS key policies."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD, REGION

ZONE = "eu-west-1a"


def make_ami(ec2, name: str = "app-1", snapshots: int = 2, tags: dict | None = None,
             encrypted: bool = False, kms_key_id: str | None = None) -> tuple[str, list[str]]:
    """RegisterImage over `snapshots` fresh snapshots; returns (image id, snapshot ids)."""
    snap_ids = []
    for _ in range(snapshots):
        extra: dict[str, object] = {"Encrypted": True} if encrypted else {}
        if kms_key_id:
            extra["KmsKeyId"] = kms_key_id
        volume = ec2.create_volume(AvailabilityZone=ZONE, Size=8, **extra)
        snap_ids.append(ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"])
    mappings = [
        {"DeviceName": f"/dev/sd{chr(ord('a') + i)}{'1' if i == 0 else ''}",
         "Ebs": {"SnapshotId": sid}}
        for i, sid in enumerate(snap_ids)
    ]
    spec = [{"ResourceType": "image", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    image_id = ec2.register_image(
        Name=name, RootDeviceName="/dev/sda1", BlockDeviceMappings=mappings,
        TagSpecifications=spec,
    )["ImageId"]
    return image_id, snap_ids


def share(ec2, image_id: str, snap_ids: list[str], account: str, snapshots: bool = True) -> None:
    ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"UserId": account}]})
    if snapshots:
        for sid in snap_ids:
            ec2.modify_snapshot_attribute(SnapshotId=sid, Attribute="createVolumePermission",
                                          OperationType="add", UserIds=[account])


def copy(ec2, source: str, name: str = "app-copy", **kwargs) -> str:
    """CopyImage of `source` (in REGION) into the client's account and region; the new id."""
    return ec2.copy_image(SourceImageId=source, SourceRegion=REGION, Name=name, **kwargs)["ImageId"]


def snapshots_of(ec2, image_id: str) -> list[dict]:
    ids = [m["Ebs"]["SnapshotId"] for m in image(ec2, image_id)["BlockDeviceMappings"]]
    return ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"]


def owned_counts(ec2) -> tuple[int, int]:
    """(AMIs, snapshots) the client's account owns: DescribeImages Owners=self,
    DescribeSnapshots OwnerIds=self."""
    return (len(ec2.describe_images(Owners=["self"])["Images"]),
            len(ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]))


def image(ec2, image_id: str) -> dict:
    return ec2.describe_images(ImageIds=[image_id])["Images"][0]


def tags_of(resource: dict) -> dict:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def wait_state(ec2, image_id: str, wanted: str, timeout: float = 60.0) -> dict:
    """Poll until the image is `wanted`; the deadline only bounds a broken wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = image(ec2, image_id)
        if current["State"] == wanted:
            return current
        time.sleep(0.05)
    pytest.fail(f"{image_id} did not become {wanted}; last state {current['State']}")


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    assert isinstance(excinfo.value, ClientError)
    return excinfo.value.response["Error"]["Code"]


def root(account: str) -> str:
    """The ARN policies and grants name a whole account by."""
    return f"arn:aws:iam::{account}:root"


def statement(principal, actions, effect: str = "Allow", condition: dict | None = None) -> dict:
    """One key policy statement; `principal` is a Principal AWS value (or "*")."""
    body = {"Effect": effect, "Principal": principal if principal == "*" else {"AWS": principal},
            "Action": actions, "Resource": "*"}
    if condition:
        body["Condition"] = condition
    return body


def key_policy(owner: str, *statements: dict) -> str:
    """The default key policy of `owner`'s key (its account may do everything)
    plus `statements`, as CreateKey / PutKeyPolicy take it."""
    default = statement(root(owner), "kms:*")
    return json.dumps({"Version": "2012-10-17", "Statement": [default, *statements]})


def cmk_source(aws, policy: str | None = None, snapshots: int = 1,
               share_with: str = PROD) -> tuple[str, str]:
    """A BAKE AMI whose snapshots are encrypted with a BAKE customer managed key
    (CreateKey with `policy`, else the default one), shared with `share_with`
    by launch permission and createVolumePermission: (image id, key ARN)."""
    kms = aws("kms", BAKE)
    key_arn = (kms.create_key(Policy=policy) if policy else kms.create_key())["KeyMetadata"]["Arn"]
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, name="cmk-source", snapshots=snapshots, encrypted=True,
                               kms_key_id=key_arn)
    share(bake, image_id, snaps, share_with)
    return image_id, key_arn
