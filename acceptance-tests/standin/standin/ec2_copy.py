"""CopyImage as the AWS EC2 API Reference ("CopyImage") and the EC2 User Guide
("Copy an Amazon EC2 AMI", "Ensuring idempotency") describe it.

moto copies only within the caller's own account, ignores Encrypted, KmsKeyId,
ClientToken, CopyImageTags, TagSpecifications and
SnapshotCopyCompletionDurationMinutes (time_based.py), and is available at once.
A copy starts without deregistration protection (protection.py). KMS keys of
other accounts, source or destination, must be usable by the caller, else
the copy fails (copy_keys.py).
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidAMIIdError, MalformedAMIIdError
from moto.ec2.models.amis import Ami
from moto.ec2.responses import EC2Response
from moto.ec2.utils import random_ami_id
from moto.kms import kms_backends

from . import copy_keys, images, kms_access, lifecycle, state, tag_rules, time_based
from .errors import ec2_error
from .sharing import can_restore, find_image, image_snapshot_ids

# What AWS reports when the copy cannot use the requested KMS key: the request
# is accepted and the copy fails later (as users of Packer report, #6599).
KEY_FAILURE = {"Code": "Server.InternalError", "Message": "Copy image failed with an internal error"}
NO_STORAGE_ACCESS = "You do not have permission to access the storage of this ami"


def copy_image(self: EC2Response) -> ActionResult:
    """Check the whole request first, then create: AWS validates a request
    before acting, and resources tagged on creation exist with their tags or
    not at all ("Tag your Amazon EC2 resources"), so a refused copy leaves no
    AMI, no snapshot and no claimed name behind."""
    self.error_on_dryrun()
    account, region = self.current_account, self.region
    source_id = self._get_param("SourceImageId") or ""
    source_region = self._get_param("SourceRegion") or region
    name = self._get_param("Name")
    description = self._get_param("Description")
    encrypted = self._get_bool_param("Encrypted", False)
    kms_key_id = self._get_param("KmsKeyId")
    copy_tags = self._get_bool_param("CopyImageTags", False)
    token = self._get_param("ClientToken")
    tag_specs = self._parse_tag_specification()
    minutes = time_based.completion_duration(
        self._get_param("SnapshotCopyCompletionDurationMinutes"),
        {name: self._get_param(name) for name in time_based.ZONE_OR_OUTPOST},
    )

    if kms_key_id and not encrypted:
        raise ec2_error(
            "InvalidParameterDependency",
            "The parameter KmsKeyId requires the parameter Encrypted to be set.",
        )
    for resource_type, tags in tag_specs.items():
        if resource_type not in ("image", "snapshot"):
            raise ec2_error(
                "InvalidParameterValue",
                f"'{resource_type}' is not a valid taggable resource type for this operation.",
            )
        tag_rules.check(tags)
    fingerprint = (source_id, source_region, name, description, encrypted, kms_key_id,
                   copy_tags, sorted((t, sorted(v.items())) for t, v in tag_specs.items()), minutes)
    if token:
        # A repeated token answers the first result without acting again, even
        # when that AMI or its source is gone since ("Ensuring idempotency").
        earlier = state.STATE.client_tokens.get((account, region, token))
        if earlier is not None:
            if earlier[0] != fingerprint:
                raise ec2_error(
                    "IdempotentParameterMismatch",
                    f"Client token {token} was already used with different parameters.",
                )
            return ActionResult({"ImageId": earlier[1]})

    if not source_id.startswith("ami-"):
        raise MalformedAMIIdError([source_id])
    # By id, so a deprecated source is found like any other: deprecation only
    # hides an AMI from other accounts' listings ("Deprecate an Amazon EC2 AMI").
    source = find_image(account, source_region, source_id)
    if source is None:
        raise InvalidAMIIdError(source_id)
    source_snapshots = [source.ec2_backend.snapshots[i] for i in image_snapshot_ids(source)]
    if source.owner_id != account and not all(can_restore(s, account) for s in source_snapshots):
        raise ec2_error("InvalidRequest", NO_STORAGE_ACCESS)
    for ami in self.ec2_backend.amis.values():
        if ami.name == name:
            raise ec2_error("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {ami.id}")
    image_tags: dict[str, str] = {}
    if copy_tags and source.owner_id == account:
        # Tags are per account, so only the owner's copy can carry them over.
        image_tags = {t["key"]: t["value"] for t in source.get_tags() if not t["key"].startswith("aws:")}
    image_tags.update(tag_specs.get("image", {}))
    tag_rules.check(image_tags)
    # Last, so a copy refused for any other reason does not count as refused for the quota.
    lifecycle.check_copy_quota(account, region, len(source_snapshots))

    copy = _create_copy(self.ec2_backend, account, region, source, source_snapshots, name,
                        description, encrypted, kms_key_id, image_tags, tag_specs.get("snapshot", {}),
                        minutes)
    if token:
        state.STATE.client_tokens[(account, region, token)] = (fingerprint, copy.id)
    return ActionResult({"ImageId": copy.id})


def _create_copy(backend: Any, account: str, region: str, source: Any, source_snapshots: list[Any],
                 name: str, description: str | None, encrypted: bool, kms_key_id: str | None,
                 image_tags: dict[str, str], snapshot_tags: dict[str, str],
                 minutes: int | None) -> Any:
    """Create the (pending) copy and its snapshots; every check has passed."""
    # Copies of encrypted snapshots are always encrypted (AWS cannot decrypt on copy).
    must_encrypt = encrypted or any(s.encrypted for s in source_snapshots)
    key_arn, key_ok = _resolve_key(backend, account, region, kms_key_id) if must_encrypt else (None, True)

    copy = Ami(backend, random_ami_id(), source_ami=source, name=name, description=description)
    images.drop_auto_snapshot(copy)
    copy.root_device_name = source.root_device_name
    copy.root_device_type = source.root_device_type
    copy.source_image_id = source.id
    copy.source_image_region = source.ec2_backend.region_name
    new_snapshots, mappings = [], []
    for bdm in source.block_device_mappings:
        snap_id = (bdm.get("Ebs") or {}).get("SnapshotId")
        if not snap_id:
            continue
        snap = images.new_snapshot(
            backend, source.ec2_backend.snapshots[snap_id],
            f"Copied for DestinationAmi {copy.id} from SourceAmi {source.id} "
            f"for SourceSnapshot {snap_id}. Task created on {copy.creation_date:%Y-%m-%d}.",
            encrypted=must_encrypt, kms_key_id=key_arn, owner_id=account, from_ami=copy.id,
        )
        new_snapshots.append(snap)
        mappings.append(images.mapping(bdm["DeviceName"], snap, bdm))
    copy._standin_bdms = mappings
    backend.amis[copy.id] = copy
    copy.add_tags(image_tags)
    for snap in new_snapshots:
        snap.add_tags(snapshot_tags)

    job = lifecycle.start_copy(account, region, copy, new_snapshots, minutes)
    if job.failure is None:  # an injected failure (POST /_standin/fail_copy next) comes first
        job.failure = copy_keys.source_key_failure(account, source_snapshots) or (
            None if key_ok else dict(KEY_FAILURE))
    return copy


def _resolve_key(backend: Any, account: str, region: str, key_id: str | None) -> tuple[str | None, bool]:
    """(key ARN to report, usable?) for KmsKeyId, or the account's default EBS key.

    The key must be in the destination Region, `region` (CopyImage, KmsKeyId). A key
    or alias ARN may name another account's key, which the caller must be allowed
    to use (copy_keys.py); one naming another Region is unusable: AWS checks the
    key only after accepting the request, so the copy fails then, as for a key
    that does not exist."""
    if not key_id:
        return (backend.default_kms_key_id or backend._create_default_encryption_key()), True
    owner = account
    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        if len(parts) >= 6:
            if parts[3] != region:
                return None, False
            owner = parts[4]
    kms = kms_backends[owner][region]
    try:
        key = kms.describe_key(key_id)
    except Exception:  # moto raises NotFoundException, KeyError or ValueError by form
        return None, False
    usable = (owner == account and kms_access.own_account_trusted()) or copy_keys.usable(
        account, key, copy_keys.DESTINATION_ACTIONS, region)
    return key.arn, usable and key.enabled and key.key_state == "Enabled"


def install() -> None:
    EC2Response.copy_image = copy_image
