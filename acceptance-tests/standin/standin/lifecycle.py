"""Time for CopyImage: pending -> available (or failed), applied lazily.

AWS copies take minutes; moto's are instant. Each copy is registered as a
CopyJob and advanced at the start of every request (`tick`), so no background
thread touches moto. While pending, the copy's snapshots report state
`pending` and a growing Progress, as DescribeSnapshots does on AWS.

Each snapshot of a pending copy is one snapshot copy in flight into the
copy's (destination) Region, counted against the account's quota there
("Quotas for Amazon EBS": concurrent snapshot copies per destination Region)
until the copy ends: available, failed, or deregistered while pending.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_block_store import Snapshot

from . import state, time_based, timing
from .errors import ec2_error
from .state import CopyJob, now, quota_key


def install() -> None:
    # moto hard-codes "100%"; a per-snapshot override lets copies report progress.
    Snapshot.progress = property(lambda snap: getattr(snap, "_standin_progress", "100%"))


def start_copy(account: str, region: str, ami: Any, snapshots: list[Any],
               completion_duration_minutes: int | None = None) -> CopyJob:
    """Register a pending copy; `completion_duration_minutes` is the time-based
    copy's requested duration (recorded, not waited for), None for a standard copy."""
    started = now()
    job = CopyJob(
        account=account,
        region=region,
        image_id=ami.id,
        snapshot_ids=[s.id for s in snapshots],
        started_at=started,
        done_at=started + timing.copy_seconds(state.STATE.copy_duration_seconds,
                                              state.STATE.copy_duration_max_seconds),
        failure=state.STATE.fail_next_copy,
        completion_duration_minutes=completion_duration_minutes,
    )
    state.STATE.fail_next_copy = None
    ami.state = "pending"
    for snap in snapshots:
        snap.status = "pending"
        snap._standin_progress = "0%"
    time_based.mark_copies(snapshots, completion_duration_minutes)
    state.STATE.copies[ami.id] = job
    key = quota_key(account, region)
    in_flight = state.STATE.snapshot_copies_in_flight().get(key, 0)
    state.STATE.copy_peak[key] = max(state.STATE.copy_peak.get(key, 0), in_flight)
    return job


def check_copy_quota(account: str, region: str, snapshots: int) -> None:
    """Refuse (ResourceLimitExceeded) a copy of `snapshots` snapshots into `region`
    that would take the account over its concurrent snapshot copies. Callers run
    `tick()` first (app.py does, before every request), so copies that have ended
    no longer hold their slots."""
    limit = state.STATE.concurrent_snapshot_copies
    if not limit:
        return
    key = quota_key(account, region)
    in_flight = state.STATE.snapshot_copies_in_flight().get(key, 0)
    if in_flight + snapshots <= limit:
        return
    state.STATE.copy_refused[key] = state.STATE.copy_refused.get(key, 0) + 1
    raise ec2_error(
        "ResourceLimitExceeded",
        f"Too many snapshot copies in progress into {region}: {in_flight} of the "
        f"{limit} allowed at once are in use and this AMI needs {snapshots} more.",
    )


def tick() -> None:
    moment = now()
    for job in list(state.STATE.copies.values()):
        if job.finished:
            continue
        ami, snapshots = _resources(job)
        if ami is None:
            job.finished = True  # deregistered while pending: the copy is cancelled
            continue
        if moment >= job.done_at:
            _finish(job, ami, snapshots)
            continue
        span = max(job.done_at - job.started_at, 1e-9)
        percent = min(99, int(100 * (moment - job.started_at) / span))
        for snap in snapshots:
            snap._standin_progress = f"{percent}%"


def fail_copy(image_id: str, failure: dict[str, str]) -> bool:
    """End a pending copy now with `failure` as its StateReason."""
    job = state.STATE.copies.get(image_id)
    if job is None or job.finished:
        return False
    ami, snapshots = _resources(job)
    if ami is None:
        return False
    job.failure = failure
    _finish(job, ami, snapshots)
    return True


def _finish(job: CopyJob, ami: Any, snapshots: list[Any]) -> None:
    job.finished = True
    if job.failure:
        ami.state = "failed"
        ami.state_reason = dict(job.failure)
        for snap in snapshots:
            snap.status = "error"
            snap.status_message = job.failure["Message"]
        return
    ami.state = "available"
    for snap in snapshots:
        snap.status = "completed"
        snap._standin_progress = "100%"
    time_based.mark_completed(snapshots)


def _resources(job: CopyJob) -> tuple[Any, list[Any]]:
    backend = ec2_backends[job.account][job.region]
    ami = backend.amis.get(job.image_id)
    snapshots = [backend.snapshots[i] for i in job.snapshot_ids if i in backend.snapshots]
    return ami, snapshots
