"""AMI deregistration protection: EnableImageDeregistrationProtection /
DisableImageDeregistrationProtection, DeregistrationProtection, the 24-hour cooldown."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import copy, error_code, image, make_ami, owned_counts, share, wait_state

DAY_SECONDS = 24 * 3600


def stand_in_now(ctl) -> datetime:
    return datetime.fromisoformat(ctl("GET", "clock")["now"].replace("Z", "+00:00"))


def refused_deregistration(ec2, image_id: str) -> str:
    """The error code of DeregisterImage (with DeleteAssociatedSnapshots) of `image_id`."""
    with pytest.raises(ClientError) as excinfo:
        ec2.deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
    return error_code(excinfo)


def test_new_ami_reports_protection_disabled(aws):
    """AWS EC2 User Guide, "Protect an Amazon EC2 AMI from deregistration":
    protection is off until turned on; EC2 API Reference, Image data type,
    DeregistrationProtection (the AWS CLI examples show `disabled`)."""
    ec2 = aws("ec2", BAKE)
    image_id, _ = make_ami(ec2, snapshots=1)
    assert image(ec2, image_id)["DeregistrationProtection"] == "disabled"


@pytest.mark.parametrize("with_cooldown, value", [(True, "enabled-with-cooldown"),
                                                  (False, "enabled-without-cooldown")])
def test_protected_ami_cannot_be_deregistered_and_keeps_its_snapshots(aws, with_cooldown, value):
    """AWS EC2 API Reference, EnableImageDeregistrationProtection: while
    protection is on, the AMI cannot be deregistered; Return is the new state as
    in the AWS CLI example (`enabled-without-cooldown`).
    AWS documents no error code; the stand-in answers OperationNotPermitted (EC2's
    code for termination-protected instances) and changes nothing: the AMI and
    every snapshot stay, DeleteAssociatedSnapshots notwithstanding."""
    ec2 = aws("ec2", BAKE)
    image_id, snaps = make_ami(ec2, snapshots=2)
    answer = ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=with_cooldown)
    assert answer["Return"] == value
    assert image(ec2, image_id)["DeregistrationProtection"] == value
    before = owned_counts(ec2)
    assert refused_deregistration(ec2, image_id) == "OperationNotPermitted"
    assert owned_counts(ec2) == before == (1, 2)
    assert image(ec2, image_id)["State"] == "available"


def test_disabling_without_cooldown_allows_deregistration_at_once(aws):
    """AWS EC2 API Reference, DisableImageDeregistrationProtection: once
    protection is off, the AMI can be deregistered; the AWS CLI example answers
    Return `disabled`."""
    ec2 = aws("ec2", BAKE)
    image_id, _ = make_ami(ec2, snapshots=1)
    ec2.enable_image_deregistration_protection(ImageId=image_id)
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    assert image(ec2, image_id)["DeregistrationProtection"] == "disabled"
    ec2.deregister_image(ImageId=image_id)
    assert ec2.describe_images(Owners=["self"])["Images"] == []


def test_cooldown_keeps_the_ami_protected_for_24_hours_after_disabling(aws, ctl):
    """AWS EC2 API Reference, EnableImageDeregistrationProtection WithCooldown
    (protection holds for 24 hours after it is disabled) and
    DisableImageDeregistrationProtection (with that cooldown, deregistering is
    not possible straight away). While the cooldown runs the
    stand-in reports `disabled-until <end, UTC>` (AWS documents no value for it;
    the stand-in's choice) and refuses DeregisterImage; 24 hours later (the
    stand-in's clock, POST /_standin/clock) it reports `disabled` and deregisters."""
    ec2 = aws("ec2", BAKE)
    image_id, _ = make_ami(ec2, snapshots=1)
    ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    disabled_at = stand_in_now(ctl)
    answer = ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"]
    reported = image(ec2, image_id)["DeregistrationProtection"]
    assert answer == reported and reported.startswith("disabled-until ")
    ends = datetime.fromisoformat(reported.split(" ", 1)[1].replace("Z", "+00:00"))
    assert abs(ends - (disabled_at + timedelta(hours=24))) < timedelta(seconds=5)
    assert refused_deregistration(ec2, image_id) == "OperationNotPermitted"

    ctl("POST", "clock", {"advance_seconds": DAY_SECONDS - 60})
    assert refused_deregistration(ec2, image_id) == "OperationNotPermitted"
    ctl("POST", "clock", {"advance_seconds": 120})
    assert image(ec2, image_id)["DeregistrationProtection"] == "disabled"
    ec2.deregister_image(ImageId=image_id)


def test_enabling_again_during_the_cooldown_ends_it(aws, ctl):
    """AWS EC2 User Guide, "Protect an Amazon EC2 AMI from deregistration"
    (turning protection on); what a running cooldown then becomes is not
    documented: the stand-in protects the AMI again with the new WithCooldown
    choice, so a later disable without cooldown takes effect at once, and
    disabling an unprotected AMI changes nothing (no new cooldown)."""
    ec2 = aws("ec2", BAKE)
    image_id, _ = make_ami(ec2, snapshots=1)
    ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    ec2.disable_image_deregistration_protection(ImageId=image_id)
    again = ec2.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=False)
    assert again["Return"] == "enabled-without-cooldown"
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    assert ec2.disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    ec2.deregister_image(ImageId=image_id)


def test_only_the_owner_can_change_protection(aws):
    """AWS EC2 User Guide, "Protect an Amazon EC2 AMI from deregistration": an
    owner's setting; AWS documents no code for another account, and the stand-in
    resolves the id in the caller's account (InvalidAMIID.NotFound), as for
    deprecation. The account it is shared with sees the owner's setting."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, snapshots=1)
    share(bake, image_id, snaps, PROD)
    for call in (prod.enable_image_deregistration_protection, prod.disable_image_deregistration_protection):
        with pytest.raises(ClientError) as excinfo:
            call(ImageId=image_id)
        assert error_code(excinfo) == "InvalidAMIID.NotFound"
    bake.enable_image_deregistration_protection(ImageId=image_id)
    assert image(prod, image_id)["DeregistrationProtection"] == "enabled-without-cooldown"


def test_copy_of_a_protected_ami_is_not_protected(aws):
    """AWS EC2 User Guide, "Copy an Amazon EC2 AMI": the copy is a new AMI and
    settings such as launch permissions are not copied; protection is not named
    there, and the stand-in starts every copy unprotected."""
    bake, prod = aws("ec2", BAKE), aws("ec2", PROD)
    image_id, snaps = make_ami(bake, snapshots=1)
    share(bake, image_id, snaps, PROD)
    bake.enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    done = wait_state(prod, copy(prod, image_id), "available")
    assert done["DeregistrationProtection"] == "disabled"
    prod.deregister_image(ImageId=done["ImageId"])
