"""Block public access for AMIs and snapshots, on in every account and Region
of a strict run until switched off through the EC2 API (absent from moto).

EC2 User Guide, "Understand block public access for AMIs" (enabled by
default for new accounts) and EC2 API Reference:
EnableImageBlockPublicAccess (`ImageBlockPublicAccessState`
block-new-sharing), DisableImageBlockPublicAccess and
GetImageBlockPublicAccessState (`imageBlockPublicAccessState`, `managedBy`
account); EBS User Guide, "Block public access for Amazon EBS snapshots",
and EnableSnapshotBlockPublicAccess (`State` block-all-sharing,
block-new-sharing or unblocked), DisableSnapshotBlockPublicAccess,
GetSnapshotBlockPublicAccessState (`state`, `managedBy`).

While it is on, sharing with group `all` is refused with
OperationNotPermitted: ModifyImageAttribute (launch permission) with the
message AWS answers ("You can't publicly share this image because block
public access for AMIs is enabled for this account..."), and
ModifySnapshotAttribute (createVolumePermission), for which AWS documents no
error, with the same code (the stand-in's choice). Sharing with accounts,
organizations and OUs is never blocked.

The stand-in's choices: snapshots start in block-new-sharing (AWS starts
them unblocked; the issue asks for both on); the setting changes at once
(AWS: up to 10 minutes); block-all-sharing does not hide snapshots that are
already public.
"""

from __future__ import annotations

import re

from ..protocols import Request
from .errors import Refusal

IMAGE_ACTIONS = frozenset({"EnableImageBlockPublicAccess", "DisableImageBlockPublicAccess",
                           "GetImageBlockPublicAccessState"})
SNAPSHOT_ACTIONS = frozenset({"EnableSnapshotBlockPublicAccess", "DisableSnapshotBlockPublicAccess",
                              "GetSnapshotBlockPublicAccessState"})
ACTIONS = IMAGE_ACTIONS | SNAPSHOT_ACTIONS
IMAGE_DEFAULT, SNAPSHOT_DEFAULT = "block-new-sharing", "block-new-sharing"
SNAPSHOT_STATES = ("block-all-sharing", "block-new-sharing", "unblocked")

# (account, region) -> state; only switched settings are kept. A strict run
# has no reset, so this lives as long as the process.
_images: dict[tuple[str, str], str] = {}
_snapshots: dict[tuple[str, str], str] = {}


def answer(request: Request, account: str) -> dict[str, str]:
    """The response fields of a block public access action (after authorization)."""
    where, params = (account, request.region), request.params
    if request.action in ("EnableImageBlockPublicAccess", "DisableImageBlockPublicAccess"):
        wanted = params.get("ImageBlockPublicAccessState") if request.action.startswith("Enable") else "unblocked"
        if wanted not in ("block-new-sharing", "unblocked"):
            raise _invalid("ImageBlockPublicAccessState", wanted)
        _dry_run(params)
        _images[where] = wanted
        return {"imageBlockPublicAccessState": wanted}
    if request.action in ("EnableSnapshotBlockPublicAccess", "DisableSnapshotBlockPublicAccess"):
        wanted = params.get("State") if request.action.startswith("Enable") else "unblocked"
        if wanted not in SNAPSHOT_STATES:
            raise _invalid("State", wanted)
        _dry_run(params)
        _snapshots[where] = wanted
        return {"state": wanted}
    _dry_run(params)
    if request.action == "GetImageBlockPublicAccessState":
        return {"imageBlockPublicAccessState": _images.get(where, IMAGE_DEFAULT), "managedBy": "account"}
    return {"state": _snapshots.get(where, SNAPSHOT_DEFAULT), "managedBy": "account"}


def check_share(request: Request, account: str) -> None:
    """Refuse making an AMI or snapshot public while block public access is on."""
    where = (account, request.region)
    if request.action == "ModifyImageAttribute" and _adds_all(request.params, "LaunchPermission"):
        if _images.get(where, IMAGE_DEFAULT) != "unblocked":
            raise Refusal("OperationNotPermitted", "You can't publicly share this image because block public "
                          "access for AMIs is enabled for this account. To publicly share the image, you must "
                          "call the DisableImageBlockPublicAccess API.", 400)
    if request.action == "ModifySnapshotAttribute" and _adds_all(request.params, "CreateVolumePermission"):
        if _snapshots.get(where, SNAPSHOT_DEFAULT) != "unblocked":
            raise Refusal("OperationNotPermitted", "You can't publicly share this snapshot because block "
                          "public access for snapshots is enabled for this account. To publicly share the "
                          "snapshot, you must call the DisableSnapshotBlockPublicAccess API.", 400)


def _adds_all(params: dict[str, str], structure: str) -> bool:
    """Whether the request adds group `all`, in either request form."""
    if any(re.fullmatch(rf"{structure}\.Add\.\d+\.Group", k) and v == "all" for k, v in params.items()):
        return True
    return params.get("OperationType", "").lower() == "add" and any(
        re.fullmatch(r"UserGroup\.\d+", k) and v == "all" for k, v in params.items())


def _dry_run(params: dict[str, str]) -> None:
    if params.get("DryRun", "").lower() == "true":
        raise Refusal("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)


def _invalid(name: str, value: str | None) -> Refusal:
    return Refusal("InvalidParameterValue", f"Value ({value}) for parameter {name} is invalid.", 400)
