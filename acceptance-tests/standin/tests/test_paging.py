"""MaxResults / NextToken paging of DescribeImages and DescribeSnapshots, as a
bulk refresh uses them: every tagged AMI or snapshot the caller owns, in pages."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import ZONE, copy, error_code, make_ami, share, tags_of
from standin import paging

TAG = "CopiedFromAMI"
TAGGED = [{"Name": "tag-key", "Values": [TAG]}]


def pages(call, **params) -> list[dict]:
    """Every answer of a paged call, following NextToken by hand."""
    answers = [call(**params)]
    while answers[-1].get("NextToken"):
        answers.append(call(**params, NextToken=answers[-1]["NextToken"]))
    return answers


def tagged_snapshot(ec2, value: str, tags: dict | None = None) -> str:
    volume = ec2.create_volume(AvailabilityZone=ZONE, Size=8)
    spec = [{"ResourceType": "snapshot",
             "Tags": [{"Key": k, "Value": v} for k, v in {TAG: value, **(tags or {})}.items()]}]
    return ec2.create_snapshot(VolumeId=volume["VolumeId"], TagSpecifications=spec)["SnapshotId"]


def test_owners_self_tag_key_pages_every_tagged_image_in_any_state(aws, ctl):
    """AWS EC2 API Reference, DescribeImages: Owners `self` with the `tag-key` filter
    ("find all resources assigned a tag with a specific key, regardless of the tag
    value") selects the caller's AMIs carrying that key, pending and failed ones
    included (State is pending|available|failed); MaxResults bounds a page, NextToken
    continues it and is null when no items remain."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    source, snaps = make_ami(bake, name="source", snapshots=1)
    share(bake, source, snaps, PROD)
    registered = [make_ami(bake, name=f"tagged-{i}", snapshots=1, tags={TAG: source})[0]
                  for i in range(9)]
    make_ami(bake, name="untagged", snapshots=1, tags={"Team": "core"})
    theirs, _ = make_ami(prod, name="prod-tagged", snapshots=1, tags={TAG: source})
    share(prod, theirs, [], BAKE, snapshots=False)  # visible to BAKE, but not BAKE's
    ctl("POST", "config", {"copy_duration_seconds": 600})
    spec = [{"ResourceType": "image", "Tags": [{"Key": TAG, "Value": source}]}]
    pending = [copy(bake, source, name=f"copy-{i}", TagSpecifications=spec) for i in range(3)]
    ctl("POST", "fail_copy", {"image_id": pending[0], "reason": "copy failed"})

    answers = pages(bake.describe_images, Owners=["self"], Filters=TAGGED, MaxResults=5)
    assert [len(a["Images"]) for a in answers] == [5, 5, 2]
    assert "NextToken" not in answers[-1]
    images = [i for a in answers for i in a["Images"]]
    assert sorted(i["ImageId"] for i in images) == sorted(registered + pending)
    assert {i["ImageId"]: i["State"] for i in images if i["ImageId"] in pending} == {
        pending[0]: "failed", pending[1]: "pending", pending[2]: "pending"}
    assert all(tags_of(i)[TAG] == source and i["OwnerId"] == BAKE for i in images)

    paged = bake.get_paginator("describe_images").paginate(
        Owners=["self"], Filters=TAGGED, PaginationConfig={"PageSize": 5})
    assert sorted(i["ImageId"] for p in paged for i in p["Images"]) == sorted(registered + pending)
    unpaged = bake.describe_images(Owners=["self"], Filters=TAGGED)
    assert len(unpaged["Images"]) == 12 and "NextToken" not in unpaged


def test_owner_ids_self_tag_key_pages_every_tagged_snapshot_with_its_tags(aws):
    """AWS EC2 API Reference, DescribeSnapshots: OwnerIds `self` with the `tag-key`
    filter selects the caller's snapshots carrying that key; MaxResults (5 to 1,000)
    bounds a page, NextToken continues it and is null when no items remain; each
    snapshot comes with its tags."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    tagged = [tagged_snapshot(bake, f"ami-{i:017x}", {"Team": "core"}) for i in range(12)]
    volume = bake.create_volume(AvailabilityZone=ZONE, Size=8)
    bake.create_snapshot(VolumeId=volume["VolumeId"])  # untagged
    theirs = tagged_snapshot(prod, "ami-0")
    prod.modify_snapshot_attribute(SnapshotId=theirs, Attribute="createVolumePermission",
                                   OperationType="add", UserIds=[BAKE])

    answers = pages(bake.describe_snapshots, OwnerIds=["self"], Filters=TAGGED, MaxResults=5)
    assert [len(a["Snapshots"]) for a in answers] == [5, 5, 2]
    assert "NextToken" not in answers[-1]
    snapshots = [s for a in answers for s in a["Snapshots"]]
    assert sorted(s["SnapshotId"] for s in snapshots) == sorted(tagged)
    assert {s["SnapshotId"]: tags_of(s) for s in snapshots} == {
        sid: {TAG: f"ami-{i:017x}", "Team": "core"} for i, sid in enumerate(tagged)}

    paged = bake.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=TAGGED, PaginationConfig={"PageSize": 5})
    assert sorted(s["SnapshotId"] for p in paged for s in p["Snapshots"]) == sorted(tagged)


@pytest.mark.parametrize("action", ["describe_images", "describe_snapshots"])
def test_max_results_below_five_is_invalid(aws, action):
    """AWS EC2 API Reference, DescribeSnapshots, MaxResults: the value can be between
    5 and 1,000 (DescribeImages names no range; the same minimum applies), so 4 is
    InvalidParameterValue and 5 is a page size."""
    bake = aws("ec2", BAKE)
    call = getattr(bake, action)
    with pytest.raises(ClientError) as excinfo:
        call(MaxResults=4)
    assert error_code(excinfo) == "InvalidParameterValue"
    assert "maxResults" in excinfo.value.response["Error"]["Message"]
    assert "NextToken" not in call(MaxResults=5)


def test_max_results_with_ids_is_an_invalid_combination(aws):
    """AWS EC2 API Reference, DescribeSnapshots, MaxResults: "You cannot specify this
    parameter and the snapshot IDs parameter in the same request"; DescribeImages with
    ImageIds and MaxResults is refused the same way (InvalidParameterCombination)."""
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, snapshots=1)
    with pytest.raises(ClientError) as excinfo:
        bake.describe_snapshots(SnapshotIds=snaps, MaxResults=5)
    assert error_code(excinfo) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as excinfo:
        bake.describe_images(ImageIds=[image_id], MaxResults=5)
    assert error_code(excinfo) == "InvalidParameterCombination"
    assert len(bake.describe_snapshots(SnapshotIds=snaps)["Snapshots"]) == 1


def test_a_token_not_handed_out_by_the_action_is_refused(aws):
    """AWS EC2 API Reference, DescribeImages / DescribeSnapshots, NextToken: "The token
    returned from a previous paginated request"; anything else (garbage, or another
    action's token) is InvalidPaginationToken."""
    bake = aws("ec2", BAKE)
    for i in range(6):
        tagged_snapshot(bake, str(i))
    token = bake.describe_snapshots(OwnerIds=["self"], MaxResults=5)["NextToken"]
    assert len(bake.describe_snapshots(OwnerIds=["self"], MaxResults=5, NextToken=token)["Snapshots"]) == 1
    for bad in ("not-a-token", token):
        with pytest.raises(ClientError) as excinfo:
            bake.describe_images(Owners=["self"], MaxResults=5, NextToken=bad)
        assert error_code(excinfo) == "InvalidPaginationToken"


class Item:
    def __init__(self, n: int) -> None:
        self.id = f"snap-{n:017x}"


def test_max_results_over_1000_returns_1000_and_pages_neither_repeat_nor_skip():
    """AWS EC2 API Reference, DescribeSnapshots, MaxResults: a value larger than 1,000
    returns only 1,000 results. Pagination continues from the end of the items the
    previous page returned, so items created or deleted between calls never make a
    page repeat or skip an item present on both calls."""
    items = [Item(n) for n in range(0, 3000, 2)]
    size = paging.page_size(5000, None)
    first, token = paging.paginate("DescribeSnapshots", items, size, None)
    assert size == 1000 and len(first) == 1000 and token
    changed = [Item(1), *items[:-1]]  # one item before the token's, the last one gone
    rest, end = paging.paginate("DescribeSnapshots", changed, size, token)
    assert end is None
    assert [i.id for i in first + rest] == [i.id for i in items[:-1]]
