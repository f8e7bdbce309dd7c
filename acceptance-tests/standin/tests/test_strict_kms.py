"""Strict mode: KMS combines the key policy, grants and the caller's IAM
policies as the AWS KMS Developer Guide says ("Key policies in AWS KMS",
"Default key policy", "Allowing users in other accounts to use a KMS key")."""

from __future__ import annotations

import pytest

from helpers import make_ami, wait_state
from strict_helpers import allow, assume, client, policy, refused, role, trust, user

pytestmark = pytest.mark.strict
REGION = "eu-west-1"


def key_policy(*statements: dict) -> str:
    return policy(*statements)


def principal_statement(principal, actions, condition: dict | None = None, effect: str = "Allow") -> dict:
    statement = {"Effect": effect, "Principal": principal if principal == "*" else {"AWS": principal},
                 "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


def test_strict_default_key_policy_delegates_to_iam(strict_aws, accounts):
    """AWS KMS Developer Guide, "Default key policy": its statement for the
    account (arn:aws:iam::ACCOUNT:root) lets IAM policies grant the key; a user
    still needs one (AccessDeniedException, HTTP 400, "because no
    identity-based policy allows the kms:Encrypt action")."""
    account = next(accounts)
    key_arn = strict_aws("kms", account).create_key()["KeyMetadata"]["Arn"]
    with_policy = user(strict_aws, account, "app", allow(["kms:Encrypt", "kms:DescribeKey"], key_arn))
    client(strict_aws, "kms", with_policy).encrypt(KeyId=key_arn, Plaintext=b"x")
    without = user(strict_aws, account, "other")
    code, message, status = refused(client(strict_aws, "kms", without).encrypt, KeyId=key_arn, Plaintext=b"x")
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == (f"User: arn:aws:iam::{account}:user/other is not authorized to perform: kms:Encrypt on "
                       f"resource: {key_arn} because no identity-based policy allows the kms:Encrypt action")


def test_strict_key_policy_without_the_account_ignores_iam_policies(strict_aws, accounts):
    """AWS KMS Developer Guide, "Key policies in AWS KMS": unless the key policy
    allows the account, IAM policies give no access to the key, not even to
    the root user; a principal the key policy names itself needs no IAM policy."""
    account = next(accounts)
    admin = user(strict_aws, account, "admin", allow("kms:*"))
    named = user(strict_aws, account, "named")
    key_arn = strict_aws("kms", account).create_key(Policy=key_policy(
        principal_statement(f"arn:aws:iam::{account}:user/named", ["kms:DescribeKey", "kms:Encrypt"])),
        BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    code, message, _ = refused(client(strict_aws, "kms", admin).describe_key, KeyId=key_arn)
    assert code == "AccessDeniedException" and "because no resource-based policy allows" in message
    assert refused(strict_aws("kms", account).describe_key, KeyId=key_arn)[0] == "AccessDeniedException"
    client(strict_aws, "kms", named).encrypt(KeyId=key_arn, Plaintext=b"x")


def test_strict_cross_account_key_needs_key_policy_and_identity_policy(strict_aws, accounts):
    """AWS KMS Developer Guide, "Allowing users in other accounts to use a KMS
    key": the key policy must allow the other account, and that account's IAM
    policy must allow its user; an explicit Deny in the key policy wins."""
    bake, prod = next(accounts), next(accounts)
    key_arn = strict_aws("kms", bake).create_key(Policy=key_policy(
        principal_statement(f"arn:aws:iam::{bake}:root", "kms:*"),
        principal_statement(f"arn:aws:iam::{prod}:root", ["kms:DescribeKey", "kms:Encrypt"]),
        principal_statement(f"arn:aws:iam::{prod}:user/blocked", "kms:*", effect="Deny")))["KeyMetadata"]["Arn"]
    bare = user(strict_aws, prod, "bare")
    code, message, _ = refused(client(strict_aws, "kms", bare).describe_key, KeyId=key_arn)
    assert code == "AccessDeniedException" and "because no identity-based policy allows" in message
    allowed = user(strict_aws, prod, "allowed", allow("kms:*", f"arn:aws:kms:{REGION}:{bake}:key/*"))
    client(strict_aws, "kms", allowed).encrypt(KeyId=key_arn, Plaintext=b"x")
    code, message, _ = refused(client(strict_aws, "kms", allowed).decrypt, KeyId=key_arn,
                               CiphertextBlob=strict_aws("kms", bake).encrypt(KeyId=key_arn, Plaintext=b"x")[
                                   "CiphertextBlob"])
    assert code == "AccessDeniedException" and "because no resource-based policy allows" in message
    blocked = user(strict_aws, prod, "blocked", allow("kms:*"))
    assert "with an explicit deny in a resource-based policy" in refused(
        client(strict_aws, "kms", blocked).describe_key, KeyId=key_arn)[1]


def test_strict_create_grant_limited_by_grant_operations(strict_aws, accounts):
    """docs/guides/kms-keys.md, CreateCopyGrants: kms:CreateGrant with
    ForAllValues:StringEquals on kms:GrantOperations (AWS KMS Developer Guide,
    "kms:GrantOperations") allows only grants of those operations."""
    bake, prod = next(accounts), next(accounts)
    key_arn = strict_aws("kms", bake).create_key()["KeyMetadata"]["Arn"]
    operations = ["CreateGrant", "Decrypt", "DescribeKey", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                  "ReEncryptFrom"]
    creds = user(strict_aws, bake, "sharer",
                 allow("kms:CreateGrant", key_arn, {"ForAllValues:StringEquals": {"kms:GrantOperations": operations}}),
                 allow(["kms:ListGrants", "kms:RetireGrant", "kms:RevokeGrant"], key_arn))
    kms = client(strict_aws, "kms", creds)
    grant = kms.create_grant(KeyId=key_arn, GranteePrincipal=f"arn:aws:iam::{prod}:root", Operations=operations)
    code, message, _ = refused(kms.create_grant, KeyId=key_arn, GranteePrincipal=f"arn:aws:iam::{prod}:root",
                               Operations=["Decrypt", "Encrypt"])
    assert code == "AccessDeniedException" and "kms:CreateGrant" in message
    assert [g["GrantId"] for g in kms.list_grants(KeyId=key_arn)["Grants"]] == [grant["GrantId"]]
    kms.revoke_grant(KeyId=key_arn, GrantId=grant["GrantId"])


def test_strict_grant_to_a_role_and_its_retiring_principal(strict_aws, accounts):
    """AWS KMS Developer Guide, "Grants in AWS KMS": a grant allows its
    operations to its grantee principal (here a role, with no IAM policy for
    the key); the grant's retiring principal may retire it (API Reference,
    RetireGrant)."""
    bake, prod = next(accounts), next(accounts)
    key_arn = strict_aws("kms", bake).create_key()["KeyMetadata"]["Arn"]
    ci = user(strict_aws, prod, "ci", allow("sts:AssumeRole"))
    role_arn = role(strict_aws, prod, "importer", trust(f"arn:aws:iam::{prod}:user/ci"))
    session = assume(strict_aws, ci, role_arn)
    kms = client(strict_aws, "kms", session)
    assert refused(kms.describe_key, KeyId=key_arn)[0] == "AccessDeniedException"
    grant = strict_aws("kms", bake).create_grant(KeyId=key_arn, GranteePrincipal=role_arn,
                                                 RetiringPrincipal=role_arn, Operations=["DescribeKey"])
    assert kms.describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn
    kms.retire_grant(GrantToken=grant["GrantToken"])
    assert refused(kms.describe_key, KeyId=key_arn)[0] == "AccessDeniedException"


def test_strict_principal_org_id_from_the_organizations_api(strict_aws, accounts):
    """docs/guides/kms-keys.md, ImageCopierOrganizationsUseKey: Principal `*`
    with StringEquals aws:PrincipalOrgID (IAM User Guide, "AWS global condition
    context keys"); membership comes from AWS Organizations (CreateOrganization,
    CreateAccount), not from the stand-in's admin API."""
    management, outsider = next(accounts), next(accounts)
    organizations = strict_aws("organizations", management)
    org_id = organizations.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = organizations.create_account(Email="member@example.com", AccountName="member")[
        "CreateAccountStatus"]["AccountId"]
    key_arn = strict_aws("kms", management).create_key(Policy=key_policy(
        principal_statement(f"arn:aws:iam::{management}:root", "kms:*"),
        principal_statement("*", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                            {"StringEquals": {"aws:PrincipalOrgID": [org_id]}})))["KeyMetadata"]["Arn"]
    assert strict_aws("kms", member).describe_key(KeyId=key_arn)["KeyMetadata"]["Arn"] == key_arn
    assert refused(strict_aws("kms", outsider).describe_key, KeyId=key_arn)[0] == "AccessDeniedException"


def test_strict_copy_image_uses_the_target_key_through_ec2(strict_aws, accounts):
    """docs/guides/kms-keys.md (the target key) and AWS KMS Developer Guide,
    "kms:GrantIsForAWSResource": a key policy may allow CreateGrant only when
    an AWS service asks for the caller. CopyImage into that key by the named
    role completes; the role calling CreateGrant itself is refused; a role the
    key policy does not name gets a copy that fails, as for an unusable key."""
    account = next(accounts)
    ci = user(strict_aws, account, "ci", allow("sts:AssumeRole"))
    importer = role(strict_aws, account, "importer", trust(f"arn:aws:iam::{account}:user/ci"),
                    allow(["ec2:CopyImage", "ec2:DescribeImages"]))
    other = role(strict_aws, account, "other", trust(f"arn:aws:iam::{account}:user/ci"),
                 allow(["ec2:CopyImage", "ec2:DescribeImages"]))
    key_arn = strict_aws("kms", account).create_key(Policy=key_policy(
        principal_statement(importer, ["kms:DescribeKey", "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*",
                                       "kms:GenerateDataKey*"]),
        principal_statement(importer, "kms:CreateGrant", {"Bool": {"kms:GrantIsForAWSResource": "true"}})),
        BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    source, _ = make_ami(strict_aws("ec2", account), name="kms-source")
    session = assume(strict_aws, ci, importer)
    ec2 = client(strict_aws, "ec2", session)
    copy = ec2.copy_image(SourceImageId=source, SourceRegion=REGION, Name="kms-copy", Encrypted=True,
                          KmsKeyId=key_arn)["ImageId"]
    assert wait_state(ec2, copy, "available")["ImageId"] == copy
    assert refused(client(strict_aws, "kms", session).create_grant, KeyId=key_arn,
                   GranteePrincipal=importer, Operations=["Decrypt"])[0] == "AccessDeniedException"
    outsider = client(strict_aws, "ec2", assume(strict_aws, ci, other))
    failed = outsider.copy_image(SourceImageId=source, SourceRegion=REGION, Name="kms-copy-2", Encrypted=True,
                                 KmsKeyId=key_arn)["ImageId"]
    assert wait_state(outsider, failed, "failed")["ImageId"] == failed
