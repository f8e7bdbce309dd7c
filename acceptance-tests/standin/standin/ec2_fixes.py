"""Smaller corrections to moto's EC2, each as the AWS EC2 API Reference documents it."""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.exceptions import InvalidAMIIdError, MalformedAMIIdError
from moto.ec2.models.amis import AmiBackend
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.responses import EC2Response
from moto.kms import kms_backends

from . import consistency, images, protection, state, tag_rules
from .errors import ec2_error
from .sharing import image_snapshot_ids


def snapshot_not_found(snapshot_id: str) -> Exception:
    # moto sends an empty message, which SDKs surface as "None".
    return ec2_error("InvalidSnapshot.NotFound", f"The snapshot '{snapshot_id}' does not exist.")


def get_snapshot(self: Any, snapshot_id: str) -> Any:
    snapshot = self.snapshots.get(snapshot_id)
    if snapshot is None:
        raise snapshot_not_found(snapshot_id)
    return snapshot


def delete_snapshot(self: Any, snapshot_id: str) -> Any:
    """DeleteSnapshot: InvalidSnapshot.InUse while any registered AMI uses it,
    or a deregistered one that is still listed (consistency.py)."""
    get_snapshot(self, snapshot_id)  # InvalidSnapshot.NotFound before anything else
    holder = next((ami.id for ami in self.amis.values() if snapshot_id in image_snapshot_ids(ami)),
                  None) or consistency.deregistered_holder(self.account_id, self.region_name, snapshot_id)
    if holder is not None:
        raise ec2_error(
            "InvalidSnapshot.InUse", f"The snapshot {snapshot_id} is currently in use by {holder}"
        )
    return self.snapshots.pop(snapshot_id)


def create_snapshot(self: Any, volume_id: str, description: str, *args: Any, **kwargs: Any) -> Any:
    """A snapshot of an encrypted volume is encrypted with the volume's KMS key
    (moto keeps the flag but drops the key)."""
    snapshot = _moto_create_snapshot(self, volume_id, description, *args, **kwargs)
    if snapshot.encrypted and not snapshot.kms_key_id:
        snapshot.kms_key_id = snapshot.volume.kms_key_id
    return snapshot


def describe_image_attribute(self: Any, ami_id: str, attribute_name: str) -> Any:
    """A missing AMI is InvalidAMIID.NotFound, not a KeyError (HTTP 500) as in
    moto; so is one not seen yet, whose launch permissions are as readers see
    them (consistency.py)."""
    if not ami_id or not ami_id.startswith("ami-"):
        raise MalformedAMIIdError([ami_id])
    if ami_id not in self.amis or not consistency.visible(self.amis[ami_id]):
        raise InvalidAMIIdError(ami_id)
    if attribute_name == "launch_permissions":
        return consistency.launch_permissions(self.amis[ami_id])
    return getattr(self.amis[ami_id], attribute_name)


def modify_snapshot_attribute(self: EC2Response) -> ActionResult:
    """Both request forms: OperationType + UserId.N / UserGroup.N, and the
    structured CreateVolumePermission.Add.N / .Remove.N (ignored by moto)."""
    snapshot_id = self._get_param("SnapshotId")
    self.error_on_dryrun()
    snapshot = get_snapshot(self.ec2_backend, snapshot_id)
    structured = self._get_param("CreateVolumePermission", {}) or {}
    add = [p for p in structured.get("Add", []) if p]
    remove = [p for p in structured.get("Remove", []) if p]
    operation = self._get_param("OperationType")
    legacy = [{"UserId": u} for u in self._get_param("UserIds", [])]
    legacy += [{"Group": g} for g in self._get_param("GroupNames", [])]
    if operation == "add":
        add += legacy
    elif operation == "remove":
        remove += legacy
    if add and remove:
        raise ec2_error(
            "InvalidParameterCombination",
            "You can add or remove createVolumePermission in one call, not both.",
        )
    for perm in add + remove:
        user, group = perm.get("UserId"), perm.get("Group")
        if user is not None and not (len(user) == 12 and user.isdigit()):
            raise ec2_error("InvalidUserID.Malformed", f"Invalid user id: '{user}'")
        if group is not None and group != "all":
            raise ec2_error("InvalidParameterValue", f"Invalid group: '{group}'")
    if add and snapshot.encrypted and _is_aws_managed(snapshot):
        raise ec2_error(
            "InvalidParameter",
            "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.",
        )
    if add and snapshot.encrypted and any(p.get("Group") == "all" for p in add):
        raise ec2_error("InvalidParameter", "Encrypted snapshots cannot be made public.")
    for perm in add:
        if "UserId" in perm:
            snapshot.create_volume_permission_userids.add(perm["UserId"])
        if "Group" in perm:
            snapshot.create_volume_permission_groups.add(perm["Group"])
    for perm in remove:
        snapshot.create_volume_permission_userids.discard(perm.get("UserId"))
        snapshot.create_volume_permission_groups.discard(perm.get("Group"))
    return EmptyResult()


def _is_aws_managed(snapshot: Any) -> bool:
    """Encrypted with its owner's `alias/aws/ebs` key (the AWS managed key)."""
    if not snapshot.kms_key_id:
        return True  # encrypted without a named key means the default managed key
    kms = kms_backends[snapshot.owner_id][snapshot.ec2_backend.region_name]
    try:
        key = kms.describe_key(snapshot.kms_key_id)
    except Exception:  # the key is gone; it cannot be a shareable customer key either
        return False
    return "alias/aws/ebs" in key.aliases or key.key_manager == "AWS"


def deregister_image(self: EC2Response) -> ActionResult:
    """DeleteAssociatedSnapshots=true deletes the AMI's snapshots too, except
    snapshots another registered AMI still uses (reported as skipped) and those
    an admin hook makes fail (reported with its code; see `_delete_outcome`).
    A protected AMI (protection.py) is refused before anything changes."""
    ami_id = self._get_param("ImageId")
    delete_snapshots = self._get_bool_param("DeleteAssociatedSnapshots", False)
    self.error_on_dryrun()
    backend = self.ec2_backend
    ami = backend.amis.get(ami_id)
    if ami is not None:
        protection.check_deregistrable(ami)
    snapshot_ids = image_snapshot_ids(ami) if ami is not None else []
    backend.deregister_image(ami_id)
    result: dict[str, Any] = {"Return": True}
    if delete_snapshots:
        result["DeleteSnapshotResults"] = [
            {"SnapshotId": snapshot_id, "ReturnCode": _delete_outcome(backend, snapshot_id)}
            for snapshot_id in snapshot_ids
        ]
    return ActionResult(result)


def _delete_outcome(backend: Any, snapshot_id: str) -> str:
    """Delete one associated snapshot; its DeleteSnapshotResults ReturnCode.

    The codes are the SnapshotReturnCodes the API Reference documents
    (DeleteSnapshotReturnCode): `skipped` when another AMI uses the snapshot
    (or it is already gone), `success` when it was deleted, and the code of a
    POST /_standin/snapshot_delete_result hook (missing-permissions,
    internal-error, client-error) when one is armed for it: the snapshot then
    stays, as AWS leaves a snapshot it failed to delete."""
    in_use = any(snapshot_id in image_snapshot_ids(a) for a in backend.amis.values()) or bool(
        consistency.deregistered_holder(backend.account_id, backend.region_name, snapshot_id))
    if in_use or snapshot_id not in backend.snapshots:
        return "skipped"
    injected = state.STATE.take_snapshot_delete_result(snapshot_id)
    if injected is not None:
        return injected
    backend.snapshots.pop(snapshot_id)
    return "success"


def register_image(self: EC2Response) -> ActionResult:
    """RegisterImage honouring BlockDeviceMapping.N.Ebs.SnapshotId and
    TagSpecifications (image and snapshot), both ignored by moto."""
    self.error_on_dryrun()
    backend = self.ec2_backend
    mappings = self._get_param("BlockDeviceMappings", []) or []
    snapshots = [get_snapshot(backend, m["Ebs"]["SnapshotId"])
                 for m in mappings if (m.get("Ebs") or {}).get("SnapshotId")]
    name = self._get_param("Name")
    for ami in backend.amis.values():
        if ami.name == name:
            raise ec2_error("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {ami.id}")
    # Tags are checked before the image exists, so a refused request registers nothing.
    tags = self._parse_tag_specification()
    tag_rules.check(tags.get("image", {}))
    for snapshot in snapshots:
        present = {t["key"]: t["value"] for t in snapshot.get_tags() if not t["key"].startswith("aws:")}
        tag_rules.check({**present, **tags.get("snapshot", {})})
    ami = backend.register_image(name, self._get_param("Description", ""))
    if self._get_param("RootDeviceName"):
        ami.root_device_name = self._get_param("RootDeviceName")
    for attr, param in (("architecture", "Architecture"), ("virtualization_type", "VirtualizationType")):
        if self._get_param(param):
            setattr(ami, attr, self._get_param(param))
    if snapshots:
        images.drop_auto_snapshot(ami)
        ami.root_device_type = "ebs"
        ami._standin_bdms = [
            images.mapping(m["DeviceName"], snap, m)
            for m, snap in zip([m for m in mappings if (m.get("Ebs") or {}).get("SnapshotId")], snapshots)
        ]
    ami.add_tags(tags.get("image", {}))
    for snapshot_id in image_snapshot_ids(ami):
        backend.snapshots[snapshot_id].add_tags(tags.get("snapshot", {}))
    return ActionResult({"ImageId": ami.id})


def delete_tags(self: EC2Response) -> ActionResult:
    """DeleteTags on a resource that does not exist is a NotFound error, as
    CreateTags already is in moto (moto's DeleteTags skips the check)."""
    self.ec2_backend.do_resources_exist(self._get_param("Resources", []))
    return _moto_delete_tags(self)


def get_ebs_default_kms_key_id(self: EC2Response) -> ActionResult:
    """GetEbsDefaultKmsKeyId (absent in moto): the key ARN, alias/aws/ebs unless modified."""
    backend = self.ec2_backend
    arn = backend.default_kms_key_id or backend._create_default_encryption_key()
    return ActionResult({"KmsKeyId": arn})


_moto_delete_tags = EC2Response.delete_tags
_moto_create_snapshot = EBSBackend.create_snapshot


def install() -> None:
    EBSBackend.get_snapshot = get_snapshot
    EBSBackend.delete_snapshot = delete_snapshot
    EBSBackend.create_snapshot = create_snapshot
    AmiBackend.describe_image_attribute = describe_image_attribute
    EC2Response.modify_snapshot_attribute = modify_snapshot_attribute
    EC2Response.deregister_image = deregister_image
    EC2Response.register_image = register_image
    EC2Response.delete_tags = delete_tags
    EC2Response.get_ebs_default_kms_key_id = get_ebs_default_kms_key_id
