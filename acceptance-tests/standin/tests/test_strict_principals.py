"""Strict mode (`--strict`): no admin API, and only principals that exist may call."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from strict_helpers import Creds, allow, assume, client, refused, role, trust, user

pytestmark = pytest.mark.strict


@pytest.mark.parametrize("method,path", [("POST", "/_standin/reset"), ("GET", "/_standin/calls"),
                                         ("POST", "/_standin/faults"), ("POST", "/moto-api/reset")])
def test_strict_admin_routes_answer_404(strict_endpoint, method, path):
    """Issue 30: a strict run can lean on no stand-in control, so every admin
    route, and moto's own reset API, is absent (HTTP 404)."""
    request = urllib.request.Request(f"{strict_endpoint}{path}", data=b"{}" if method == "POST" else None,
                                     method=method, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=30)
    assert excinfo.value.code == 404


def test_strict_unknown_access_key_is_refused(strict_aws):
    """"Error codes for the Amazon EC2 API": AuthFailure, the credentials could
    not be validated (HTTP 401); AWS STS / AWS KMS API Reference, "Common
    Errors": InvalidClientTokenId, the access key id does not exist in AWS's
    records (HTTP 403). A key no CreateAccessKey or AssumeRole issued is unknown."""
    ghost = Creds("AKIAGHOSTGHOSTGHOST1")
    assert refused(client(strict_aws, "ec2", ghost).describe_images, Owners=["self"])[::2] == ("AuthFailure", 401)
    assert refused(client(strict_aws, "sts", ghost).get_caller_identity)[::2] == ("InvalidClientTokenId", 403)
    assert refused(client(strict_aws, "kms", ghost).list_keys)[::2] == ("InvalidClientTokenId", 403)


def test_strict_twelve_digit_key_is_the_account_root(strict_aws, accounts):
    """IAM User Guide, "AWS account root user": the root user has complete
    access to the account's resources; STS GetCallerIdentity names it
    arn:aws:iam::ACCOUNT:root with the account id as UserId."""
    account = next(accounts)
    identity = strict_aws("sts", account).get_caller_identity()
    assert (identity["Arn"], identity["UserId"], identity["Account"]) == (
        f"arn:aws:iam::{account}:root", account, account)
    assert strict_aws("ec2", account).describe_images(Owners=["self"])["Images"] == []


def test_strict_iam_user_acts_only_through_its_policies(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic": a new IAM user may do nothing
    until a policy allows it (implicit deny); STS API Reference,
    GetCallerIdentity: "No permissions are required to perform this operation"."""
    account = next(accounts)
    creds = user(strict_aws, account, "builder")
    identity = client(strict_aws, "sts", creds).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{account}:user/builder"
    ec2 = client(strict_aws, "ec2", creds)
    code, message, status = refused(ec2.describe_images, Owners=["self"])
    assert (code, status) == ("UnauthorizedOperation", 403)
    assert (f"User: arn:aws:iam::{account}:user/builder is not authorized to perform: ec2:DescribeImages "
            "on resource: * because no identity-based policy allows the ec2:DescribeImages action") in message
    strict_aws("iam", account).put_user_policy(
        UserName="builder", PolicyName="read", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [allow("ec2:Describe*")]}))
    assert ec2.describe_images(Owners=["self"])["Images"] == []


def test_strict_inactive_or_deleted_user_key_is_refused(strict_aws, accounts):
    """IAM API Reference, UpdateAccessKey: an Inactive key cannot be used to
    call AWS; STS "Common Errors": InvalidClientTokenId."""
    account = next(accounts)
    creds = user(strict_aws, account, "leaver", allow("sts:*"))
    iam = strict_aws("iam", account)
    iam.update_access_key(UserName="leaver", AccessKeyId=creds.key, Status="Inactive")
    assert refused(client(strict_aws, "sts", creds).get_caller_identity)[0] == "InvalidClientTokenId"
    iam.update_access_key(UserName="leaver", AccessKeyId=creds.key, Status="Active")
    client(strict_aws, "sts", creds).get_caller_identity()
    iam.delete_access_key(UserName="leaver", AccessKeyId=creds.key)
    assert refused(client(strict_aws, "sts", creds).get_caller_identity)[0] == "InvalidClientTokenId"


def test_strict_role_session_needs_its_session_token(strict_aws, accounts):
    """IAM User Guide, "Use temporary credentials with AWS resources": calls
    with temporary credentials must include the session token; without it (or
    with another) the key is not recognised (InvalidClientTokenId)."""
    account = next(accounts)
    caller = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    arn = role(strict_aws, account, "deployer", trust(f"arn:aws:iam::{account}:user/ci"))
    session = assume(strict_aws, caller, arn, RoleSessionName="run-1")
    identity = client(strict_aws, "sts", session).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account}:assumed-role/deployer/run-1"
    assert refused(client(strict_aws, "sts", Creds(session.key, session.secret)).get_caller_identity)[0] == \
        "InvalidClientTokenId"
    assert refused(client(strict_aws, "sts", Creds(session.key, session.secret, "forged")).get_caller_identity
                   )[0] == "InvalidClientTokenId"


def test_strict_user_and_session_requests_must_be_signed_with_their_secret(strict_aws, accounts):
    """IAM User Guide, "AWS Signature Version 4 for API requests": the request
    is signed with a key derived from the secret access key; one signed with
    another secret is refused (EC2 AuthFailure; STS, KMS "Common Errors":
    SignatureDoesNotMatch, HTTP 403). Paths with encoded characters (a
    Recycle Bin rule ARN) verify too."""
    account = next(accounts)
    creds = user(strict_aws, account, "signer", allow(["ec2:DescribeImages", "rbin:*", "sts:*"]))
    forged = Creds(creds.key, "not-the-secret")
    assert refused(client(strict_aws, "ec2", forged).describe_images, Owners=["self"])[::2] == ("AuthFailure", 401)
    assert refused(client(strict_aws, "sts", forged).get_caller_identity)[::2] == ("SignatureDoesNotMatch", 403)
    assert refused(client(strict_aws, "kms", forged).list_keys)[0] == "SignatureDoesNotMatch"
    client(strict_aws, "ec2", creds).describe_images(Owners=["self"])
    rule_arn = f"arn:aws:rbin:eu-west-1:{account}:rule/abcdefghijk"
    # Signed correctly, the request reaches Recycle Bin, which the stand-in does not model for tags.
    assert refused(client(strict_aws, "rbin", creds).list_tags_for_resource, ResourceArn=rule_arn)[0] == \
        "NotImplemented"
    assert refused(client(strict_aws, "rbin", forged).list_tags_for_resource, ResourceArn=rule_arn)[0] == \
        "SignatureDoesNotMatch"
