"""GET /_standin/copies: each CopyImage's timing, for measuring how soon a client
notices that a copy has ended."""

from __future__ import annotations

from conftest import BAKE, PROD, REGION
from helpers import copy, make_ami, share, wait_state

DURATION_SECONDS = 0.4


def test_copies_lists_each_copy_with_its_times_on_the_call_log_clock(aws, ctl):
    """Contract: GET /_standin/copies lists every copy started since reset, in start
    order, with its account, destination region, snapshot count, and `started_at` /
    `done_at` on the call log's monotonic clock (`t`): done_at is started_at plus the
    configured copy duration, the moment from which DescribeImages answers the copy
    `available`. `finished` tells whether it has ended; `now`/`wall` are the monotonic
    clock and real Unix time at the answer, so its times map to wall-clock time."""
    ctl("POST", "config", {"copy_duration_seconds": DURATION_SECONDS})
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, snapshots=2)
    share(bake, image_id, snaps, PROD)
    prod = aws("ec2", PROD)
    ctl("DELETE", "calls")
    first = copy(prod, image_id, name="first")
    second = copy(prod, image_id, name="second")

    answer = ctl("GET", "copies")
    assert [c["image_id"] for c in answer["copies"]] == [first, second]
    calls = [c for c in ctl("GET", "call_log")["calls"] if c["action"] == "CopyImage"]
    for job, call in zip(answer["copies"], calls):
        assert job["account"] == PROD and job["region"] == REGION and job["snapshots"] == 2
        assert call["t"] <= job["started_at"] <= answer["now"]
        assert abs(job["done_at"] - job["started_at"] - DURATION_SECONDS) < 1e-6
        assert job["finished"] is False
    assert abs((answer["wall"] - answer["now"]) - (calls[0]["wall"] - calls[0]["t"])) < 0.5

    wait_state(prod, second, "available")
    later = ctl("GET", "copies")
    assert [c["finished"] for c in later["copies"]] == [True, True]
    assert all(later["now"] >= c["done_at"] for c in later["copies"])


def test_copies_is_emptied_by_reset(aws, ctl):
    """Contract: POST /_standin/reset forgets every copy."""
    bake = aws("ec2", BAKE)
    image_id, snaps = make_ami(bake, snapshots=1)
    share(bake, image_id, snaps, PROD)
    copy(aws("ec2", PROD), image_id)
    assert len(ctl("GET", "copies")["copies"]) == 1
    ctl("POST", "reset")
    assert ctl("GET", "copies")["copies"] == []
