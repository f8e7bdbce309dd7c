"""Fault injection and per-account call counts."""

from __future__ import annotations

import time
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from conftest import BAKE, PROD, STAGE
from helpers import error_code
from standin.launch import HTTP_TIMEOUT_SECONDS


def test_fault_uses_ec2_xml_error_format(endpoint, ctl):
    """AWS EC2 API Reference, "Error codes": errors are <Response><Errors><Error>
    <Code/><Message/></Error></Errors><RequestID/></Response> with the HTTP status."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "RequestLimitExceeded",
                           "http_status": 503, "message": "Request limit exceeded."})
    request = urllib.request.Request(f"{endpoint}/?Action=DescribeImages&Version=2016-11-15")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS)
    assert excinfo.value.code == 503
    body = excinfo.value.read().decode()
    assert "<Response><Errors><Error><Code>RequestLimitExceeded</Code>" in body
    assert "<Message>Request limit exceeded.</Message>" in body and "<RequestID>" in body


def raw_bodies(client) -> list[bytes]:
    """Collect every response body `client` receives, before botocore parses it."""
    bodies: list[bytes] = []
    client.meta.events.register(
        "before-parse", lambda response_dict, **_: bodies.append(response_dict["body"]))
    return bodies


STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
IAM_NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"
ROLE_ARN = f"arn:aws:iam::{PROD}:role/deployer"
QUERY_CALLS = {
    "sts-GetCallerIdentity": ("sts", "GetCallerIdentity", STS_NS, lambda c: c.get_caller_identity()),
    "sts-AssumeRole": ("sts", "AssumeRole", STS_NS,
                       lambda c: c.assume_role(RoleArn=ROLE_ARN, RoleSessionName="tf")),
    "iam-ListRoles": ("iam", "ListRoles", IAM_NS, lambda c: c.list_roles()),
}


@pytest.mark.parametrize("call", sorted(QUERY_CALLS))
@pytest.mark.parametrize(("status", "fault_type"), [(400, "Sender"), (503, "Receiver")])
def test_fault_on_aws_query_service_uses_error_response_format(aws, ctl, call, status, fault_type):
    """Smithy, "AWS query protocol", Operation error serialization: awsQuery
    services (STS, IAM) answer <ErrorResponse><Error><Type/><Code/><Message/>
    </Error><RequestId/></ErrorResponse>, Type Sender or Receiver (who is at
    fault); AWS re:Post, "How do I resolve API throttling or 'Rate exceeded'
    errors for IAM and AWS STS?": their throttling error is code Throttling.
    The service is told by the SigV4 credential scope the SDK signs with."""
    service, action, namespace, invoke = QUERY_CALLS[call]
    aws("iam", PROD).create_role(RoleName="deployer", AssumeRolePolicyDocument="{}")
    ctl("POST", "faults", {"action": action, "error_code": "Throttling", "http_status": status,
                           "message": "Rate exceeded", "count": 1})
    client = aws(service, BAKE)  # retries=1: one attempt, so the error surfaces
    bodies = raw_bodies(client)
    with pytest.raises(ClientError) as excinfo:
        invoke(client)
    error = excinfo.value.response["Error"]
    assert (error["Code"], error["Message"], error["Type"]) == ("Throttling", "Rate exceeded", fault_type)
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]
    root = ET.fromstring(bodies[-1])
    assert root.tag == f"{namespace}ErrorResponse"
    assert [child.tag for child in root] == [f"{namespace}Error", f"{namespace}RequestId"]
    assert root.findtext(f"{namespace}Error/{namespace}Type") == fault_type
    invoke(client)  # the fault fired once; the call itself works


@pytest.mark.parametrize("call", sorted(QUERY_CALLS))
def test_throttling_on_aws_query_service_is_retried(aws, ctl, call):
    """AWS re:Post, "How do I resolve API throttling or 'Rate exceeded' errors
    for IAM and AWS STS?": the SDKs retry Throttling with backoff, so after
    `count` throttled attempts the call succeeds."""
    service, action, _, invoke = QUERY_CALLS[call]
    aws("iam", PROD).create_role(RoleName="deployer", AssumeRolePolicyDocument="{}")
    ctl("POST", "faults", {"action": action, "error_code": "Throttling", "count": 2})
    invoke(aws(service, BAKE, retries=3))
    assert ctl("GET", "calls")[BAKE][action] == 3


def test_signed_ec2_fault_keeps_ec2_error_format(aws, ctl):
    """AWS EC2 API Reference, "Error codes": EC2 (the ec2Query protocol) keeps its
    own document, <Response><Errors><Error>, for SDK-signed requests too."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "RequestLimitExceeded",
                           "http_status": 503, "count": 1})
    ec2 = aws("ec2", PROD)
    bodies = raw_bodies(ec2)
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_images(Owners=["self"])
    assert error_code(excinfo) == "RequestLimitExceeded"
    root = ET.fromstring(bodies[-1])
    assert (root.tag, [child.tag for child in root]) == ("Response", ["Errors", "RequestID"])


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


def test_faults_report_how_often_they_fired(aws, ctl):
    """Contract: GET /_standin/faults lists the faults in order, each with `fired`, the calls it
    answered; a fault whose `count` ran out stays listed with its total."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "RequestLimitExceeded",
                           "http_status": 503, "count": 2})
    ctl("POST", "faults", {"action": "DescribeSnapshots", "error_code": "Boom", "rate": 0.0})
    aws("ec2", PROD, retries=5).describe_images(Owners=["self"])
    aws("ec2", PROD).describe_snapshots(OwnerIds=["self"])
    listed = ctl("GET", "faults")["faults"]
    assert [(f["action"], f["fired"], f["count"]) for f in listed] == [
        ("DescribeImages", 2, 0), ("DescribeSnapshots", 0, None)]
    ctl("DELETE", "faults")
    assert ctl("GET", "faults") == {"faults": []}


def test_fault_latency_then_pass_through(aws, ctl):
    """Contract: a fault with only latency_seconds delays the real answer."""
    ctl("POST", "faults", {"action": "DescribeImages", "latency_seconds": 0.4, "count": 1})
    started = time.monotonic()
    assert aws("ec2", PROD).describe_images(Owners=["self"])["Images"] == []
    # A lower bound only: it shows the delay was applied, and a slow machine can
    # only make the call take longer, never shorter.
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


def test_call_log_records_every_call_with_time_account_region_and_action(aws, ctl):
    """Contract: GET /_standin/call_log lists every call in arrival order, faulted
    ones included, each with `t` (monotonic seconds), `wall` (epoch seconds), the
    account, the region of its SigV4 credential scope, the service, the action and
    whether a fault answered it; DescribeImages also carries how many ImageIds and
    filter values it named. GET /_standin/calls keeps its count format."""
    ctl("POST", "faults", {"action": "DescribeSnapshots", "error_code": "Boom", "count": 1})
    started = time.time()
    aws("ec2", PROD).describe_images(Owners=["self"],
                                     Filters=[{"Name": "image-id", "Values": ["ami-1", "ami-2"]},
                                              {"Name": "state", "Values": ["pending"]}])
    with pytest.raises(ClientError):  # moto's answer, not a fault: InvalidAMIID.NotFound
        aws("ec2", BAKE, region="us-east-1").describe_images(
            ImageIds=["ami-0123456789abcdef0", "ami-0123456789abcdef1"])
    with pytest.raises(ClientError):
        aws("ec2", PROD).describe_snapshots(OwnerIds=["self"])
    aws("sts", BAKE).get_caller_identity()
    calls = ctl("GET", "call_log")["calls"]
    assert [(c["account"], c["region"], c["service"], c["action"], c["faulted"]) for c in calls] == [
        (PROD, "eu-west-1", "ec2", "DescribeImages", False),
        (BAKE, "us-east-1", "ec2", "DescribeImages", False),
        (PROD, "eu-west-1", "ec2", "DescribeSnapshots", True),
        (BAKE, "eu-west-1", "sts", "GetCallerIdentity", False),
    ]
    assert [c["t"] for c in calls] == sorted(c["t"] for c in calls)
    assert all(started - 1 <= c["wall"] <= time.time() + 1 for c in calls)
    assert (calls[0]["image_ids"], calls[0]["filter_values"]) == (0, {"image-id": 2, "state": 1})
    assert (calls[1]["image_ids"], calls[1]["filter_values"]) == (2, {})
    assert "image_ids" not in calls[2]
    assert ctl("GET", "calls") == {PROD: {"DescribeImages": 1, "DescribeSnapshots": 1},
                                   BAKE: {"DescribeImages": 1, "GetCallerIdentity": 1}}


def test_call_log_counts_the_lists_and_paging_of_describe_calls(aws, ctl):
    """Contract: DescribeImages entries count ImageIds and ExecutableUsers, and
    DescribeSnapshots entries SnapshotIds and RestorableByUserIds; both carry the
    values per filter name, the MaxResults asked for (null: none) and whether a
    NextToken was sent."""
    prod = aws("ec2", PROD)
    prod.describe_images(Owners=["self"], ExecutableUsers=[BAKE, STAGE], MaxResults=1000,
                         Filters=[{"Name": "tag-key", "Values": ["CopiedFromAMI"]}])
    prod.describe_snapshots(OwnerIds=["self"], RestorableByUserIds=["all"])
    with pytest.raises(ClientError):
        prod.describe_snapshots(MaxResults=5, NextToken="garbage")
    images, snapshots, paged = ctl("GET", "call_log")["calls"]
    assert {k: images[k] for k in ("image_ids", "executable_users", "filter_values",
                                   "max_results", "next_token")} == {
        "image_ids": 0, "executable_users": 2, "filter_values": {"tag-key": 1},
        "max_results": 1000, "next_token": False}
    assert {k: snapshots[k] for k in ("snapshot_ids", "restorable_by", "filter_values",
                                      "max_results", "next_token")} == {
        "snapshot_ids": 0, "restorable_by": 1, "filter_values": {},
        "max_results": None, "next_token": False}
    assert (paged["max_results"], paged["next_token"]) == (5, True)
    assert "image_ids" not in snapshots and "snapshot_ids" not in images


def test_call_log_query_and_clearing(aws, ctl):
    """Contract: `?since=T` keeps calls with t > T and `?action=A` calls of action A;
    DELETE /_standin/calls clears the log with the counts, and so does reset."""
    ec2 = aws("ec2", PROD)
    ec2.describe_images(Owners=["self"])
    first = ctl("GET", "call_log")["calls"][-1]["t"]
    ec2.describe_snapshots(OwnerIds=["self"])
    ec2.describe_images(Owners=["self"])
    later = ctl("GET", f"call_log?since={first!r}")
    assert [c["action"] for c in later["calls"]] == ["DescribeSnapshots", "DescribeImages"]
    assert later["dropped"] == 0
    only = ctl("GET", "call_log?action=DescribeImages")["calls"]
    assert [c["action"] for c in only] == ["DescribeImages", "DescribeImages"]
    ctl("DELETE", "calls")
    assert ctl("GET", "call_log") == {"calls": [], "dropped": 0} and ctl("GET", "calls") == {}
    ec2.describe_images(Owners=["self"])
    ctl("POST", "reset")
    assert ctl("GET", "call_log") == {"calls": [], "dropped": 0}


def test_call_log_is_bounded_and_counts_what_it_dropped():
    """Contract: the call log keeps the newest calls only (200,000 by default) and
    counts the ones it dropped, so a long run cannot exhaust memory."""
    from collections import deque

    from standin.state import CALL_LOG_SIZE, State

    assert CALL_LOG_SIZE == 200_000
    log = State(call_log=deque(maxlen=3))
    for t in range(5):
        log.log_call({"t": t})
    assert ([c["t"] for c in log.call_log], log.call_log_dropped) == ([2, 3, 4], 2)
    log.clear_calls()
    assert (list(log.call_log), log.call_log_dropped) == ([], 0)


MISSING_ROLE = f"arn:aws:iam::{STAGE}:role/missing"


def test_fault_with_params_matches_only_calls_carrying_them(aws, ctl):
    """Contract: a fault's `params` limit it to requests whose query or form
    parameters have those values. AWS re:Post Knowledge Center, "iam-assume-role-error"
    (repost.aws/knowledge-center/iam-assume-role-error): a role the caller may not
    assume is refused with AccessDenied on AssumeRole (sent with HTTP 403) — here
    for one role, while another is assumed as usual."""
    aws("iam", STAGE).create_role(RoleName="missing", AssumeRolePolicyDocument="{}")
    aws("iam", PROD).create_role(RoleName="deployer", AssumeRolePolicyDocument="{}")
    ctl("POST", "faults", {"action": "AssumeRole", "error_code": "AccessDenied", "http_status": 403,
                           "message": "Not authorized to perform sts:AssumeRole",
                           "params": {"RoleArn": MISSING_ROLE}})
    sts = aws("sts", BAKE)
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=MISSING_ROLE, RoleSessionName="tf")
    assert error_code(excinfo) == "AccessDenied"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="tf")["Credentials"]["AccessKeyId"]
    listed = ctl("GET", "faults")["faults"]
    assert [(f["params"], f["fired"]) for f in listed] == [({"RoleArn": MISSING_ROLE}, 1)]


def test_fault_params_match_ec2_list_members_and_json_members(aws, ctl):
    """Contract: `params` names parameters as they are sent: EC2 list members by
    their wire names (`ImageId.1`), JSON-protocol members (KMS `KeyId`) by name; all
    the listed parameters must match."""
    ctl("POST", "faults", {"action": "DescribeImages", "error_code": "Boom",
                           "params": {"ImageId.1": "ami-0123456789abcdef0", "IncludeDeprecated": "true"}})
    ctl("POST", "faults", {"action": "DescribeKey", "error_code": "KMSInternalException",
                           "http_status": 500, "params": {"KeyId": "alias/broken"}})
    ec2, kms = aws("ec2", PROD), aws("kms", PROD)
    with pytest.raises(ClientError) as excinfo:
        ec2.describe_images(ImageIds=["ami-0123456789abcdef0"], IncludeDeprecated=True)
    assert error_code(excinfo) == "Boom"
    with pytest.raises(ClientError) as excinfo:  # only one of the two parameters: no fault
        ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])
    assert error_code(excinfo) == "InvalidAMIID.NotFound"
    with pytest.raises(ClientError) as excinfo:
        kms.describe_key(KeyId="alias/broken")
    assert error_code(excinfo) == "KMSInternalException"
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]


@pytest.mark.parametrize("params", [["RoleArn"], {"RoleArn": 3}, "RoleArn=x"])
def test_fault_params_must_be_an_object_of_strings(ctl, params):
    """Contract: POST /_standin/faults refuses (400) `params` that is not an object
    of parameter names to string values, and adds no fault."""
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        ctl("POST", "faults", {"action": "AssumeRole", "error_code": "AccessDenied", "params": params})
    assert excinfo.value.code == 400
    assert ctl("GET", "faults") == {"faults": []}


def test_fault_empty_answer_lists_nothing_then_passes_through(aws, ctl):
    """Contract: empty_answer answers a DescribeImages or DescribeSnapshots call with success and
    an empty list (EC2 API Reference, DescribeImages "Response Elements": imagesSet), as a read
    that lags a write shows a resource that exists; only for the calls the fault matches."""
    ec2 = aws("ec2", PROD)
    volume = ec2.create_volume(AvailabilityZone="eu-west-1a", Size=8)
    snapshot_id = ec2.create_snapshot(VolumeId=volume["VolumeId"])["SnapshotId"]
    ctl("POST", "faults", {"action": "DescribeSnapshots", "empty_answer": True, "count": 1,
                           "params": {"SnapshotId.1": snapshot_id}})
    assert ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"] == []
    assert [s["SnapshotId"] for s in ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"]] == [snapshot_id]
    with pytest.raises(urllib.error.HTTPError) as refused:
        ctl("POST", "faults", {"action": "CopyImage", "empty_answer": True})
    assert refused.value.code == 400
