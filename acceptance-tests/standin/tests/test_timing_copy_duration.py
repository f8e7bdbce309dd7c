"""--copy-duration MIN-MAX: each CopyImage stays pending a random time in [MIN, MAX].

EC2 User Guide, "Copy an Amazon EC2 AMI", and the EC2 API Reference,
CopyImage / DescribeSnapshots: a copy is `pending` until its snapshots are
copied, each snapshot reporting State `pending` and a Progress percentage,
then `available` / `completed` at 100%; how long depends on the copy
(minutes to hours on AWS). The flag draws each copy's duration from the
seeded generator (timing_helpers), so a fresh stand-in, or a default-mode
reset, gives the same durations again; in the default mode it is also
where POST /_standin/config starts.
"""

from __future__ import annotations

import pytest

from conftest import BAKE, PROD
from helpers import copy, make_ami, share
from timing_helpers import SEED, client, reset, timing_standin

MIN_SECONDS, MAX_SECONDS = 1.0, 2.0


@pytest.fixture(scope="module")
def ranged_endpoint(tmp_path_factory):
    with timing_standin(tmp_path_factory.mktemp("copy-duration"),
                        "--copy-duration", f"{MIN_SECONDS}-{MAX_SECONDS}", "--seed", str(SEED)) as endpoint:
        yield endpoint


def _control(endpoint, method, path, body=None):
    from conftest import admin

    return admin(endpoint, method, path, body)


def _durations(endpoint, copies: int) -> list[float]:
    """Start `copies` copies of one shared AMI into PROD; their scheduled durations."""
    bake, prod = client(endpoint, "ec2", BAKE), client(endpoint, "ec2", PROD)
    image_id, snaps = make_ami(bake)
    share(bake, image_id, snaps, PROD)
    for n in range(copies):
        copy(prod, image_id, name=f"copy-{n}")
    jobs = _control(endpoint, "GET", "copies")["copies"]
    return [job["done_at"] - job["started_at"] for job in jobs]


def test_each_copy_takes_a_seeded_random_duration_in_the_range(ranged_endpoint):
    reset(ranged_endpoint)
    assert _control(ranged_endpoint, "GET", "config")["copy_duration_seconds"] == MIN_SECONDS
    assert _control(ranged_endpoint, "GET", "config")["copy_duration_max_seconds"] == MAX_SECONDS
    first = _durations(ranged_endpoint, 4)
    assert all(MIN_SECONDS <= d <= MAX_SECONDS for d in first)
    assert len(set(first)) == 4  # drawn per copy, not one for all
    reset(ranged_endpoint)  # a reset seeds the draws again: the same durations
    assert _durations(ranged_endpoint, 4) == pytest.approx(first)


def test_config_route_still_sets_one_duration_in_the_default_mode(ranged_endpoint):
    """The flag only sets where the default mode starts; POST /_standin/config
    sets one duration for every copy until the next reset."""
    reset(ranged_endpoint)
    answer = _control(ranged_endpoint, "POST", "config", {"copy_duration_seconds": 0.25})
    assert (answer["copy_duration_seconds"], answer["copy_duration_max_seconds"]) == (0.25, 0.25)
    assert _durations(ranged_endpoint, 2) == pytest.approx([0.25, 0.25])
    reset(ranged_endpoint)
    assert _control(ranged_endpoint, "GET", "config")["copy_duration_max_seconds"] == MAX_SECONDS
