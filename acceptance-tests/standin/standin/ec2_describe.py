"""DescribeImages and DescribeSnapshots that see what other accounts shared.

Semantics follow the AWS EC2 API Reference for DescribeImages (ImageIds,
Owners, ExecutableUsers, IncludeDeprecated, IncludeDisabled, Filters,
MaxResults, NextToken) and DescribeSnapshots (SnapshotIds, OwnerIds,
RestorableByUserIds, Filters, MaxResults, NextToken; paging in paging.py).
moto's malformed-id handling is kept; an ImageIds entry naming no AMI the
caller may see fails the whole call with InvalidAMIID.NotFound, while a filter
(`image-id`) value that matches nothing only matches nothing.

ExecutableUsers (DescribeImages reference; EC2 User Guide, "Find shared AMIs"):
`self` or the caller's own id selects AMIs shared with the caller, by account,
organization or OU, never the caller's own; another account id selects AMIs
with a launch permission for exactly that id (not its organization or OU), of
the AMIs whose permissions the caller can see, its own; `all` the public AMIs.
RestorableByUserIds (DescribeSnapshots reference): `self` selects snapshots the
caller owns or has an explicit createVolumePermission on; another account id,
the caller's own snapshots shared with that id; `all` the public snapshots.

Disabled AMIs ("Disable an Amazon EC2 AMI"; DescribeImages IncludeDisabled) are
left out of every answer unless IncludeDisabled=true.

Deprecated AMIs (EC2 User Guide, "Deprecate an Amazon EC2 AMI"): a listing
leaves out other accounts' deprecated AMIs unless IncludeDeprecated=true; the
owner always sees its own, and asking by ImageIds returns them whatever
IncludeDeprecated says.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidAMIIdError, MalformedAMIIdError
from moto.ec2.models.amis import Ami
from moto.ec2.responses import EC2Response
from moto.ec2.utils import generic_filter

from . import consistency, paging
from .deprecation import hidden_from
from .errors import ec2_error
from .sharing import explicitly_launchable, image_snapshot_ids, visible_images, visible_snapshots
from .state import wall_now

_moto_ami_filter_value = Ami.get_filter_value


def _selves(values: list[str], account: str) -> list[str]:
    return [account if v == "self" else v for v in values]


def _executable_by(ami: Any, user: str, account: str) -> bool:
    """ExecutableUsers entry `user` (already `self`-resolved) selects `ami`."""
    if user == "all":
        return consistency.is_public(ami)
    if user == account:
        # Shared with the caller by id, organization or OU; the caller's own
        # AMIs are not "shared with" it (User Guide, "Find shared AMIs").
        return ami.owner_id != account and explicitly_launchable(ami, user)
    # Another account: only an explicit grant to that id, and only on AMIs
    # whose launch permissions the caller can see (its own).
    return ami.owner_id == account and any(
        p.get("UserId") == user for p in consistency.launch_permissions(ami))


def _restorable_by(snapshot: Any, user: str, account: str) -> bool:
    """RestorableByUserIds entry `user` (already `self`-resolved) selects `snapshot`."""
    users, groups = consistency.volume_permissions(snapshot)
    if user == "all":
        return "all" in groups
    if user == account:
        return snapshot.owner_id == account or account in users
    return snapshot.owner_id == account and user in users


def describe_images(self: EC2Response) -> ActionResult:
    self.error_on_dryrun()
    account, backend = self.current_account, self.ec2_backend
    ami_ids: list[str] = self._get_param("ImageIds", [])
    owners = _selves(self._get_param("Owners", []), account)
    exec_users = _selves(self._get_param("ExecutableUsers", []), account)
    include_deprecated = self._get_bool_param("IncludeDeprecated", False)
    include_disabled = self._get_bool_param("IncludeDisabled", False)
    size = paging.page_size(self._get_param("MaxResults"), "imagesSet" if ami_ids else None)
    # A new AMI is not seen until its write is; a deregistered one still is
    # until its deregistration is (consistency.py).
    images = visible_images(account, self.region, backend)
    images += consistency.deregistered_images(account, self.region, backend)
    images = [ami for ami in images if consistency.visible(ami)]
    if not include_disabled:
        images = [ami for ami in images if ami.state != "disabled"]

    if ami_ids:
        malformed = [i for i in ami_ids if not i.startswith("ami-")]
        if malformed:
            raise MalformedAMIIdError(malformed)
        # A disabled AMI is not in the answer, and not missing either.
        disabled = {a.id for a in backend.amis.values() if a.state == "disabled"}
        images = [ami for ami in images if ami.id in ami_ids]
        # One id the caller cannot see fails the whole call (moto failed it only
        # when no id was found); a recently deregistered one answers nothing.
        found = {ami.id for ami in images}
        missing = [
            i for i in dict.fromkeys(ami_ids)
            if i not in found and i not in backend.deleted_amis and i not in disabled
        ]
        if missing:
            raise InvalidAMIIdError(missing)
    elif not include_deprecated:
        now = wall_now()
        images = [ami for ami in images if not hidden_from(ami, account, now)]
    if exec_users:
        images = [ami for ami in images if any(_executable_by(ami, u, account) for u in exec_users)]
    if owners:
        images = [a for a in images if a.owner_id in owners or a.owner_alias in owners]
    filters = self._filters_from_querystring()
    if filters:
        images = generic_filter(filters, images)
    images, token = paging.paginate("DescribeImages", images, size, self._get_param("NextToken"))
    result: dict[str, Any] = {"Images": images}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def describe_snapshots(self: EC2Response) -> ActionResult:
    self.error_on_dryrun()
    account = self.current_account
    snapshot_ids: list[str] = self._get_param("SnapshotIds", [])
    owners = _selves(self._get_param("OwnerIds", []), account)
    restorable_by = _selves(self._get_param("RestorableByUserIds", []), account)
    size = paging.page_size(self._get_param("MaxResults"), "snapshotSet" if snapshot_ids else None)
    snapshots: list[Any] = [s for s in visible_snapshots(account, self.region, self.ec2_backend)
                            if consistency.visible(s)]

    if snapshot_ids:
        snapshots = [s for s in snapshots if s.id in snapshot_ids]
        missing = sorted(set(snapshot_ids) - {s.id for s in snapshots})
        if missing:
            raise ec2_error(
                "InvalidSnapshot.NotFound", f"The snapshot '{missing[0]}' does not exist."
            )
    if owners:
        snapshots = [s for s in snapshots if s.owner_id in owners]
    if restorable_by:
        snapshots = [s for s in snapshots if any(_restorable_by(s, u, account) for u in restorable_by)]
    filters = self._filters_from_querystring()
    if filters:
        snapshots = generic_filter(filters, snapshots)
    snapshots, token = paging.paginate(
        "DescribeSnapshots", snapshots, size, self._get_param("NextToken")
    )
    result: dict[str, Any] = {"Snapshots": snapshots}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def disable_image(self: EC2Response) -> ActionResult:
    """DisableImage (owner only): state `disabled` and every launch permission
    removed, so it is no longer public or shared (moto kept the permissions).
    EnableImage does not bring them back ("Disable an Amazon EC2 AMI")."""
    self.error_on_dryrun()
    ami_id = self._get_param("ImageId")
    self.ec2_backend.disable_image(ami_id)
    self.ec2_backend.amis[ami_id].launch_permissions = []
    return ActionResult({"Return": True})


def ami_filter_value(self: Any, filter_name: str, method_name: str | None = None) -> Any:
    """DescribeImages filters `block-device-mapping.snapshot-id` (the snapshot
    behind any EBS mapping) and `block-device-mapping.encrypted` (whether an
    EBS mapping's volume is encrypted, "true" or "false"), which moto does
    not know. A filter value matches when any mapping has it."""
    if filter_name == "block-device-mapping.snapshot-id":
        return image_snapshot_ids(self)
    if filter_name == "block-device-mapping.encrypted":
        return sorted(
            {
                "true" if (m.get("Ebs") or {}).get("Encrypted") else "false"
                for m in self.block_device_mappings
                if m.get("Ebs")
            }
        )
    return _moto_ami_filter_value(self, filter_name, method_name)


def install() -> None:
    Ami.get_filter_value = ami_filter_value
    EC2Response.describe_images = describe_images
    EC2Response.describe_snapshots = describe_snapshots
    EC2Response.disable_image = disable_image
