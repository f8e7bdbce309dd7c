"""Cross-account visibility of AMIs and snapshots (moto shows each account only its own).

AWS EC2 User Guide, "Share an AMI with specific AWS accounts" / "Share an
Amazon EBS snapshot": a shared AMI or snapshot is describable by the accounts
it is shared with, and tags are per account ("Tag your Amazon EC2 resources":
tags you add to a shared resource are visible only in your account).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.core import TaggedEC2Resource

from . import state


def other_backends(account: str, region: str) -> Iterator[Any]:
    """EC2 backends of the other accounts that exist in `region` (never creates one)."""
    for acct, per_region in list(dict.items(ec2_backends)):
        if acct != account:
            backend = dict.get(per_region, region)
            if backend is not None:
                yield backend


def _org_grants(perm: dict[str, str], account: str) -> bool:
    membership = state.STATE.orgs.get(account) or {}
    org_arn = perm.get("OrganizationArn")
    if org_arn and org_arn == membership.get("organization_arn"):
        return True
    ou_arn = perm.get("OrganizationalUnitArn")
    return bool(ou_arn) and ou_arn in membership.get("ou_arns", [])


def explicitly_launchable(ami: Any, account: str) -> bool:
    """Launch permission granted to `account` by id, organization or OU (as
    readers see the permissions: consistency.py)."""
    from .consistency import launch_permissions

    return any(
        perm.get("UserId") == account or _org_grants(perm, account)
        for perm in launch_permissions(ami)
    )


def can_launch(ami: Any, account: str) -> bool:
    from .consistency import is_public

    return ami.owner_id == account or is_public(ami) or explicitly_launchable(ami, account)


def can_restore(snapshot: Any, account: str) -> bool:
    """createVolumePermission: the owner, an explicit grant, or group `all`."""
    from .consistency import volume_permissions

    users, groups = volume_permissions(snapshot)
    return snapshot.owner_id == account or account in users or "all" in groups


def image_snapshot_ids(ami: Any) -> list[str]:
    return [
        bdm["Ebs"]["SnapshotId"]
        for bdm in ami.block_device_mappings
        if bdm.get("Ebs", {}).get("SnapshotId")
    ]


class SharedView:
    """Another account's AMI or snapshot as the viewing account sees it.

    Everything is the owner's except tags: the viewer sees only tags it wrote
    itself (kept in its own backend, keyed by the resource id).
    """

    def __init__(self, resource: Any, viewer_backend: Any) -> None:
        self._resource = resource
        self._viewer = viewer_backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resource, name)

    def get_tags(self) -> list[dict[str, str]]:
        return self._viewer.describe_tags(filters={"resource-id": [self._resource.id]})

    @property
    def tag_set(self) -> list[dict[str, str]]:
        return self.get_tags()

    tag_list = tag_set

    def get_filter_value(self, filter_name: str, method_name: str | None = None) -> Any:
        if filter_name.startswith("tag"):
            return TaggedEC2Resource.get_filter_value(self, filter_name, method_name)
        return self._resource.get_filter_value(filter_name, method_name)


def visible_images(account: str, region: str, own_backend: Any) -> list[Any]:
    """Own images, then images other accounts let `account` launch."""
    images: list[Any] = list(own_backend.amis.values())
    for backend in other_backends(account, region):
        images += [
            SharedView(ami, own_backend)
            for ami in list(backend.amis.values())
            if can_launch(ami, account)
        ]
    return images


def visible_snapshots(account: str, region: str, own_backend: Any) -> list[Any]:
    snapshots: list[Any] = list(own_backend.snapshots.values())
    for backend in other_backends(account, region):
        snapshots += [
            SharedView(snap, own_backend)
            for snap in list(backend.snapshots.values())
            if can_restore(snap, account)
        ]
    return snapshots


def find_image(account: str, region: str, image_id: str) -> Any | None:
    """The real Ami object `account` may launch, or None."""
    own = ec2_backends[account][region]
    if image_id in own.amis:
        return own.amis[image_id]
    for backend in other_backends(account, region):
        ami = backend.amis.get(image_id)
        if ami is not None and can_launch(ami, account):
            return ami
    return None
