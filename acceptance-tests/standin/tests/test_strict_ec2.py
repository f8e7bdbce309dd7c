"""Strict mode: identity-based policies decide every EC2 call, on the resource
ARNs the Service Authorization Reference gives ("Actions, resources, and
condition keys for Amazon EC2")."""

from __future__ import annotations

import base64
import json

import pytest

from helpers import make_ami
from strict_helpers import allow, client, deny, refused, user

pytestmark = pytest.mark.strict
REGION = "eu-west-1"


def ami(strict_aws, account: str, snapshots: int = 1, tags: dict | None = None) -> tuple[str, list[str]]:
    """An AMI the account's root registers over fresh snapshots (names must differ)."""
    ec2 = strict_aws("ec2", account)
    name = f"app-{len(ec2.describe_images(Owners=['self'])['Images'])}"
    return make_ami(ec2, name=name, snapshots=snapshots, tags=tags)


def test_strict_image_and_snapshot_arns_have_no_account(strict_aws, accounts):
    """Service Authorization Reference, Amazon EC2, resource types: image is
    arn:${Partition}:ec2:${Region}::image/${ImageId} and snapshot
    arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId}, with no account
    field. A policy naming `arn:aws:ec2:*:ACCOUNT:snapshot/*` therefore matches
    no snapshot (the docs' ami_share policy before issue 30), while
    `arn:aws:ec2:*::snapshot/*` does."""
    owner, partner = next(accounts), next(accounts)
    image_id, (snap_id,) = ami(strict_aws, owner)
    wrong = user(strict_aws, owner, "wrong", allow(["ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute"],
                                                   ["arn:aws:ec2:*::image/*", f"arn:aws:ec2:*:{owner}:snapshot/*"]))
    right = user(strict_aws, owner, "right", allow(["ec2:ModifyImageAttribute", "ec2:ModifySnapshotAttribute"],
                                                   ["arn:aws:ec2:*::image/*", "arn:aws:ec2:*::snapshot/*"]))
    share = {"SnapshotId": snap_id, "Attribute": "createVolumePermission", "OperationType": "add",
             "UserIds": [partner]}
    client(strict_aws, "ec2", wrong).modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"UserId": partner}]})
    code, message, status = refused(client(strict_aws, "ec2", wrong).modify_snapshot_attribute, **share)
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert f"on resource: arn:aws:ec2:{REGION}::snapshot/{snap_id} because no identity-based policy" in message
    client(strict_aws, "ec2", right).modify_snapshot_attribute(**share)


def test_strict_action_without_resource_level_permissions_needs_star(strict_aws, accounts):
    """Service Authorization Reference, "The actions table": when an action's
    Resource types column is empty (DescribeImages), the policy must name all
    resources, "*"; a statement naming image ARNs does not cover it."""
    account = next(accounts)
    narrow = user(strict_aws, account, "narrow", allow("ec2:DescribeImages", "arn:aws:ec2:*::image/*"))
    star = user(strict_aws, account, "star", allow("ec2:DescribeImages"))
    assert refused(client(strict_aws, "ec2", narrow).describe_images, Owners=["self"])[0] == \
        "UnauthorizedOperation"
    client(strict_aws, "ec2", star).describe_images(Owners=["self"])


def test_strict_explicit_deny_wins_and_wildcards_match(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic": an explicit Deny in any policy
    overrides any Allow; "IAM JSON policy elements: Action": `*` wildcards
    (ec2:Describe*) and NotAction."""
    account = next(accounts)
    image_id, _ = ami(strict_aws, account)
    creds = user(strict_aws, account, "reader", allow("ec2:Describe*"), deny("ec2:DescribeSnapshots"))
    ec2 = client(strict_aws, "ec2", creds)
    assert ec2.describe_images(ImageIds=[image_id])["Images"]
    code, message, _ = refused(ec2.describe_snapshots, OwnerIds=["self"])
    assert code == "UnauthorizedOperation"
    assert "with an explicit deny in an identity-based policy" in message
    everything_but = user(strict_aws, account, "not-dereg",
                          {"Effect": "Allow", "NotAction": "ec2:DeregisterImage", "Resource": "*"})
    ec2 = client(strict_aws, "ec2", everything_but)
    ec2.describe_image_attribute(ImageId=image_id, Attribute="description")
    assert refused(ec2.deregister_image, ImageId=image_id)[0] == "UnauthorizedOperation"


def test_strict_not_resource_and_resource_tag_condition(strict_aws, accounts):
    """IAM JSON policy elements: NotResource (the statement covers every other
    resource) and Condition with ec2:ResourceTag/${TagKey} (Amazon EC2
    condition keys: the tag on the resource the action acts on)."""
    account = next(accounts)
    tagged, _ = ami(strict_aws, account, tags={"Stage": "retired"})
    other, _ = ami(strict_aws, account, tags={"Stage": "live"})
    creds = user(strict_aws, account, "cleaner",
                 allow("ec2:DeregisterImage", condition={"StringEquals": {"ec2:ResourceTag/Stage": "retired"}}),
                 {"Effect": "Deny", "Action": "ec2:EnableImageDeprecation",
                  "NotResource": f"arn:aws:ec2:{REGION}::image/{tagged}"},
                 allow("ec2:EnableImageDeprecation"))
    ec2 = client(strict_aws, "ec2", creds)
    assert refused(ec2.deregister_image, ImageId=other)[0] == "UnauthorizedOperation"
    ec2.deregister_image(ImageId=tagged)
    assert refused(ec2.enable_image_deprecation, ImageId=other, DeprecateAt="2099-01-01T00:00:00Z")[0] == \
        "UnauthorizedOperation"


def test_strict_copy_image_needs_image_and_snapshot_and_tag_on_create(strict_aws, accounts):
    """EC2 User Guide, "Grant permissions to copy Amazon EC2 AMIs": CopyImage is
    authorized on the AMI (source and target) and, since 28 October 2024, on
    the snapshots; tags given with the request also need ec2:CreateTags on the
    new resources, whose ec2:CreateAction is CopyImage ("Grant permission to
    tag Amazon EC2 resources during creation")."""
    account = next(accounts)
    source, _ = ami(strict_aws, account)
    images_only = user(strict_aws, account, "images-only", allow("ec2:CopyImage", "arn:aws:ec2:*::image/*"))
    assert refused(client(strict_aws, "ec2", images_only).copy_image, SourceImageId=source,
                   SourceRegion=REGION, Name="copy-1")[0] == "UnauthorizedOperation"
    copier = user(strict_aws, account, "copier",
                  allow("ec2:CopyImage", ["arn:aws:ec2:*::image/*", "arn:aws:ec2:*::snapshot/*"]))
    ec2 = client(strict_aws, "ec2", copier)
    assert ec2.copy_image(SourceImageId=source, SourceRegion=REGION, Name="copy-2")["ImageId"]
    tagged = {"SourceImageId": source, "SourceRegion": REGION, "Name": "copy-3",
              "TagSpecifications": [{"ResourceType": "image", "Tags": [{"Key": "Stage", "Value": "prod"}]}]}
    code, message, _ = refused(ec2.copy_image, **tagged)
    assert code == "UnauthorizedOperation" and "ec2:CreateTags" in message
    strict_aws("iam", account).put_user_policy(
        UserName="copier", PolicyName="tag-on-create", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [allow("ec2:CreateTags", "arn:aws:ec2:*::image/*", {
                "StringEquals": {"ec2:CreateAction": "CopyImage"}})]}))
    assert ec2.copy_image(**tagged)["ImageId"]
    assert refused(ec2.create_tags, Resources=[source], Tags=[{"Key": "a", "Value": "b"}])[0] == \
        "UnauthorizedOperation"


def test_strict_encoded_message_decodes(strict_aws, accounts):
    """"Error codes for the Amazon EC2 API": UnauthorizedOperation carries an
    encoded authorization failure message; AWS STS API Reference,
    DecodeAuthorizationMessage (needs sts:DecodeAuthorizationMessage) answers
    it as JSON with allowed, explicitDeny, matchedStatements, failures and the
    context (principal, action, resource, conditions)."""
    account = next(accounts)
    image_id, _ = ami(strict_aws, account)
    creds = user(strict_aws, account, "someone", allow("sts:DecodeAuthorizationMessage"))
    message = refused(client(strict_aws, "ec2", creds).deregister_image, ImageId=image_id)[1]
    decoded = json.loads(client(strict_aws, "sts", creds).decode_authorization_message(
        EncodedMessage=message.rsplit("Encoded authorization failure message: ", 1)[1])["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is False
    assert decoded["context"]["action"] == "ec2:DeregisterImage"
    assert decoded["context"]["resource"] == f"arn:aws:ec2:{REGION}::image/{image_id}"
    assert decoded["context"]["principal"]["arn"] == f"arn:aws:iam::{account}:user/someone"
    conditions = {c["key"]: [v["value"] for v in c["values"]["items"]]
                  for c in decoded["context"]["conditions"]["items"]}
    assert conditions["ec2:owner"] == [account] and conditions["ec2:region"] == [REGION]
    nobody = user(strict_aws, account, "nobody")
    assert refused(client(strict_aws, "sts", nobody).decode_authorization_message,
                   EncodedMessage=base64.b64encode(b"{}").decode())[0] == "AccessDenied"
