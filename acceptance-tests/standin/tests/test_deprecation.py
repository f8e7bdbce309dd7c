"""Deprecated AMIs: EnableImageDeprecation / DisableImageDeprecation, DeprecationTime,
and who sees a deprecated AMI in DescribeImages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import copy, error_code, image, make_ami, share, wait_state


def stand_in_now(ctl) -> datetime:
    return datetime.fromisoformat(ctl("GET", "clock")["now"].replace("Z", "+00:00"))


def deprecate(ec2, ctl, image_id: str) -> str:
    """Deprecate `image_id` for real: AWS accepts only a future DeprecateAt, so
    schedule it two minutes ahead and move the stand-in's clock past it.
    Returns the DeprecationTime the owner sees."""
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt=stand_in_now(ctl) + timedelta(minutes=2))
    ctl("POST", "clock", {"advance_seconds": 240})
    return image(ec2, image_id)["DeprecationTime"]


def ids(response: dict) -> set[str]:
    return {i["ImageId"] for i in response["Images"]}


@pytest.fixture
def shared_deprecated(aws, ctl):
    """An AMI of BAKE shared with PROD (snapshots too), then deprecated."""
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    deprecate(bake, ctl, image_id)
    return image_id


def test_owner_sees_its_deprecated_ami_in_every_listing(aws, ctl, shared_deprecated):
    """AWS EC2 User Guide, "Deprecate an Amazon EC2 AMI" (Describe deprecated AMIs):
    the owner's describe-images results include its deprecated AMIs without
    IncludeDeprecated, and IncludeDeprecated=false cannot exclude them; the
    DeprecationTime field appears."""
    bake = aws("ec2", BAKE)
    for kwargs in ({}, {"Owners": ["self"]}, {"Owners": ["self"], "IncludeDeprecated": False},
                   {"IncludeDeprecated": False}):
        assert ids(bake.describe_images(**kwargs)) == {shared_deprecated}, kwargs
    assert "DeprecationTime" in image(bake, shared_deprecated)


def test_shared_deprecated_ami_left_out_of_listings_for_the_account_it_is_shared_with(aws, shared_deprecated):
    """AWS EC2 User Guide, "Deprecate an Amazon EC2 AMI": for AMI users, a
    deprecated AMI does not appear in DescribeImages unless its ID is given or
    deprecated AMIs are asked for; shared-with-you deprecated AMIs are left out
    by default (the default is --no-include-deprecated). Holds for every listing
    form: no arguments, ExecutableUsers=self, Owners=<owner>, filters."""
    prod = aws("ec2", PROD)
    assert ids(prod.describe_images()) == set()
    assert ids(prod.describe_images(ExecutableUsers=["self"])) == set()
    assert ids(prod.describe_images(Owners=[BAKE])) == set()
    assert ids(prod.describe_images(Owners=[BAKE], IncludeDeprecated=False)) == set()
    assert ids(prod.describe_images(Filters=[{"Name": "name", "Values": ["app-1"]}])) == set()


def test_shared_deprecated_ami_returned_when_asked_for_by_image_id(aws, shared_deprecated):
    """AWS EC2 User Guide, "Deprecate an Amazon EC2 AMI": a deprecated AMI is
    returned to AMI users who specify its ID, even together with
    --no-include-deprecated; the result shows DeprecationTime."""
    prod = aws("ec2", PROD)
    for kwargs in ({}, {"IncludeDeprecated": False}, {"IncludeDeprecated": True}):
        seen = prod.describe_images(ImageIds=[shared_deprecated], **kwargs)["Images"]
        assert [i["ImageId"] for i in seen] == [shared_deprecated], kwargs
        assert seen[0]["OwnerId"] == BAKE and "DeprecationTime" in seen[0]


def test_include_deprecated_lists_shared_deprecated_ami(aws, shared_deprecated):
    """AWS EC2 API Reference, DescribeImages, IncludeDeprecated ("Specifies
    whether to include deprecated AMIs"; default: none included), and the User
    Guide's "To include all deprecated AMIs when describing all AMIs"."""
    prod = aws("ec2", PROD)
    assert ids(prod.describe_images(IncludeDeprecated=True)) == {shared_deprecated}
    assert ids(prod.describe_images(ExecutableUsers=["self"], IncludeDeprecated=True)) == {shared_deprecated}
    assert ids(prod.describe_images(Owners=[BAKE], IncludeDeprecated=True)) == {shared_deprecated}


def test_future_deprecation_time_is_reported_but_does_not_hide(aws, ctl):
    """AWS EC2 User Guide, "Deprecate an Amazon EC2 AMI": an AMI whose
    deprecation date is in the future is not yet deprecated, so it is still
    listed for the accounts it is shared with; DeprecationTime shows the date
    it is set to be deprecated."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    bake.enable_image_deprecation(ImageId=image_id, DeprecateAt=stand_in_now(ctl) + timedelta(days=7))
    assert ids(prod.describe_images(ExecutableUsers=["self"])) == {image_id}
    assert image(prod, image_id)["DeprecationTime"] == image(bake, image_id)["DeprecationTime"]


def test_copy_of_deprecated_shared_source_by_id(aws, shared_deprecated):
    """AWS EC2 User Guide, "Deprecate an Amazon EC2 AMI": deprecation only keeps
    the AMI out of listings; users who know its ID can keep using it (only
    deregistering stops that), so CopyImage by SourceImageId still works. The
    copy is a distinct AMI ("Copy an Amazon EC2 AMI") owned by the copier; it
    does not inherit the source's deprecation (not documented; the stand-in's choice)."""
    prod = aws("ec2", PROD)
    copy_id = copy(prod, shared_deprecated)
    done = wait_state(prod, copy_id, "available")
    assert done["OwnerId"] == PROD and "DeprecationTime" not in done
    assert ids(prod.describe_images(Owners=["self"])) == {copy_id}


def test_disable_image_deprecation_restores_visibility(aws, shared_deprecated):
    """AWS EC2 API Reference, DisableImageDeprecation ("Cancels the deprecation
    of the specified AMI"), and the User Guide's "Cancel the deprecation of an
    AMI": the DeprecationTime field is removed, so the AMI is listed again for
    the accounts it is shared with."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    assert ids(prod.describe_images(ExecutableUsers=["self"])) == set()
    assert bake.disable_image_deprecation(ImageId=shared_deprecated)["Return"] is True
    assert "DeprecationTime" not in image(bake, shared_deprecated)
    assert "DeprecationTime" not in image(prod, shared_deprecated)
    assert ids(prod.describe_images(ExecutableUsers=["self"])) == {shared_deprecated}


def test_deprecate_at_seconds_rounded_to_nearest_minute(aws, ctl):
    """AWS EC2 API Reference, EnableImageDeprecation, DeprecateAt: "If you specify
    a value for seconds, Amazon EC2 rounds the seconds to the nearest minute";
    DescribeImages shows it as YYYY-MM-DDTHH:MM:SS.000Z (the User Guide's
    example output)."""
    bake = aws("ec2", BAKE)
    down, _ = make_ami(bake, name="rounds-down", snapshots=1)
    up, _ = make_ami(bake, name="rounds-up", snapshots=1)
    base = (stand_in_now(ctl) + timedelta(days=3)).replace(hour=13, minute=17, second=0, microsecond=0)
    bake.enable_image_deprecation(ImageId=down, DeprecateAt=base + timedelta(seconds=12, milliseconds=400))
    bake.enable_image_deprecation(ImageId=up, DeprecateAt=base + timedelta(seconds=41))
    day = base.strftime("%Y-%m-%d")
    assert image(bake, down)["DeprecationTime"] == f"{day}T13:17:00.000Z"
    assert image(bake, up)["DeprecationTime"] == f"{day}T13:18:00.000Z"


def test_deprecate_at_in_the_past_is_refused(aws, ctl):
    """AWS EC2 API Reference, EnableImageDeprecation, DeprecateAt: "You can't
    specify a date in the past" (no error code is documented; the stand-in
    answers InvalidParameterValue). The AMI stays undeprecated."""
    bake = aws("ec2", BAKE)
    image_id, _ = make_ami(bake, snapshots=1)
    with pytest.raises(ClientError) as excinfo:
        bake.enable_image_deprecation(ImageId=image_id, DeprecateAt=stand_in_now(ctl) - timedelta(hours=1))
    assert error_code(excinfo) == "InvalidParameterValue"
    assert "DeprecationTime" not in image(bake, image_id)


def test_deprecate_at_more_than_ten_years_ahead_is_refused(aws, ctl):
    """AWS EC2 API Reference, EnableImageDeprecation, DeprecateAt: the upper limit
    is 10 years from now (no error code is documented; InvalidParameterValue here)."""
    bake = aws("ec2", BAKE)
    image_id, _ = make_ami(bake, snapshots=1)
    with pytest.raises(ClientError) as excinfo:
        bake.enable_image_deprecation(ImageId=image_id,
                                      DeprecateAt=stand_in_now(ctl) + timedelta(days=3660))
    assert error_code(excinfo) == "InvalidParameterValue"
    bake.enable_image_deprecation(ImageId=image_id, DeprecateAt=stand_in_now(ctl) + timedelta(days=3000))
    assert "DeprecationTime" in image(bake, image_id)


def test_only_the_owner_can_deprecate(aws, ctl):
    """AWS EC2 User Guide, "Deprecate an Amazon EC2 AMI" (Limitations): to
    deprecate an AMI, or cancel its deprecation, you must be its owner. AWS
    documents no error code; the stand-in resolves the id in the caller's own
    account, so another account gets InvalidAMIID.NotFound."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    for call, kwargs in ((prod.enable_image_deprecation,
                          {"DeprecateAt": stand_in_now(ctl) + timedelta(days=1)}),
                         (prod.disable_image_deprecation, {})):
        with pytest.raises(ClientError) as excinfo:
            call(ImageId=image_id, **kwargs)
        assert error_code(excinfo) == "InvalidAMIID.NotFound"
    assert "DeprecationTime" not in image(bake, image_id)


def test_clock_moves_forward_only_and_resets(ctl):
    """Contract: POST /_standin/clock {"advance_seconds": N} moves the stand-in's
    wall clock (read by deprecation only) N >= 0 seconds ahead; GET reads it;
    reset puts it back to real time."""
    before = datetime.now(timezone.utc)
    moved = ctl("POST", "clock", {"advance_seconds": 3600})
    assert moved["offset_seconds"] == 3600
    assert stand_in_now(ctl) >= before + timedelta(seconds=3600)
    with pytest.raises(Exception) as excinfo:
        ctl("POST", "clock", {"advance_seconds": -1})
    assert getattr(excinfo.value, "code", None) == 400
    ctl("POST", "reset")
    assert ctl("GET", "clock")["offset_seconds"] == 0
