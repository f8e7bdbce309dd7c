"""Everything the patch layer remembers on top of moto, in one resettable place.

moto keeps AWS resources; this module keeps only what moto has no notion of:
test configuration, injected faults, call counts and the call log,
organization membership, in-flight copies and the snapshot-copy quota's
counters, CopyImage idempotency tokens, the clock offset, armed
DeleteAssociatedSnapshots results, Recycle Bin retention rules (moto has
no Recycle Bin), KMS grants (kms_grants.py), the consistency lag's pending
writes (consistency.py) and the EC2 token buckets (throttling.py).
`reset()` empties it all.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

DEFAULT_COPY_DURATION_SECONDS = 0.5
# "Quotas for Amazon EBS": concurrent snapshot copies per destination Region,
# 20 by default (not adjustable through Service Quotas).
DEFAULT_CONCURRENT_SNAPSHOT_COPIES = 20
# How many calls GET /_standin/call_log keeps; older ones are dropped (and counted).
CALL_LOG_SIZE = 200_000

# One lock serialises every request that reaches moto, so a copy's state
# transitions (applied lazily at the start of each request) never race with
# moto's own bookkeeping. Injected latency is slept outside this lock.
LOCK = threading.RLock()


# The list element of each EC2 Describe answer a fault may empty (EC2 API Reference, the
# action's "Response Elements"; the query protocol names the list `<member>Set`).
EMPTY_ANSWERS = {"DescribeImages": "imagesSet", "DescribeSnapshots": "snapshotSet"}


def empty_answer_body(action: str) -> bytes:
    """A successful EC2 answer to `action` listing nothing."""
    element = EMPTY_ANSWERS[action]
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response '
            f'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>injected-empty-answer</requestId>'
            f'<{element}/></{action}Response>').encode()


@dataclass
class Fault:
    action: str
    error_code: str | None = None
    http_status: int = 400
    account: str | None = None
    count: int | None = None  # None means "until cleared"
    rate: float = 1.0
    latency_seconds: float = 0.0
    drop_connection: bool = False
    # Answer a Describe call with success and nothing in it (EMPTY_ANSWERS), as a read that
    # lags a write shows a resource that exists: the test-side counterpart of one read path
    # lagging another (issue 31).
    empty_answer: bool = False
    message: str | None = None
    # Request parameters the call must carry, each with exactly this value
    # (e.g. {"RoleArn": "arn:aws:iam::333333333333:role/missing"}); None matches any call.
    params: dict[str, str] | None = None
    fired: int = 0  # how many calls this fault has answered or delayed, for GET /_standin/faults

    def matches(self, action: str, account: str, params: dict[str, str] | None = None) -> bool:
        if self.action not in (action, "*"):
            return False
        if self.account is not None and self.account != account:
            return False
        if self.params and any((params or {}).get(k) != v for k, v in self.params.items()):
            return False
        return self.count is None or self.count > 0

    def fires(self) -> bool:
        """Decide (and account for) one application of this fault."""
        if random.random() >= self.rate:
            return False
        if self.count is not None:
            self.count -= 1
        self.fired += 1
        return True


@dataclass
class CopyJob:
    """A CopyImage in flight: the image stays pending until `done_at`."""

    account: str
    region: str
    image_id: str
    snapshot_ids: list[str]
    started_at: float
    done_at: float
    failure: dict[str, str] | None = None  # StateReason to end with, if any
    finished: bool = False
    # SnapshotCopyCompletionDurationMinutes of a time-based copy; None for a standard one.
    completion_duration_minutes: int | None = None


def quota_key(account: str, region: str) -> str:
    """How the copy-quota counters name an account's destination Region: "ACCOUNT/REGION"."""
    return f"{account}/{region}"


def _start_copy_duration() -> tuple[float, float]:
    """(min, max) seconds a copy stays pending at start-up and after a reset:
    `--copy-duration` if given, else DEFAULT_COPY_DURATION_SECONDS."""
    from . import options

    return options.CURRENT.copy_duration_seconds or (DEFAULT_COPY_DURATION_SECONDS,) * 2


@dataclass
class State:
    # How long a copy stays pending: a random time in [copy_duration_seconds,
    # copy_duration_max_seconds] (the same value unless --copy-duration gave a range).
    copy_duration_seconds: float = field(default_factory=lambda: _start_copy_duration()[0])
    copy_duration_max_seconds: float = field(default_factory=lambda: _start_copy_duration()[1])
    # Snapshot copies one account may have in flight into one Region; None is unlimited.
    concurrent_snapshot_copies: int | None = DEFAULT_CONCURRENT_SNAPSHOT_COPIES
    faults: list[Fault] = field(default_factory=list)
    calls: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    # Every call in arrival order, faulted ones included (see `log_call`).
    call_log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=CALL_LOG_SIZE))
    call_log_dropped: int = 0
    # quota_key -> most snapshot copies ever in flight at once / CopyImage calls refused.
    copy_peak: dict[str, int] = field(default_factory=dict)
    copy_refused: dict[str, int] = field(default_factory=dict)
    # account id -> {"organization_arn": str | None, "ou_arns": [str]}
    orgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    copies: dict[str, CopyJob] = field(default_factory=dict)  # by image id
    # (account, region, client token) -> (request fingerprint, image id)
    client_tokens: dict[tuple[str, str, str], tuple[Any, str]] = field(
        default_factory=dict
    )
    fail_next_copy: dict[str, str] | None = None
    # How far the stand-in's wall clock (`wall_now`) runs ahead of real time;
    # moved only by POST /_standin/clock.
    clock_offset_seconds: float = 0.0
    # snapshot id -> {"code": ReturnCode, "remaining": n}: the next n
    # DeleteAssociatedSnapshots deletions of that snapshot fail with that code.
    snapshot_delete_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (account, region) -> {rule identifier -> Recycle Bin retention rule} (rbin.py).
    rbin_rules: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # grant id -> kms_grants.Grant, in creation order; the counter numbers them.
    kms_grants: dict[str, Any] = field(default_factory=dict)
    kms_grant_seq: int = 0
    # consistency.py: (kind, account, region, resource id) -> [(visible at, value), ...],
    # the writes readers do not see yet, oldest first, and deregistered AMIs still
    # listed: (account, region) -> {image id: (Ami, listed until)}.
    pending_views: dict[tuple[str, str, str, str], list[tuple[float, Any]]] = field(default_factory=dict)
    deregistered: dict[tuple[str, str], dict[str, tuple[Any, float]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    # throttling.py: (account, region, bucket name) -> (tokens, monotonic time of that count).
    token_buckets: dict[tuple[str, str, str], tuple[float, float]] = field(default_factory=dict)

    def count_call(self, account: str, action: str) -> None:
        self.calls[account][action] += 1

    def calls_snapshot(self) -> dict[str, dict[str, int]]:
        return {acct: dict(actions) for acct, actions in self.calls.items()}

    def log_call(self, entry: dict[str, Any]) -> None:
        if len(self.call_log) == self.call_log.maxlen:
            self.call_log_dropped += 1
        self.call_log.append(entry)

    def clear_calls(self) -> None:
        self.calls.clear()
        self.call_log.clear()
        self.call_log_dropped = 0

    def pick_fault(self, action: str, account: str, params: dict[str, str] | None = None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(action, account, params) and fault.fires():
                return fault
        return None

    def take_snapshot_delete_result(self, snapshot_id: str) -> str | None:
        """The armed ReturnCode for deleting `snapshot_id`, used up once; None: delete it."""
        armed = self.snapshot_delete_results.get(snapshot_id)
        if armed is None:
            return None
        armed["remaining"] -= 1
        if armed["remaining"] <= 0:
            del self.snapshot_delete_results[snapshot_id]
        return armed["code"]

    def snapshot_copies_in_flight(self) -> dict[str, int]:
        """quota_key -> snapshots of pending copies; exact once lifecycle.tick() has run."""
        counts: dict[str, int] = defaultdict(int)
        for job in self.copies.values():
            if not job.finished:
                counts[quota_key(job.account, job.region)] += len(job.snapshot_ids)
        return dict(counts)


STATE = State()


def reset() -> None:
    """Forget all layer state (moto itself is reset by the caller) and start
    the timing flags' random draws again from --seed."""
    global STATE
    from . import timing

    with LOCK:
        STATE = State()
        timing.reseed()


def now() -> float:
    return time.monotonic()


def epoch_now() -> float:
    """Real wall-clock time in seconds since the epoch (not moved by /_standin/clock)."""
    return time.time()


def wall_now() -> datetime:
    """UTC date and time as the stand-in sees it: real time plus the clock offset.
    Time-of-day behaviour reads it (AMI deprecation, the deregistration
    protection cooldown); copy timing does not."""
    return datetime.now(timezone.utc) + timedelta(seconds=STATE.clock_offset_seconds)
