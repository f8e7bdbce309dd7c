"""Tags of one resource are looked up by id (standin/tag_lookup.py): the answers are
exactly moto's, only without searching every tag of the account for each resource."""

from __future__ import annotations

from moto.ec2.models.tags import TagBackend

from conftest import BAKE
from helpers import make_ami, tags_of
from standin import tag_lookup

FILTERS = [
    None,
    {},
    {"resource-id": ["ami-1"]},
    {"resource-id": ["ami-12"]},
    {"resource-id": ["ami-missing"]},
    {"resource-id": ["ami-1*"]},
    {"resource-id": ["ami-?"]},
    {"resource-id": ["ami-[1]"]},
    {"resource-id": ["ami-1", "snap-1"]},
    {"resource-id": ["ami-1"], "key": ["Name"]},
    {"resource-id": ["snap-1"], "resource-type": ["snapshot"]},
    {"key": ["Name"]},
]


def store() -> TagBackend:
    tags = TagBackend()
    tags.create_tags(["ami-1"], {"Name": "one", "Stage": "prod"})
    tags.create_tags(["ami-12"], {"Name": "twelve"})
    tags.create_tags(["snap-1"], {"Name": "snap", "aws:copied": "x"})
    tags.create_tags(["vol-1"], {"Owner": "team"})
    return tags


def test_every_filter_answers_as_moto_searched():
    """The lookup and moto's search give the same list (order and shape) for exact ids,
    missing ids, wildcards (`*`, `?`, and `[` which moto's fnmatch translation also reads
    as one), several ids and combined filters; a lookup of a missing id adds no entry."""
    for filters in FILTERS:
        ours, moto = store(), store()
        assert tag_lookup.describe_tags(ours, filters) == tag_lookup._moto_describe_tags(moto, filters), filters
        assert dict(ours.tags) == dict(moto.tags), filters


def test_rendered_tags_through_the_api(aws):
    """AWS EC2 API Reference, DescribeImages / DescribeSnapshots (`tagSet`) and
    DescribeTags (`resource-id` filter, with `*` wildcards): each AMI and snapshot shows
    its own tags and no other resource's, also when ids share a prefix; a wildcard
    resource-id still matches every id it covers."""
    ec2 = aws("ec2", BAKE)
    made = [make_ami(ec2, name=f"app-{i}", snapshots=1, tags={"Name": f"app-{i}", "Index": str(i)})
            for i in range(3)]
    for i, (_, snaps) in enumerate(made):
        ec2.create_tags(Resources=snaps, Tags=[{"Key": "Snap", "Value": str(i)}])
    images = {i["ImageId"]: i for i in ec2.describe_images(Owners=["self"])["Images"]}
    snapshots = {s["SnapshotId"]: s for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    for i, (image_id, snaps) in enumerate(made):
        assert tags_of(images[image_id]) == {"Name": f"app-{i}", "Index": str(i)}
        assert tags_of(snapshots[snaps[0]]) == {"Snap": str(i)}
    one = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [made[0][0]]}])["Tags"]
    assert sorted((t["Key"], t["Value"], t["ResourceType"]) for t in one) == [
        ("Index", "0", "image"), ("Name", "app-0", "image")]
    every = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": ["ami-*"]}])["Tags"]
    assert {t["ResourceId"] for t in every} == {image_id for image_id, _ in made}
