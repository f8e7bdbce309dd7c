"""Strict mode: AssumeRole needs an existing role whose trust policy allows
the caller; role chaining is limited to one hour."""

from __future__ import annotations

import pytest

from strict_helpers import allow, assume, client, refused, role, trust, user

pytestmark = pytest.mark.strict


def test_strict_assume_role_needs_an_existing_role(strict_aws, accounts):
    """AWS STS API Reference, AssumeRole: the role to assume is named by its
    ARN; one that does not exist cannot be assumed (AccessDenied, HTTP 403,
    "User: ... is not authorized to perform: sts:AssumeRole on resource: ...")."""
    account = next(accounts)
    caller = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    missing = f"arn:aws:iam::{account}:role/missing"
    code, message, status = refused(client(strict_aws, "sts", caller).assume_role,
                                    RoleArn=missing, RoleSessionName="probe")
    assert (code, status) == ("AccessDenied", 403)
    assert message == (f"User: arn:aws:iam::{account}:user/ci is not authorized to perform: sts:AssumeRole "
                       f"on resource: {missing}")


def test_strict_root_user_cannot_assume_roles(strict_aws, accounts):
    """IAM User Guide, "Switch to an IAM role (AWS API)": you cannot assume a
    role while signed in as the account root user (AWS answers AccessDenied,
    "Roles may not be assumed by root accounts.")."""
    account = next(accounts)
    arn = role(strict_aws, account, "admin", trust(f"arn:aws:iam::{account}:root"))
    assert refused(strict_aws("sts", account).assume_role, RoleArn=arn, RoleSessionName="probe")[:2] == (
        "AccessDenied", "Roles may not be assumed by root accounts.")


def test_strict_trust_policy_naming_the_caller_or_its_account(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic" (identity-based and
    resource-based policies): in one account, a trust policy naming the user
    itself is enough; one naming only the account (arn:aws:iam::ACCOUNT:root)
    delegates to IAM, so the user's identity policy must allow sts:AssumeRole
    too; a trust policy naming someone else allows nothing."""
    account = next(accounts)
    bare = user(strict_aws, account, "bare")
    named = role(strict_aws, account, "named", trust(f"arn:aws:iam::{account}:user/bare"))
    by_account = role(strict_aws, account, "by-account", trust(account))
    other = role(strict_aws, account, "other", trust(f"arn:aws:iam::{account}:user/someone-else"))
    assume(strict_aws, bare, named)
    assert refused(client(strict_aws, "sts", bare).assume_role, RoleArn=by_account, RoleSessionName="probe")[0] == \
        "AccessDenied"
    allowed = user(strict_aws, account, "allowed", allow("sts:AssumeRole", f"arn:aws:iam::{account}:role/*"))
    assume(strict_aws, allowed, by_account)
    assert refused(client(strict_aws, "sts", allowed).assume_role, RoleArn=other, RoleSessionName="probe")[0] == \
        "AccessDenied"


def test_strict_cross_account_needs_trust_and_identity_policy(strict_aws, accounts):
    """IAM User Guide, "Cross-account policy evaluation logic": across accounts
    both the role's trust policy and the caller's identity policy must allow
    sts:AssumeRole. The fan-out example's shape: the importer role trusts the
    bake principal (a role), whose policy allows arn:aws:iam::*:role/ami-importer
    (examples/fan-out/README.md)."""
    bake, target = next(accounts), next(accounts)
    ci = user(strict_aws, bake, "ci", allow("sts:AssumeRole"))
    bake_role = role(strict_aws, bake, "terraform-bake", trust(f"arn:aws:iam::{bake}:user/ci"))
    importer = role(strict_aws, target, "ami-importer", trust(bake_role))
    session = assume(strict_aws, ci, bake_role)
    assert refused(client(strict_aws, "sts", session).assume_role, RoleArn=importer,
                   RoleSessionName="probe")[0] == "AccessDenied"
    strict_aws("iam", bake).put_role_policy(
        RoleName="terraform-bake", PolicyName="fan-out", PolicyDocument=(
            '{"Version": "2012-10-17", "Statement": [{"Sid": "AssumeTheImporterRoles", "Effect": "Allow", '
            '"Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/ami-importer"}]}'))
    imported = assume(strict_aws, session, importer)
    assert client(strict_aws, "sts", imported).get_caller_identity()["Account"] == target
    stranger = user(strict_aws, next(accounts), "stranger", allow("sts:AssumeRole"))
    assert refused(client(strict_aws, "sts", stranger).assume_role, RoleArn=importer,
                   RoleSessionName="probe")[0] == "AccessDenied"


def test_strict_external_id_condition(strict_aws, accounts):
    """IAM User Guide, "Access to AWS accounts owned by third parties": a trust
    policy may require sts:ExternalId; AssumeRole without it, or with another
    value, is denied."""
    owner, vendor = next(accounts), next(accounts)
    caller = user(strict_aws, vendor, "vendor", allow("sts:AssumeRole"))
    arn = role(strict_aws, owner, "vendor-access", trust(vendor, {"StringEquals": {"sts:ExternalId": "secret-1"}}))
    sts = client(strict_aws, "sts", caller)
    assert refused(sts.assume_role, RoleArn=arn, RoleSessionName="probe")[0] == "AccessDenied"
    assert refused(sts.assume_role, RoleArn=arn, RoleSessionName="probe", ExternalId="other")[0] == "AccessDenied"
    assume(strict_aws, caller, arn, ExternalId="secret-1")


def test_strict_explicit_deny_in_trust_policy(strict_aws, accounts):
    """IAM User Guide, "Policy evaluation logic": an explicit Deny in the trust
    policy wins over its Allow."""
    account = next(accounts)
    caller = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    document = ('{"Version": "2012-10-17", "Statement": ['
                f'{{"Effect": "Allow", "Principal": {{"AWS": "{account}"}}, "Action": "sts:AssumeRole"}}, '
                f'{{"Effect": "Deny", "Principal": {{"AWS": "arn:aws:iam::{account}:user/ci"}}, '
                '"Action": "sts:AssumeRole"}]}')
    arn = role(strict_aws, account, "guarded", document)
    assert refused(client(strict_aws, "sts", caller).assume_role, RoleArn=arn, RoleSessionName="probe")[0] == \
        "AccessDenied"


def test_strict_role_chaining_is_limited_to_one_hour(strict_aws, accounts):
    """AWS STS API Reference, AssumeRole, DurationSeconds: role chaining limits
    the session to one hour; a larger value fails (ValidationError, "The
    requested DurationSeconds exceeds the 1 hour session limit for roles
    assumed by role chaining."). From a user, up to the role's
    MaxSessionDuration; beyond it, or under 900 seconds, the call fails too."""
    account = next(accounts)
    caller = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    first = role(strict_aws, account, "first", trust(f"arn:aws:iam::{account}:user/ci"), allow("sts:AssumeRole"),
                 max_session_duration=43200)
    second = role(strict_aws, account, "second", trust(f"arn:aws:iam::{account}:role/first"),
                  max_session_duration=43200)
    session = assume(strict_aws, caller, first, DurationSeconds=43200)
    code, message, status = refused(client(strict_aws, "sts", session).assume_role, RoleArn=second,
                                    RoleSessionName="probe", DurationSeconds=3601)
    assert (code, status) == ("ValidationError", 400)
    assert message == ("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                       "role chaining.")
    assume(strict_aws, session, second, DurationSeconds=3600)
    short = role(strict_aws, account, "short", trust(f"arn:aws:iam::{account}:user/ci"))
    assert refused(client(strict_aws, "sts", caller).assume_role, RoleArn=short, RoleSessionName="probe",
                   DurationSeconds=7200)[0] == "ValidationError"
    unchecked = strict_aws("sts", caller.key, secret=caller.secret, validate=False)
    assert refused(unchecked.assume_role, RoleArn=short, RoleSessionName="probe",
                   DurationSeconds=899)[0] == "ValidationError"
