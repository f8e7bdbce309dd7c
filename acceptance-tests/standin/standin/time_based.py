"""Time-based AMI copies: CopyImage SnapshotCopyCompletionDurationMinutes,
absent from moto 5.2.5 (ignored there), and what DescribeSnapshots reports
about a copy's snapshots.

Follows the EBS User Guide, "Time-based copies for Amazon EBS snapshots and
EBS-backed AMIs", the EC2 API Reference for CopyImage
(SnapshotCopyCompletionDurationMinutes) and its Snapshot data type
(TransferType, CompletionDurationMinutes, CompletionTime):

- the completion duration is 15 minutes to 48 hours (2,880 minutes), in
  15-minute increments, and applies to each snapshot of the AMI; without it
  the copy is a standard (best-effort) one;
- it is not supported for copies to or from a Local Zone or to an Outpost
  (CopyImage: DestinationAvailabilityZone, DestinationAvailabilityZoneId,
  DestinationOutpostArn);
- a snapshot created by a copy reports TransferType `time-based` or
  `standard` (the field exists for copies only), a time-based one also
  CompletionDurationMinutes; CompletionTime is the time the snapshot was
  completed.

Where AWS is silent the stand-in chooses:

- AWS names no error code for a bad duration: InvalidParameterValue (the
  general EC2 code for a parameter value out of range); a duration with a
  Local Zone or Outpost destination is InvalidParameterCombination. Both are
  refused before anything is created, like every other CopyImage check;
- the copy still takes the configured `copy_duration_seconds`, not the
  requested minutes (tests must stay quick); the request is recorded, so
  GET /_standin/copies reports it as `completion_duration_minutes`;
- CompletionTime is reported on every completed snapshot: a copy's when the
  copy ends available, any other snapshot's at its start time (moto completes
  snapshots at once); a pending or failed copy's snapshots have none.

Not modelled: the throughput quotas (500 MiB/s per snapshot copy, 2,000 MiB/s
cumulative per Region pair) and the refusal when no cumulative throughput is
left; copies never miss their completion duration.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import utcnow
from moto.ec2.models.elastic_block_store import Snapshot

from .errors import ec2_error

MIN_MINUTES = 15
MAX_MINUTES = 2880  # 48 hours
STEP_MINUTES = 15
TIME_BASED = "time-based"
STANDARD = "standard"
# CopyImage parameters naming a Local Zone or Outpost destination.
ZONE_OR_OUTPOST = ("DestinationAvailabilityZone", "DestinationAvailabilityZoneId", "DestinationOutpostArn")


def completion_duration(raw: Any, destinations: dict[str, Any]) -> int | None:
    """The requested completion duration in minutes (None: a standard copy), or
    the EC2 error for a value AWS does not accept. `destinations` holds the
    request's ZONE_OR_OUTPOST parameters."""
    if raw in (None, ""):
        return None
    try:
        minutes = int(str(raw))
    except ValueError:
        minutes = None
    if minutes is None or not (MIN_MINUTES <= minutes <= MAX_MINUTES) or minutes % STEP_MINUTES:
        raise ec2_error(
            "InvalidParameterValue",
            f"Value ({raw}) for parameter SnapshotCopyCompletionDurationMinutes is invalid. "
            f"Specify {MIN_MINUTES} to {MAX_MINUTES} minutes in increments of {STEP_MINUTES}.",
        )
    named = [name for name in ZONE_OR_OUTPOST if destinations.get(name)]
    if named:
        raise ec2_error(
            "InvalidParameterCombination",
            f"SnapshotCopyCompletionDurationMinutes is not supported with {named[0]}.",
        )
    return minutes


def mark_copies(snapshots: list[Any], minutes: int | None) -> None:
    """Record on a new copy's snapshots how they were copied."""
    for snap in snapshots:
        snap._standin_transfer_type = TIME_BASED if minutes is not None else STANDARD
        snap._standin_completion_duration = minutes


def mark_completed(snapshots: list[Any]) -> None:
    now = utcnow()
    for snap in snapshots:
        snap._standin_completion_time = now


def _completion_time(snap: Any) -> Any:
    if getattr(snap, "_standin_transfer_type", None) is not None:
        return getattr(snap, "_standin_completion_time", None)
    return snap.start_time if snap.status == "completed" else None


def install() -> None:
    # Snapshot.TransferType, CompletionDurationMinutes and CompletionTime; the
    # serializer leaves out a member whose value is None.
    Snapshot.transfer_type = property(lambda snap: getattr(snap, "_standin_transfer_type", None))
    Snapshot.completion_duration_minutes = property(
        lambda snap: getattr(snap, "_standin_completion_duration", None))
    Snapshot.completion_time = property(_completion_time)
