"""Eventual consistency: `--consistency-lag SECONDS` (options.py).

EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API": the
effect of a command is not seen at once by the commands that follow; a
resource just created can be unknown to a Describe for a while (its
NotFound error does not mean it does not exist), and callers are told to
poll with backoff from a few seconds up to minutes. The DescribeImages
reference adds that recently deregistered images still appear in results
for a short interval. The KMS Developer Guide ("Using a grant token",
"Eventual consistency") and the CreateGrant / RetireGrant / RevokeGrant
references: a created, retired or revoked grant takes effect after a brief
delay, typically seconds and usually less than five minutes; a request
carrying the grant's token may use a new grant at once.

Each write is stamped, when it is made, with the time readers will first
see it: now plus a random delay, uniform in [0, SECONDS] (timing.py), on
the stand-in's clock (`state.wall_now`, the clock AMI deprecation and the
deregistration-protection cooldown read, which POST /_standin/clock moves).
Writes to one resource are seen in the order they were made. Reads filter
moto's state against the stamps:

- a new AMI or snapshot (CopyImage, RegisterImage, CreateSnapshot,
  CopySnapshot; any Ami or Snapshot created) is left out of
  DescribeImages / DescribeSnapshots (by id: InvalidAMIID.NotFound /
  InvalidSnapshot.NotFound; a listing or filter simply lacks it) and
  DescribeImageAttribute / DescribeSnapshotAttribute (NotFound) until seen;
- CreateTags / DeleteTags: every reader of a resource's tags (Describe*
  answers and their tag filters) sees the tags as they were before the
  write until it is seen;
- launch permissions (ModifyImageAttribute, DisableImage) and
  createVolumePermission (ModifySnapshotAttribute): who may describe or
  copy a shared AMI or snapshot, and DescribeImageAttribute /
  DescribeSnapshotAttribute, follow the permissions as they were;
- DeregisterImage: the AMI stays listed (state `deregistered`) to everyone
  who saw it, and its snapshots stay in use by it (DeleteSnapshot:
  InvalidSnapshot.InUse), until the deregistration is seen;
- KMS grants (kms_grants.py): a new grant allows nothing and is not listed,
  a retired or revoked one still allows and is listed, until seen.

Writes themselves are never refused for a write not yet seen (a tag or
permission change on a new AMI works at once), although AWS may answer
such a call NotFound. Without the flag every stamp is "now": nothing here
changes what the stand-in answers.
"""

from __future__ import annotations

from typing import Any, Callable

from moto.ec2.models.amis import Ami
from moto.ec2.models.elastic_block_store import EBSBackend, Snapshot
from moto.ec2.responses import EC2Response

from . import options, state, timing
from .sharing import SharedView, can_launch

TAGS = "tags"
LAUNCH_PERMISSIONS = "launchPermission"
VOLUME_PERMISSIONS = "createVolumePermission"


def enabled() -> bool:
    return options.CURRENT.consistency_lag_seconds > 0


def now() -> float:
    """The stand-in's clock, in seconds since the epoch."""
    return state.wall_now().timestamp()


def stamp() -> float:
    """When a write made now will be seen."""
    return now() + timing.lag_seconds()


def visible(resource: Any) -> bool:
    """Whether a new AMI or snapshot (or a SharedView of one) is seen yet."""
    at = getattr(resource, "_standin_visible_at", None)
    return at is None or at <= now()


# Values readers see with a lag: tags, launch permissions, createVolumePermission.

def record(kind: str, account: str, region: str, resource_id: str, before: Any, after: Any) -> None:
    """Remember a write of `kind` to one resource; readers see `before` until it is seen."""
    if not enabled() or before == after:
        return
    key = (kind, account, region, resource_id)
    versions = state.STATE.pending_views.get(key) or [(float("-inf"), before)]
    # A later write is never seen before an earlier one to the same resource.
    versions.append((max(stamp(), versions[-1][0]), after))
    state.STATE.pending_views[key] = versions


def seen(kind: str, account: str, region: str, resource_id: str, current: Any) -> Any:
    """What readers see of a resource's `kind` now; `current` is the value moto holds."""
    key = (kind, account, region, resource_id)
    versions = state.STATE.pending_views.get(key)
    if not versions:
        return current
    moment = now()
    if versions[-1][0] <= moment:
        del state.STATE.pending_views[key]  # every write is seen: moto's value is the truth
        return current
    return next(value for at, value in reversed(versions) if at <= moment)


def tags(backend: Any, resource_id: str, current: dict[str, str]) -> dict[str, str]:
    """A resource's tags in one account's tag store (`backend`), as readers see them."""
    if not enabled():
        return current
    return seen(TAGS, backend.account_id, backend.region_name, resource_id, current)


def launch_permissions(ami: Any) -> list[dict[str, str]]:
    if not enabled():
        return ami.launch_permissions
    backend = ami.ec2_backend
    return seen(LAUNCH_PERMISSIONS, backend.account_id, backend.region_name, ami.id, ami.launch_permissions)


def is_public(ami: Any) -> bool:
    return {"Group": "all"} in launch_permissions(ami)


def volume_permissions(snapshot: Any) -> tuple[set[str], set[str]]:
    """(user ids, groups) of a snapshot's createVolumePermission, as readers see them."""
    current = (snapshot.create_volume_permission_userids, snapshot.create_volume_permission_groups)
    if not enabled():
        return current
    backend = snapshot.ec2_backend
    return seen(VOLUME_PERMISSIONS, backend.account_id, backend.region_name, snapshot.id, current)


# Deregistered AMIs still listed.

def deregistered_images(account: str, region: str, own_backend: Any) -> list[Any]:
    """Deregistered AMIs `account` still sees in `region`: its own, and other
    accounts' it could launch when they were deregistered."""
    listed: list[Any] = []
    moment = now()
    for (owner, where), amis in list(state.STATE.deregistered.items()):
        if where != region:
            continue
        for image_id, (ami, until) in list(amis.items()):
            if until <= moment:
                del amis[image_id]
            elif owner == account:
                listed.append(ami)
            elif can_launch(ami, account):
                listed.append(SharedView(ami, own_backend))
    return listed


def deregistered_holder(account: str, region: str, snapshot_id: str) -> str | None:
    """The id of a deregistered, still listed AMI of `account` using the snapshot."""
    from .sharing import image_snapshot_ids

    moment = now()
    for image_id, (ami, until) in list(state.STATE.deregistered.get((account, region), {}).items()):
        if until > moment and snapshot_id in image_snapshot_ids(ami):
            return image_id
    return None


# Where writes are stamped and recorded.

def _stamping(init: Callable[..., None]) -> Callable[..., None]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if enabled():
            self._standin_visible_at = stamp()

    return wrapper


def _recording(method: Callable[[EC2Response], Any],
               read: Callable[[EC2Response], dict[tuple[str, str, str, str], Any]]):
    """Wrap an EC2 action so each value `read` names is recorded as written."""

    def wrapper(self: EC2Response) -> Any:
        if not enabled():
            return method(self)
        before = read(self)
        result = method(self)
        after = read(self)
        for key, value in before.items():
            if key in after:
                record(*key, value, after[key])
        return result

    return wrapper


def _tag_values(response: EC2Response) -> dict[tuple[str, str, str, str], Any]:
    backend = response.ec2_backend
    return {(TAGS, backend.account_id, backend.region_name, rid): dict(backend.tags.get(rid, {}))
            for rid in response._get_param("Resources", []) or []}


def _image_permissions(response: EC2Response) -> dict[tuple[str, str, str, str], Any]:
    backend = response.ec2_backend
    ami = backend.amis.get(response._get_param("ImageId") or "")
    if ami is None:
        return {}
    return {(LAUNCH_PERMISSIONS, backend.account_id, backend.region_name, ami.id):
            [dict(p) for p in ami.launch_permissions]}


def _snapshot_permissions(response: EC2Response) -> dict[tuple[str, str, str, str], Any]:
    backend = response.ec2_backend
    snap = backend.snapshots.get(response._get_param("SnapshotId") or "")
    if snap is None:
        return {}
    return {(VOLUME_PERMISSIONS, backend.account_id, backend.region_name, snap.id):
            (set(snap.create_volume_permission_userids), set(snap.create_volume_permission_groups))}


def _deregistering(method: Callable[[EC2Response], Any]):
    def wrapper(self: EC2Response) -> Any:
        backend = self.ec2_backend
        ami = backend.amis.get(self._get_param("ImageId") or "")
        result = method(self)
        if enabled() and ami is not None and ami.id not in backend.amis:
            ami.state = "deregistered"
            state.STATE.deregistered[(backend.account_id, backend.region_name)][ami.id] = (
                ami, max(stamp(), getattr(ami, "_standin_visible_at", 0.0)))
        return result

    return wrapper


def _describe_snapshot_attribute(method: Callable[[EC2Response], Any]):
    def wrapper(self: EC2Response) -> Any:
        snap = self.ec2_backend.snapshots.get(self._get_param("SnapshotId") or "")
        if snap is not None and not visible(snap):
            from .ec2_fixes import snapshot_not_found

            raise snapshot_not_found(snap.id)
        return method(self)

    return wrapper


def install() -> None:
    """Runs after the other patches: it wraps the layer's versions of these actions."""
    Ami.__init__ = _stamping(Ami.__init__)
    Snapshot.__init__ = _stamping(Snapshot.__init__)
    EC2Response.create_tags = _recording(EC2Response.create_tags, _tag_values)
    EC2Response.delete_tags = _recording(EC2Response.delete_tags, _tag_values)
    EC2Response.modify_image_attribute = _recording(EC2Response.modify_image_attribute, _image_permissions)
    EC2Response.disable_image = _recording(EC2Response.disable_image, _image_permissions)
    EC2Response.modify_snapshot_attribute = _recording(EC2Response.modify_snapshot_attribute,
                                                       _snapshot_permissions)
    EC2Response.reset_snapshot_attribute = _recording(EC2Response.reset_snapshot_attribute,
                                                      _snapshot_permissions)
    EC2Response.deregister_image = _deregistering(EC2Response.deregister_image)
    EC2Response.describe_snapshot_attribute = _describe_snapshot_attribute(
        EC2Response.describe_snapshot_attribute)
    EBSBackend.get_create_volume_permission_userids = (
        lambda self, snapshot_id: volume_permissions(self.get_snapshot(snapshot_id))[0])
    EBSBackend.get_create_volume_permission_groups = (
        lambda self, snapshot_id: volume_permissions(self.get_snapshot(snapshot_id))[1])
