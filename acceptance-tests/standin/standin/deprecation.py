"""AMI deprecation, absent from moto 5.2.5 (EnableImageDeprecation and
DisableImageDeprecation are NotImplemented there, DescribeImages never reports
DeprecationTime and ignores IncludeDeprecated).

Follows the EC2 API Reference (EnableImageDeprecation, DisableImageDeprecation,
DescribeImages IncludeDeprecated, the Image data type's DeprecationTime) and the
EC2 User Guide, "Deprecate an Amazon EC2 AMI":

- only the owner deprecates (others get InvalidAMIID.NotFound here: the call
  is resolved in the caller's own account; AWS documents no code for it);
- DeprecateAt may not be in the past, nor later than 10 years from now (public
  AMIs: 2 years after creation); AWS names no error code, the stand-in answers
  InvalidParameterValue;
- seconds are rounded to the nearest minute (half a minute rounds up);
- an AMI is deprecated once its deprecation time is not in the future. The
  time is read from the stand-in's clock (`state.wall_now`), which the admin
  API can move forward, since AWS refuses a DeprecateAt in the past.

Who sees a deprecated AMI is decided in ec2_describe (`hidden_from`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.amis import Ami
from moto.ec2.responses import EC2Response

from .errors import ec2_error
from .images import own_image
from .state import wall_now

ATTR = "_standin_deprecate_at"
MAX_AHEAD = timedelta(days=3652)  # 10 years
MAX_AFTER_CREATION_PUBLIC = timedelta(days=730)  # 2 years


def deprecate_at(ami: Any) -> datetime | None:
    return getattr(ami, ATTR, None)


def is_deprecated(ami: Any, now: datetime | None = None) -> bool:
    """Deprecated once the deprecation time is reached; a future time only schedules it."""
    when = deprecate_at(ami)
    return when is not None and when <= (now or wall_now())


def hidden_from(ami: Any, account: str, now: datetime | None = None) -> bool:
    """Left out of a DescribeImages listing for `account`: deprecated and owned
    by someone else (owners always see their own deprecated AMIs)."""
    return ami.owner_id != account and is_deprecated(ami, now)


def round_to_minute(value: datetime) -> datetime:
    return (value + timedelta(seconds=30)).replace(second=0, microsecond=0)


def format_time(value: datetime) -> str:
    # The form DescribeImages shows (User Guide example and live output): milliseconds, Z.
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_time(raw: Any) -> datetime:
    if raw in (None, ""):
        raise ec2_error("MissingParameter", "The request must contain the parameter DeprecateAt")
    text = str(raw).strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.fromtimestamp(float(text), tz=timezone.utc)
        except ValueError:
            raise ec2_error(
                "InvalidParameterValue", f"Value ({text}) for parameter deprecateAt is invalid."
            ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def enable_image_deprecation(self: EC2Response) -> ActionResult:
    self.error_on_dryrun()
    ami = own_image(self)
    requested = _parse_time(self._get_param("DeprecateAt"))
    now = wall_now()
    if requested < now:
        raise ec2_error(
            "InvalidParameterValue",
            f"The deprecation time {format_time(requested)} is in the past; specify a future date and time.",
        )
    if ami.is_public:
        created = ami.creation_date
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        limit = created + MAX_AFTER_CREATION_PUBLIC
    else:
        limit = now + MAX_AHEAD
    if requested > limit:
        raise ec2_error(
            "InvalidParameterValue",
            f"The deprecation time {format_time(requested)} is later than the limit {format_time(limit)}.",
        )
    setattr(ami, ATTR, round_to_minute(requested))
    return ActionResult({"Return": True})


def disable_image_deprecation(self: EC2Response) -> ActionResult:
    self.error_on_dryrun()
    ami = own_image(self)
    setattr(ami, ATTR, None)
    return ActionResult({"Return": True})


def _deprecation_time(ami: Any) -> str | None:
    when = deprecate_at(ami)
    return format_time(when) if when is not None else None


def install() -> None:
    # Image.DeprecationTime is a string in the EC2 model; absent when unset.
    Ami.deprecation_time = property(_deprecation_time)
    EC2Response.enable_image_deprecation = enable_image_deprecation
    EC2Response.disable_image_deprecation = disable_image_deprecation
