"""DisableImage / EnableImage and what DescribeImages answers about a disabled AMI."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import error_code, make_ami, share

TAGGED = [{"Name": "tag-key", "Values": ["CopiedFromAMI"]}]


def test_disabled_ami_is_left_out_unless_include_disabled_and_loses_its_grants(aws):
    """AWS EC2 API Reference, DisableImage / EnableImage and DescribeImages
    (IncludeDisabled: by default no disabled AMIs are included); EC2 User Guide,
    "Disable an Amazon EC2 AMI": state `disabled`, every launch permission removed so
    accounts it was shared with lose access, and re-enabling does not restore them."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, tags={"CopiedFromAMI": "ami-0"})
    share(bake, image_id, snaps, PROD)
    bake.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
    bake.disable_image(ImageId=image_id)

    assert bake.describe_images(Owners=["self"], Filters=TAGGED, MaxResults=5)["Images"] == []
    assert bake.describe_images(ImageIds=[image_id])["Images"] == []
    listed = bake.describe_images(Owners=["self"], Filters=TAGGED, IncludeDisabled=True)["Images"]
    assert [(i["ImageId"], i["State"], i["Public"]) for i in listed] == [(image_id, "disabled", False)]
    attribute = bake.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert attribute["LaunchPermissions"] == []
    with pytest.raises(ClientError) as excinfo:
        prod.describe_images(ImageIds=[image_id], IncludeDisabled=True)
    assert error_code(excinfo) == "InvalidAMIID.NotFound"

    bake.enable_image(ImageId=image_id)
    assert [i["State"] for i in bake.describe_images(Owners=["self"], Filters=TAGGED)["Images"]] == [
        "available"]
    assert prod.describe_images(ExecutableUsers=["self"])["Images"] == []
