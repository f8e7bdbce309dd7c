"""AMI deregistration protection, absent from moto 5.2.5 (the two actions are
unknown there and DescribeImages has no DeregistrationProtection).

Follows the EC2 API Reference (EnableImageDeregistrationProtection with
WithCooldown, DisableImageDeregistrationProtection, the Image data type's
DeregistrationProtection) and the EC2 User Guide, "Protect an Amazon EC2 AMI
from deregistration":

- a protected AMI cannot be deregistered; protection is off on every AMI until
  its owner turns it on, and only the owner can (others get
  InvalidAMIID.NotFound, as for deprecation: the id is resolved in the
  caller's own account);
- with WithCooldown=true, turning protection off leaves the AMI protected for
  24 more hours; without it, turning it off takes effect at once;
- DescribeImages reports `enabled-with-cooldown`, `enabled-without-cooldown`
  or `disabled`, and both actions answer the new value in `Return` (a string),
  as the AWS CLI examples for the two commands show.

Where AWS is silent the stand-in chooses, and says so here and in README.md:

- while a cooldown runs, DescribeImages (and the disabling call's Return)
  answer `disabled-until YYYY-MM-DDTHH:MM:SS.000Z`, the time the cooldown
  ends, in DeprecationTime's format; no stored AWS page shows the value in
  that state, so a client should treat every value not starting `enabled` as
  "protection turned off", and still expect DeregisterImage to be refused
  until that time;
- DeregisterImage of a protected AMI, or during a cooldown, is refused with
  OperationNotPermitted (HTTP 400), the code EC2 gives for the like case of
  terminating an instance with termination protection ("Error codes for the
  Amazon EC2 API"); nothing changes, DeleteAssociatedSnapshots included;
- turning protection on again during a cooldown ends the cooldown (the AMI is
  protected, with the newly chosen WithCooldown); turning it on when it is on
  replaces the WithCooldown choice; turning it off when it is off, or during a
  cooldown, changes nothing (the cooldown is not restarted);
- a copy (CopyImage) starts unprotected: like launch permissions, protection
  belongs to the source AMI ("Copy an Amazon EC2 AMI" lists what is not
  copied; protection is not named either way).

The cooldown is measured on the stand-in's wall clock (`state.wall_now`), which
POST /_standin/clock moves forward, so tests can let 24 hours pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.amis import Ami
from moto.ec2.responses import EC2Response

from .deprecation import format_time
from .errors import ec2_error
from .images import own_image
from .state import wall_now

COOLDOWN = timedelta(hours=24)
DISABLED = "disabled"
WITH_COOLDOWN = "enabled-with-cooldown"
WITHOUT_COOLDOWN = "enabled-without-cooldown"
# Per-AMI attributes: the enabled state (None: off) and when a cooldown ends.
ENABLED_ATTR = "_standin_protection"
UNTIL_ATTR = "_standin_protection_until"


def cooldown_ends(ami: Any, now: datetime | None = None) -> datetime | None:
    """When the running cooldown ends, or None when none runs."""
    until = getattr(ami, UNTIL_ATTR, None)
    return until if until is not None and (now or wall_now()) < until else None


def protection(ami: Any, now: datetime | None = None) -> str:
    """The DeregistrationProtection value DescribeImages reports."""
    enabled = getattr(ami, ENABLED_ATTR, None)
    if enabled:
        return enabled
    until = cooldown_ends(ami, now)
    return f"disabled-until {format_time(until)}" if until else DISABLED


def check_deregistrable(ami: Any) -> None:
    """Refuse (OperationNotPermitted) deregistering a protected AMI, or one whose
    cooldown still runs; the caller has changed nothing yet."""
    state = protection(ami)
    if state == DISABLED:
        return
    raise ec2_error(
        "OperationNotPermitted",
        f"The image {ami.id} can't be deregistered because deregistration "
        f"protection is {state}.",
    )


def enable_image_deregistration_protection(self: EC2Response) -> ActionResult:
    self.error_on_dryrun()
    ami = own_image(self)
    with_cooldown = self._get_bool_param("WithCooldown", False)
    setattr(ami, ENABLED_ATTR, WITH_COOLDOWN if with_cooldown else WITHOUT_COOLDOWN)
    setattr(ami, UNTIL_ATTR, None)  # protected again: a running cooldown no longer matters
    return ActionResult({"Return": protection(ami)})


def disable_image_deregistration_protection(self: EC2Response) -> ActionResult:
    self.error_on_dryrun()
    ami = own_image(self)
    if getattr(ami, ENABLED_ATTR, None) == WITH_COOLDOWN:
        setattr(ami, UNTIL_ATTR, wall_now() + COOLDOWN)
    setattr(ami, ENABLED_ATTR, None)
    return ActionResult({"Return": protection(ami)})


def install() -> None:
    # Image.DeregistrationProtection is a string in the EC2 model, on every AMI.
    Ami.deregistration_protection = property(protection)
    EC2Response.enable_image_deregistration_protection = enable_image_deregistration_protection
    EC2Response.disable_image_deregistration_protection = disable_image_deregistration_protection
