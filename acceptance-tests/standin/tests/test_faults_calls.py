"""Fault injection and per-account call counts."""

from __future__ import annotations

import time
import urllib.request

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from conftest import BAKE, PROD

from helpers import error_code


def test_fault_uses_ec2_xml_error_format(endpoint, ctl):
    """AWS EC2 API Reference, "Error codes": errors are <Response><Errors><Error>
    <Code/><Message/></Error></Errors><RequestID/></Response> with the HTTP status."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "RequestLimitExceeded",
                           "http_status": 503, "message": "Request limit exceeded."})
    request = urllib.request.Request(f"{endpoint}/?Action=DescribeImages&Version=2016-11-15")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    assert excinfo.value.code == 503
    body = excinfo.value.read().decode()
    assert "<Response><Errors><Error><Code>RequestLimitExceeded</Code>" in body
    assert "<Message>Request limit exceeded.</Message>" in body and "<RequestID>" in body


def test_request_limit_exceeded_is_retried_as_throttling(aws, ctl):
    """AWS EC2 Developer Guide, "Request throttling": RequestLimitExceeded is a
    throttling error SDKs retry; after `count` faults the call succeeds."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "RequestLimitExceeded",
                           "http_status": 503, "count": 2})
    ec2 = aws("ec2", PROD, retries=5)
    ec2.describe_images(Owners=["self"])
    assert ctl("GET", "calls")[PROD]["DescribeImages"] == 3


def test_fault_scoped_to_one_account_and_count(aws, ctl):
    """Contract: `account` limits a fault to one caller; `count` limits how often it fires."""
    ctl("POST", "faults", {"action": "DescribeImages", "account": PROD,
                           "error_code": "UnauthorizedOperation", "http_status": 403, "count": 1})
    aws("ec2", BAKE).describe_images(Owners=["self"])
    with pytest.raises(ClientError) as excinfo:
        aws("ec2", PROD).describe_images(Owners=["self"])
    assert error_code(excinfo) == "UnauthorizedOperation"
    aws("ec2", PROD).describe_images(Owners=["self"])


def test_fault_rate_zero_never_fires_and_delete_clears(aws, ctl):
    """Contract: `rate` is a probability; DELETE /_standin/faults clears all faults."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "Boom", "rate": 0.0})
    for _ in range(5):
        aws("ec2", PROD).describe_images(Owners=["self"])
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "Boom", "http_status": 500})
    with pytest.raises(ClientError):
        aws("ec2", PROD).describe_images(Owners=["self"])
    ctl("DELETE", "faults")
    aws("ec2", PROD).describe_images(Owners=["self"])


def test_fault_latency_then_pass_through(aws, ctl):
    """Contract: a fault with only latency_seconds delays the real answer."""
    ctl("POST", "faults", {"action": "DescribeImages", "latency_seconds": 0.4, "count": 1})
    started = time.monotonic()
    assert aws("ec2", PROD).describe_images(Owners=["self"])["Images"] == []
    assert time.monotonic() - started >= 0.4


def test_fault_drop_connection(aws, ctl):
    """Contract: drop_connection closes the connection without an HTTP answer."""
    ctl("POST", "faults", {"action": "DescribeImages", "drop_connection": True, "count": 1})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        aws("ec2", PROD, retries=1).describe_images(Owners=["self"])
    aws("ec2", PROD).describe_images(Owners=["self"])


def test_fault_on_json_protocol_service(aws, ctl):
    """AWS KMS API Reference, "Common errors": JSON-protocol errors carry __type."""
    ctl("POST", "faults", {"action": "DescribeKey", "error_code": "KMSInternalException",
                           "http_status": 500})
    with pytest.raises(ClientError) as excinfo:
        aws("kms", PROD).describe_key(KeyId="alias/aws/ebs")
    assert error_code(excinfo) == "KMSInternalException"


def test_calls_are_counted_per_account_and_action(aws, ctl):
    """Contract: GET /_standin/calls counts by SigV4 access key's account, faulted
    calls included, assumed-role keys under the role's account; DELETE clears."""
    aws("iam", PROD).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    creds = aws("sts", BAKE).assume_role(RoleArn=f"arn:aws:iam::{PROD}:role/r",
                                         RoleSessionName="session")["Credentials"]
    role_ec2 = aws("ec2", creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                   token=creds["SessionToken"])
    role_ec2.describe_images(Owners=["self"])
    ctl("POST", "faults", {"action": "DescribeSnapshots", "error_code": "Boom", "count": 1})
    with pytest.raises(ClientError):
        aws("ec2", PROD).describe_snapshots(OwnerIds=["self"])
    calls = ctl("GET", "calls")
    assert calls[PROD] == {"CreateRole": 1, "DescribeImages": 1, "DescribeSnapshots": 1}
    assert calls[BAKE] == {"AssumeRole": 1}
    ctl("DELETE", "calls")
    assert ctl("GET", "calls") == {}
