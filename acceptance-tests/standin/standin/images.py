"""Block device mappings backed by real snapshots.

moto gives every AMI one auto-created 15 GiB snapshot and ignores the
mappings in RegisterImage. Copies and registered images here carry an
explicit list instead (`_standin_bdms`), so an AMI can have several
snapshots, and a copy's snapshots are new snapshots owned by the copier.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import InvalidAMIIdError, MalformedAMIIdError
from moto.ec2.models.amis import Ami
from moto.ec2.models.elastic_block_store import Snapshot
from moto.ec2.utils import random_snapshot_id

_moto_bdms = Ami.block_device_mappings


def install() -> None:
    def block_device_mappings(ami: Any) -> list[dict[str, Any]]:
        custom = getattr(ami, "_standin_bdms", None)
        return custom if custom is not None else _moto_bdms.fget(ami)

    Ami.block_device_mappings = property(block_device_mappings)


def own_image(response: Any) -> Any:
    """The AMI named by the request's ImageId in the caller's own account and
    Region. Actions only an owner may take resolve the id there, so another
    account's AMI, shared or not, is InvalidAMIID.NotFound."""
    image_id = response._get_param("ImageId") or ""
    if not image_id.startswith("ami-"):
        raise MalformedAMIIdError([image_id])
    ami = response.ec2_backend.amis.get(image_id)
    if ami is None:
        raise InvalidAMIIdError(image_id)
    return ami


def drop_auto_snapshot(ami: Any) -> None:
    """Forget the snapshot moto's Ami constructor made; the caller supplies real ones."""
    ami.ec2_backend.snapshots.pop(ami.ebs_snapshot.id, None)


def new_snapshot(backend: Any, like: Any, description: str, **kwargs: Any) -> Any:
    """A snapshot in `backend` with the volume (size, id) of snapshot `like`."""
    snap = Snapshot(backend, random_snapshot_id(), like.volume, description, **kwargs)
    backend.snapshots[snap.id] = snap
    return snap


def mapping(device: str, snapshot: Any, template: dict[str, Any] | None = None) -> dict:
    ebs = dict((template or {}).get("Ebs") or {})
    ebs.update(
        {
            "SnapshotId": snapshot.id,
            "VolumeSize": int(ebs.get("VolumeSize") or snapshot.volume_size),
            "DeleteOnTermination": ebs.get("DeleteOnTermination", True),
            "VolumeType": ebs.get("VolumeType", "gp3"),
            "Encrypted": bool(snapshot.encrypted),
        }
    )
    ebs.pop("KmsKeyId", None)
    return {"DeviceName": device, "Ebs": ebs}
