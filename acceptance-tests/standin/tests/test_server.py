"""The command-line contract, accounts and the admin reset."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest

from conftest import BAKE, PROD
from helpers import error_code, make_ami
from standin import launch
from standin.launch import STOP_TIMEOUT_SECONDS, stop


def test_cli_contract_port_file_stdout_and_sigterm(tmp_path):
    """Contract: picks a free port for --port 0, writes just the digits to
    --port-file, prints the listening line and exits 0 on SIGTERM."""
    port_file = tmp_path / "port"
    started = time.monotonic()
    with launch.running(port_file, stdout=subprocess.PIPE) as server:
        proc, port = server.proc, server.port
        # Reported, not asserted: how fast a busy machine starts Python is no contract.
        print(f"stand-in wrote its port file after {time.monotonic() - started:.2f} s")
        assert re.fullmatch(r"\d+\n", port_file.read_text())
        assert stop(proc) == 0
        assert proc.stdout.read().strip() == f"standin listening on http://127.0.0.1:{port}"


def test_cli_exits_cleanly_on_sigint(tmp_path):
    """Contract: SIGINT (Ctrl-C) stops the server with exit status 0."""
    with launch.running(tmp_path / "port") as server:
        proc = server.proc
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=STOP_TIMEOUT_SECONDS) == 0


def test_a_failure_inside_still_stops_the_server(tmp_path):
    """Contract (test harness): launch.running stops its server however the
    block ends, so a failing test leaves no stand-in behind."""
    with pytest.raises(AssertionError, match="a failing test"):
        with launch.running(tmp_path / "port") as server:
            proc = server.proc
            raise AssertionError("a failing test")
    assert proc.returncode is not None


def test_a_start_up_timeout_still_stops_the_server(tmp_path, monkeypatch):
    """Contract (test harness): a stand-in that does not come up in time is
    stopped, not left running, and the error says so."""
    started = []
    real_start = launch.start
    monkeypatch.setattr(launch, "start",
                        lambda *args, **kwargs: started.append(real_start(*args, **kwargs)) or started[-1])
    with pytest.raises(RuntimeError, match="did not write its port file"):
        with launch.running(tmp_path / "port", startup_timeout=0):
            pytest.fail("the block must not run when start-up timed out")
    assert started[0].returncode is not None


def test_twelve_digit_access_key_acts_as_that_account(aws):
    """Contract (moto's account convention): a 12-digit access key id is the account."""
    assert aws("sts", PROD).get_caller_identity()["Account"] == PROD
    image_id, _ = make_ami(aws("ec2", PROD))
    assert aws("ec2", PROD).describe_images(ImageIds=[image_id])["Images"][0]["OwnerId"] == PROD


def test_assumed_role_credentials_act_in_the_role_account(aws):
    """AWS STS API Reference, AssumeRole: the temporary credentials act as the
    role, so EC2 resources they create belong to the role's account."""
    role_arn = f"arn:aws:iam::{PROD}:role/deployer"
    aws("iam", PROD).create_role(RoleName="deployer", AssumeRolePolicyDocument="{}")
    creds = aws("sts", BAKE).assume_role(RoleArn=role_arn, RoleSessionName="tf")["Credentials"]
    session = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], token=creds["SessionToken"])
    assert aws("sts", **session).get_caller_identity()["Account"] == PROD
    image_id, _ = make_ami(aws("ec2", **session))
    assert aws("ec2", PROD).describe_images(ImageIds=[image_id])["Images"][0]["OwnerId"] == PROD


def test_any_region_is_served(aws):
    """Contract: every region works on the one endpoint, and regions are separate."""
    image_id, _ = make_ami(aws("ec2", BAKE, region="ap-southeast-2"))
    with pytest.raises(Exception) as excinfo:
        aws("ec2", BAKE, region="eu-west-1").describe_images(ImageIds=[image_id])
    assert error_code(excinfo) == "InvalidAMIID.NotFound"


def test_reset_empties_everything(aws, ctl):
    """Contract: POST /_standin/reset restores an empty world: no resources,
    default config, no faults, zeroed call counts."""
    make_ami(aws("ec2", BAKE))
    ctl("POST", "config", {"copy_duration_seconds": 9})
    ctl("POST", "faults", {"action": "DescribeVpcs", "error_code": "Boom", "http_status": 500})
    started = time.monotonic()
    ctl("POST", "reset")
    print(f"reset took {time.monotonic() - started:.3f} s")
    assert aws("ec2", BAKE).describe_images(Owners=["self"])["Images"] == []
    assert ctl("GET", "config")["copy_duration_seconds"] == 0.5
    aws("ec2", BAKE).describe_vpcs()  # the fault is gone
    assert ctl("GET", "calls") == {BAKE: {"DescribeImages": 1, "DescribeVpcs": 1}}


def test_unknown_admin_route_is_404(ctl):
    """Contract: only the documented admin routes exist."""
    with pytest.raises(Exception) as excinfo:
        ctl("POST", "nonsense", {})
    assert getattr(excinfo.value, "code", None) == 404
