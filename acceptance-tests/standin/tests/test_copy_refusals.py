"""A refused CopyImage or RegisterImage creates nothing: the request is checked whole first."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import copy, error_code, image, make_ami, owned_counts, snapshots_of, tags_of


def tags(count: int, **extra: str) -> list[dict]:
    return [{"Key": f"k{i}", "Value": "v"} for i in range(count)] + [
        {"Key": k, "Value": v} for k, v in extra.items()]


@pytest.mark.parametrize("resource_type", ["image", "snapshot"])
def test_copy_with_51_tags_is_refused_and_leaves_nothing(aws, shared_source, resource_type):
    """AWS EC2 User Guide, "Tag your Amazon EC2 resources": at most 50 tags per
    resource, and a resource tagged on creation is created with its tags or not
    at all; "Error codes for the Amazon EC2 API": TagLimitExceeded. So the refused
    copy leaves no AMI, no snapshot and a free name; 50 tags are accepted."""
    prod = aws("ec2", PROD)
    before = owned_counts(prod)
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, name="app-copy",
             TagSpecifications=[{"ResourceType": resource_type, "Tags": tags(51)}])
    assert error_code(excinfo) == "TagLimitExceeded"
    assert owned_counts(prod) == before

    copy_id = copy(prod, shared_source, name="app-copy",
                   TagSpecifications=[{"ResourceType": resource_type, "Tags": tags(50)}])
    tagged = [image(prod, copy_id)] if resource_type == "image" else snapshots_of(prod, copy_id)
    assert [len(tags_of(r)) for r in tagged] == [50] * len(tagged)
    assert owned_counts(prod) == (before[0] + 1, before[1] + 2)


def test_copied_and_requested_tags_together_are_limited_to_50(aws):
    """AWS EC2 API Reference, CopyImage, CopyImageTags and TagSpecifications: the
    copy carries the source's user tags and the requested ones; with the 50-tag
    limit ("Tag your Amazon EC2 resources") 30 + 21 distinct keys are refused."""
    bake = aws("ec2", BAKE)
    source, _ = make_ami(bake, tags={f"s{i}": "v" for i in range(30)})
    before = owned_counts(bake)
    with pytest.raises(ClientError) as excinfo:
        copy(bake, source, name="own-copy", CopyImageTags=True,
             TagSpecifications=[{"ResourceType": "image", "Tags": tags(21)}])
    assert error_code(excinfo) == "TagLimitExceeded"
    assert owned_counts(bake) == before


BAD_TAGS = {
    "reserved-aws-prefix": {"Key": "aws:owner", "Value": "me"},
    "empty-key": {"Key": "", "Value": "v"},
    "key-of-129": {"Key": "k" * 129, "Value": "v"},
    "value-of-257": {"Key": "k", "Value": "v" * 257},
}


@pytest.mark.parametrize("bad", sorted(BAD_TAGS))
def test_copy_with_an_invalid_tag_is_refused_and_leaves_nothing(aws, shared_source, bad):
    """AWS EC2 User Guide, "Tag your Amazon EC2 resources", Tag restrictions: keys
    of 1 to 128 and values of at most 256 characters, the aws: prefix reserved for
    AWS; "Error codes for the Amazon EC2 API": InvalidParameterValue."""
    prod = aws("ec2", PROD)
    before = owned_counts(prod)
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, TagSpecifications=[{"ResourceType": "image", "Tags": [BAD_TAGS[bad]]}])
    assert error_code(excinfo) == "InvalidParameterValue"
    assert owned_counts(prod) == before


def test_register_image_with_51_tags_registers_nothing(aws):
    """AWS EC2 User Guide, "Tag your Amazon EC2 resources": a resource tagged on
    creation exists with its tags or not at all (TagLimitExceeded above 50), so
    RegisterImage refused for its tags leaves no AMI and its name free."""
    ec2 = aws("ec2", BAKE)
    _, snaps = make_ami(ec2, name="first", snapshots=1)
    before = owned_counts(ec2)
    mappings = [{"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": snaps[0]}}]
    with pytest.raises(ClientError) as excinfo:
        ec2.register_image(Name="second", RootDeviceName="/dev/sda1", BlockDeviceMappings=mappings,
                           TagSpecifications=[{"ResourceType": "image", "Tags": tags(51)}])
    assert error_code(excinfo) == "TagLimitExceeded"
    assert owned_counts(ec2) == before
    ec2.register_image(Name="second", RootDeviceName="/dev/sda1", BlockDeviceMappings=mappings)
