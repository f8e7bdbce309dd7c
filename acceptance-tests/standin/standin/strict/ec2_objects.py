"""EC2 resources as IAM sees them: an ARN and the resource's condition keys.

The ARN formats are the Service Authorization Reference's, "Actions,
resources, and condition keys for Amazon EC2", resource types table:

- image     arn:${Partition}:ec2:${Region}::image/${ImageId}       (no account field)
- snapshot  arn:${Partition}:ec2:${Region}::snapshot/${SnapshotId} (no account field)
- volume    arn:${Partition}:ec2:${Region}:${Account}:volume/${VolumeId}
- instance  arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}
- launch-template arn:${Partition}:ec2:${Region}:${Account}:launch-template/${LaunchTemplateId}

A resource the request creates has no id yet: it is asked for as `.../*`
(e.g. arn:aws:ec2:eu-west-1::image/*), which is how EC2's encoded
authorization messages name it. A resource that does not exist is asked for
by its ARN without resource keys, so a policy decides before EC2 answers
NotFound. The keys are every key the reference lists for the resource type;
ec2_resources.py keeps those it lists for the action.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.ec2.models import ec2_backends

from .context import merge, tag_keys
from .principals import PARTITION

NEW = "*"  # the id of a resource the request creates


@dataclass(frozen=True)
class Resource:
    type: str  # image, snapshot, volume, instance, launch-template, or * (no resource-level permissions)
    arn: str
    keys: dict[str, list[str]] = field(default_factory=dict)  # lower-cased names


def arn(kind: str, region: str, account: str, resource_id: str) -> str:
    owner = "" if kind in ("image", "snapshot") else account
    return f"arn:{PARTITION}:ec2:{region}:{owner}:{kind}/{resource_id}"


def image(region: str, account: str, image_id: str) -> Resource:
    ami = _find(region, account, "amis", image_id)
    if ami is None:
        return Resource("image", arn("image", region, account, image_id or NEW))
    return Resource("image", arn("image", region, account, ami.id), merge(
        {"ec2:ImageID": ami.id, "ec2:Owner": ami.owner_id, "ec2:Public": _bool(ami.is_public),
         "ec2:ImageType": "machine", "ec2:RootDeviceType": ami.root_device_type or "ebs"},
        _tags(ami)))


def snapshot(region: str, account: str, snapshot_id: str) -> Resource:
    snap = _find(region, account, "snapshots", snapshot_id)
    if snap is None:
        return Resource("snapshot", arn("snapshot", region, account, snapshot_id or NEW))
    volume = getattr(snap, "volume", None)
    keys = {"ec2:SnapshotID": snap.id, "ec2:Owner": snap.owner_id, "ec2:Encrypted": _bool(snap.encrypted),
            "ec2:SnapshotTime": snap.start_time.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if volume is not None:
        keys["ec2:VolumeSize"] = str(volume.size)
        keys["ec2:ParentVolume"] = arn("volume", region, snap.owner_id, volume.id)
    return Resource("snapshot", arn("snapshot", region, account, snap.id), merge(keys, _tags(snap)))


def volume(region: str, account: str, volume_id: str) -> Resource:
    vol = _find(region, account, "volumes", volume_id)
    if vol is None:
        return Resource("volume", arn("volume", region, account, volume_id or NEW))
    owner = vol.ec2_backend.account_id
    keys = {"ec2:VolumeID": vol.id, "ec2:VolumeSize": str(vol.size), "ec2:Encrypted": _bool(vol.encrypted),
            "ec2:VolumeType": vol.volume_type, "ec2:AvailabilityZone": getattr(vol.zone, "name", vol.zone)}
    if vol.snapshot_id:
        keys["ec2:ParentSnapshot"] = arn("snapshot", region, owner, vol.snapshot_id)
    return Resource("volume", arn("volume", region, owner, vol.id), merge(keys, _tags(vol)))


def instance(region: str, account: str, instance_id: str) -> Resource:
    found = _instance(region, account, instance_id)
    if found is None:
        return Resource("instance", arn("instance", region, account, instance_id or NEW))
    return Resource("instance", arn("instance", region, account, found.id), merge(
        {"ec2:InstanceID": found.id, "ec2:InstanceType": found.instance_type}, _tags(found)))


def launch_template(region: str, account: str, template_id: str | None, name: str | None) -> Resource:
    backend = _backend(account, region)
    templates = list(getattr(backend, "launch_templates", {}).values()) if backend is not None else []
    found = next((t for t in templates if t.id == template_id or (name and t.name == name)), None)
    if found is None:
        return Resource("launch-template", arn("launch-template", region, account, template_id or NEW))
    return Resource("launch-template", arn("launch-template", region, account, found.id), _tags(found))


def new(kind: str, region: str, account: str) -> Resource:
    """The resource a creating request is about to make."""
    return Resource(kind, arn(kind, region, account, NEW))


def _find(region: str, account: str, collection: str, resource_id: str) -> Any | None:
    """The resource in the caller's account, else in any account of the Region
    (shared AMIs and snapshots are other accounts')."""
    if not resource_id:
        return None
    for backend in _backends(region, first=account):
        found = getattr(backend, collection, {}).get(resource_id)
        if found is not None:
            return found
    return None


def _instance(region: str, account: str, instance_id: str) -> Any | None:
    backend = _backend(account, region)
    for reservation in (getattr(backend, "reservations", {}) or {}).values() if backend else ():
        for found in reservation.instances:
            if found.id == instance_id:
                return found
    return None


def _tags(resource: Any) -> dict[str, list[str]]:
    """ec2:ResourceTag/K and aws:ResourceTag/K: the owner's tags on the resource."""
    backend = resource.ec2_backend
    tags = dict(backend.tags.get(resource.id, {}))
    return merge(tag_keys("ec2:ResourceTag", tags), tag_keys("aws:ResourceTag", tags))


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _backend(account: str, region: str) -> Any | None:
    per_region = dict.get(ec2_backends, account)
    return dict.get(per_region, region) if per_region is not None else None


def _backends(region: str, first: str) -> Iterator[Any]:
    own = _backend(first, region)
    if own is not None:
        yield own
    for acct, per_region in list(dict.items(ec2_backends)):
        backend = dict.get(per_region, region)
        if acct != first and backend is not None:
            yield backend
