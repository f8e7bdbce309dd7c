"""Which launch templates and instances use an AMI: DescribeLaunchTemplateVersions
across all templates, CreateLaunchTemplateVersion SourceVersion, ModifyLaunchTemplate
DefaultVersion, and DescribeInstances by image-id and instance-state-name."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import error_code, make_ami

OLD, NEW = "ami-0000000000000000a", "ami-0000000000000000b"
BOTH = ["$Latest", "$Default"]


def template(ec2, name: str, image_id: str, **data) -> str:
    return ec2.create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"ImageId": image_id, **data})["LaunchTemplate"][
        "LaunchTemplateId"]


def new_version(ec2, template_id: str, image_id: str, source: str | None = "$Latest") -> int:
    extra = {"SourceVersion": source} if source else {}
    return ec2.create_launch_template_version(
        LaunchTemplateId=template_id, LaunchTemplateData={"ImageId": image_id}, **extra,
    )["LaunchTemplateVersion"]["VersionNumber"]


def seen(answer: dict) -> list[tuple[str, int, bool, str | None]]:
    return sorted((v["LaunchTemplateName"], v["VersionNumber"], v["DefaultVersion"],
                   v["LaunchTemplateData"].get("ImageId")) for v in answer["LaunchTemplateVersions"])


@pytest.fixture
def templates(aws):
    """moving: default v1 (OLD), latest v2 (NEW); settled: v1 only (NEW); plain: v1 (OLD)."""
    ec2 = aws("ec2", BAKE)
    moving = template(ec2, "moving", OLD, InstanceType="t3.micro")
    assert new_version(ec2, moving, NEW) == 2
    template(ec2, "settled", NEW)
    template(ec2, "plain", OLD)
    return ec2


def test_latest_and_default_of_every_template_each_version_once(templates):
    """AWS EC2 API Reference, DescribeLaunchTemplateVersions: without a template
    id or name, Versions $Latest and/or $Default describe the latest and/or
    default version of every launch template in the account. A template whose
    default (1) and latest (2) differ answers both; one whose latest is its
    default answers that version once (moto listed it twice)."""
    assert seen(templates.describe_launch_template_versions(Versions=BOTH)) == [
        ("moving", 1, True, OLD), ("moving", 2, False, NEW),
        ("plain", 1, True, OLD), ("settled", 1, True, NEW)]
    assert seen(templates.describe_launch_template_versions(Versions=["$Latest"])) == [
        ("moving", 2, False, NEW), ("plain", 1, True, OLD), ("settled", 1, True, NEW)]
    assert seen(templates.describe_launch_template_versions(Versions=["$Default"])) == [
        ("moving", 1, True, OLD), ("plain", 1, True, OLD), ("settled", 1, True, NEW)]


def test_image_id_filter_matches_launch_template_data(templates):
    """AWS EC2 API Reference, DescribeLaunchTemplateVersions, Filters: `image-id`,
    the ID of the AMI (LaunchTemplateData.ImageId); moto ignored filters."""
    answer = templates.describe_launch_template_versions(
        Versions=BOTH, Filters=[{"Name": "image-id", "Values": [NEW]}])
    assert seen(answer) == [("moving", 2, False, NEW), ("settled", 1, True, NEW)]
    default_only = templates.describe_launch_template_versions(
        Versions=BOTH, Filters=[{"Name": "image-id", "Values": [NEW]},
                                {"Name": "is-default-version", "Values": ["true"]}])
    assert seen(default_only) == [("settled", 1, True, NEW)]


def test_unknown_filter_and_version_numbers_across_templates_are_refused(templates):
    """AWS EC2 API Reference, DescribeLaunchTemplateVersions: across all templates
    no version numbers are allowed (InvalidParameterValue); an unknown filter name
    is InvalidParameterValue, EC2's answer for a filter it does not know."""
    for kwargs in ({"Versions": ["$Latest", "2"]},
                   {"Versions": BOTH, "Filters": [{"Name": "no-such-filter", "Values": ["x"]}]}):
        with pytest.raises(ClientError) as excinfo:
            templates.describe_launch_template_versions(**kwargs)
        assert error_code(excinfo) == "InvalidParameterValue", kwargs


def test_paging_walks_every_version_once(aws):
    """AWS EC2 API Reference, DescribeLaunchTemplateVersions MaxResults (1 to 200)
    and NextToken (null when there are no more results): pages of at most
    MaxResults, a token while more remain (moto stopped at 15 without one)."""
    ec2 = aws("ec2", BAKE)
    for i in range(17):
        template(ec2, f"tmpl-{i:02d}", NEW)
    pages, token = [], None
    while True:
        answer = ec2.describe_launch_template_versions(
            Versions=BOTH, Filters=[{"Name": "image-id", "Values": [NEW]}], MaxResults=5,
            **({"NextToken": token} if token else {}))
        pages.append([v["LaunchTemplateName"] for v in answer["LaunchTemplateVersions"]])
        token = answer.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [5, 5, 5, 2]
    assert sorted(n for p in pages for n in p) == [f"tmpl-{i:02d}" for i in range(17)]
    assert len(ec2.describe_launch_template_versions(Versions=BOTH)["LaunchTemplateVersions"]) == 17
    for size in (0, 201):
        with pytest.raises(ClientError) as excinfo:
            ec2.describe_launch_template_versions(Versions=BOTH, MaxResults=size)
        assert error_code(excinfo) == "InvalidParameterValue"


def test_modify_default_version_changes_which_version_is_default(templates):
    """AWS EC2 API Reference, ModifyLaunchTemplate DefaultVersion (wire name
    SetDefaultVersion): the version to set as the default."""
    templates.modify_launch_template(LaunchTemplateName="moving", DefaultVersion="2")
    answer = templates.describe_launch_template_versions(
        Versions=BOTH, Filters=[{"Name": "image-id", "Values": [OLD]}])
    assert seen(answer) == [("plain", 1, True, OLD)]
    by_name = templates.describe_launch_template_versions(LaunchTemplateName="moving")
    assert seen(by_name) == [("moving", 1, False, OLD), ("moving", 2, True, NEW)]


def test_source_version_is_inherited_and_overridden(aws):
    """AWS EC2 API Reference, CreateLaunchTemplateVersion SourceVersion: the new
    version inherits the source's launch parameters, those given overwrite the
    inherited ones, and inherited block device mapping snapshots are dropped;
    without SourceVersion it has only the parameters given (moto ignored it)."""
    ec2 = aws("ec2", BAKE)
    template_id = ec2.create_launch_template(LaunchTemplateName="based", LaunchTemplateData={
        "ImageId": OLD, "InstanceType": "t3.micro",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda",
                                 "Ebs": {"SnapshotId": "snap-0123456789abcdef0", "VolumeSize": 8}}],
    })["LaunchTemplate"]["LaunchTemplateId"]
    assert new_version(ec2, template_id, NEW, source="1") == 2
    assert new_version(ec2, template_id, NEW, source=None) == 3
    versions = {v["VersionNumber"]: v["LaunchTemplateData"] for v in
                ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"]}
    assert (versions[2]["ImageId"], versions[2]["InstanceType"]) == (NEW, "t3.micro")
    assert versions[2]["BlockDeviceMappings"][0]["Ebs"] == {"VolumeSize": 8}
    assert versions[3] == {"ImageId": NEW}
    with pytest.raises(ClientError) as excinfo:
        new_version(ec2, template_id, NEW, source="9")
    assert error_code(excinfo) == "InvalidLaunchTemplateId.VersionNotFound"


def test_templates_are_per_account(templates, aws):
    """AWS EC2 API Reference, DescribeLaunchTemplateVersions: the all-templates
    form covers the caller's own account, so another account sees none of them."""
    assert aws("ec2", PROD).describe_launch_template_versions(Versions=BOTH)["LaunchTemplateVersions"] == []


def test_describe_instances_by_image_id_and_state(aws):
    """AWS EC2 API Reference, DescribeInstances Filters `image-id` and
    `instance-state-name` (pending | running | shutting-down | terminated |
    stopping | stopped), for instances RunInstances launched (moto answers these
    as documented; checked, not patched)."""
    ec2 = aws("ec2", BAKE)
    image_id, _ = make_ami(ec2, snapshots=1)
    other, _ = make_ami(ec2, name="other", snapshots=1)
    launched = [i["InstanceId"] for i in ec2.run_instances(ImageId=image_id, MinCount=2, MaxCount=2)["Instances"]]
    ec2.run_instances(ImageId=other, MinCount=1, MaxCount=1)
    ec2.terminate_instances(InstanceIds=[launched[0]])

    def instances(*states: str) -> set[str]:
        answer = ec2.describe_instances(Filters=[{"Name": "image-id", "Values": [image_id]},
                                                 {"Name": "instance-state-name", "Values": list(states)}])
        return {i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]}

    assert instances("pending", "running", "stopping", "stopped") == {launched[1]}
    assert instances("terminated") == {launched[0]}


def test_describe_instances_by_image_id_pages(aws):
    """AWS EC2 API Reference, DescribeInstances MaxResults (5 to 1,000) and
    NextToken: with the image-id filter, pages walk every matching instance
    once (moto pages by reservation; each RunInstances here is one)."""
    ec2 = aws("ec2", BAKE)
    image_id, _ = make_ami(ec2, snapshots=1)
    launched = {ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
                for _ in range(7)}
    found, token, pages = [], None, 0
    while True:
        answer = ec2.describe_instances(Filters=[{"Name": "image-id", "Values": [image_id]}], MaxResults=5,
                                        **({"NextToken": token} if token else {}))
        found += [i["InstanceId"] for r in answer["Reservations"] for i in r["Instances"]]
        pages += 1
        token = answer.get("NextToken")
        if not token:
            break
    assert pages == 2 and sorted(found) == sorted(launched)
