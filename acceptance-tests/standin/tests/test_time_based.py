"""Time-based CopyImage (SnapshotCopyCompletionDurationMinutes) and what the
copy's snapshots report."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import BAKE, PROD
from helpers import copy, error_code, make_ami, owned_counts, snapshots_of, wait_state


@pytest.mark.parametrize("minutes", [15, 30, 2880])
def test_time_based_copy_is_recorded_and_its_snapshots_say_so(aws, ctl, shared_source, minutes):
    """AWS EBS User Guide, "Time-based copies for Amazon EBS snapshots and
    EBS-backed AMIs": 15 minutes to 48 hours in 15-minute increments, for each
    snapshot of the AMI. EC2 API Reference, Snapshot data type: TransferType
    `time-based` and CompletionDurationMinutes on the copy's snapshots, and
    CompletionTime once completed. GET /_standin/copies records the minutes."""
    prod = aws("ec2", PROD)
    copy_id = copy(prod, shared_source, SnapshotCopyCompletionDurationMinutes=minutes)
    assert [c["completion_duration_minutes"] for c in ctl("GET", "copies")["copies"]] == [minutes]
    wait_state(prod, copy_id, "available")
    snaps = snapshots_of(prod, copy_id)
    assert {(s["TransferType"], s["CompletionDurationMinutes"]) for s in snaps} == {("time-based", minutes)}
    assert all(s["CompletionTime"] >= s["StartTime"] for s in snaps)


def test_standard_copy_reports_standard_transfer_type(aws, ctl, shared_source):
    """AWS EC2 API Reference, Snapshot data type: TransferType `standard` for a
    copy made without a completion duration (best effort), and no
    CompletionDurationMinutes; a pending copy's snapshots have no CompletionTime.
    GET /_standin/copies: completion_duration_minutes is null."""
    ctl("POST", "config", {"copy_duration_seconds": 30})
    prod = aws("ec2", PROD)
    copy_id = copy(prod, shared_source)
    snaps = snapshots_of(prod, copy_id)
    assert {s["TransferType"] for s in snaps} == {"standard"}
    assert not any("CompletionDurationMinutes" in s or "CompletionTime" in s for s in snaps)
    assert [c["completion_duration_minutes"] for c in ctl("GET", "copies")["copies"]] == [None]


def test_snapshots_not_made_by_a_copy_have_no_transfer_type(aws):
    """AWS EC2 API Reference, Snapshot data type: TransferType is reported for
    snapshot copies only; a completed snapshot still has its CompletionTime."""
    ec2 = aws("ec2", BAKE)
    _, snaps = make_ami(ec2, snapshots=1)
    described = ec2.describe_snapshots(SnapshotIds=snaps)["Snapshots"][0]
    assert "TransferType" not in described and "CompletionTime" in described


@pytest.mark.parametrize("minutes", [0, 10, 20, 2895, 3000])
def test_bad_completion_duration_is_refused_before_anything_is_created(aws, ctl, shared_source, minutes):
    """AWS EC2 API Reference, CopyImage SnapshotCopyCompletionDurationMinutes
    (a multiple of 15 minutes; the EBS User Guide: 15 minutes to 48 hours). AWS
    names no error code; the stand-in answers InvalidParameterValue, and nothing
    is created, not even a copy job."""
    prod = aws("ec2", PROD)
    before = owned_counts(prod)
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, SnapshotCopyCompletionDurationMinutes=minutes)
    assert error_code(excinfo) == "InvalidParameterValue"
    assert owned_counts(prod) == before
    assert ctl("GET", "copies")["copies"] == []


def test_completion_duration_with_an_outpost_destination_is_refused(aws, shared_source):
    """AWS EC2 API Reference, CopyImage SnapshotCopyCompletionDurationMinutes:
    "not supported when copying an AMI to or from a Local Zone, or to an Outpost"
    (no code documented: InvalidParameterCombination here)."""
    prod = aws("ec2", PROD)
    before = owned_counts(prod)
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, SnapshotCopyCompletionDurationMinutes=60,
             DestinationOutpostArn="arn:aws:outposts:eu-west-1:222222222222:outpost/op-0123456789abcdef0")
    assert error_code(excinfo) == "InvalidParameterCombination"
    assert owned_counts(prod) == before


def test_client_token_retry_with_another_duration_is_a_mismatch(aws, shared_source):
    """AWS EC2 API Reference, "Ensuring idempotency": a retry with the same token
    but other parameters, the completion duration included, is
    IdempotentParameterMismatch; the same parameters answer the first AMI."""
    prod = aws("ec2", PROD)
    first = copy(prod, shared_source, ClientToken="tok-1", SnapshotCopyCompletionDurationMinutes=45)
    assert copy(prod, shared_source, ClientToken="tok-1", SnapshotCopyCompletionDurationMinutes=45) == first
    with pytest.raises(ClientError) as excinfo:
        copy(prod, shared_source, ClientToken="tok-1", SnapshotCopyCompletionDurationMinutes=60)
    assert error_code(excinfo) == "IdempotentParameterMismatch"
